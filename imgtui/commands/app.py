"""The scripting commands' parser and runner (`imgtui.commands.main` calls `main` here).

A new command family is a module with a `COMMANDS` tuple of `Command`s, added to `_FAMILIES`
(and its names to `imgtui.commands.COMMANDS`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from imgtui import __version__
from imgtui.common.text import safe_text
from imgtui.service import ErrorCode, ImagesError

from . import copying, doctor, listing, reading, writing
from .base import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Command, UsageError, add_library_options
from .completion import completion_runner
from .console import Console

_FAMILIES = (listing, writing, reading, copying, doctor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgtui", description="Script Cloudflare Images and imgtui libraries."
    )
    parser.add_argument("--version", action="version", version=f"imgtui {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _commands().values():
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        if command.uses_library:
            add_library_options(sub)
        sub.add_argument("--version", action="version", version=f"imgtui {__version__}")
    return parser


def _commands() -> dict[str, Command]:
    table = {command.name: command for family in _FAMILIES for command in family.COMMANDS}
    table["completion"] = completion_runner(build_parser)
    return table


def command_summary() -> str:
    """One line per command, for `imgtui --help`."""
    return "\n".join(f"  {command.name:<11} {command.help}" for command in _commands().values())


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version (0) and usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    console = Console()
    command = _commands()[args.command]
    stopped: list[int] = []
    try:
        code = asyncio.run(_stoppable(command, args, console, stopped))
        return _stopped(args, console, stopped[0]) if stopped else code
    except asyncio.CancelledError:
        if not stopped:
            raise
        return _stopped(args, console, stopped[0])
    except ImagesError as error:  # an operation that stops the whole command (e.g. a list page)
        console.end_progress()
        console.error(error.code, error.message)
        return EXIT_FAILED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except OSError as error:  # the disk under a file the command writes (an id map, a download)
        if stopped:  # most likely the terminal SIGHUP closed (EIO): the stop is the story
            return _stopped(args, console, stopped[0])
        console.end_progress()
        console.error(ErrorCode.STORAGE, f"{error.filename or ''}: {error.strerror or error}")
        return EXIT_FAILED
    except UsageError as error:
        console.end_progress()
        print(f"imgtui {args.command}: {safe_text(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.end_progress()
        console.note(f"imgtui {args.command}: interrupted ({console.summary()})")
        return EXIT_INTERRUPTED


def _stopped(args: argparse.Namespace, console: Console, signum: int) -> int:
    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
        console.end_progress()
        console.note(f"imgtui {args.command}: stopped by {signal.Signals(signum).name} ({console.summary()})")
    return 128 + signum  # as a shell reports a death by that signal: 143, 129


# SIGTERM (kill, a service manager) and SIGHUP (the terminal closed) stop a command the way
# Ctrl-C does: cancelled, so its cleanup runs (an interrupted `cp` saves its id map).
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


async def _stoppable(command: Command, args: argparse.Namespace, console: Console, stopped: list[int]) -> int:
    """`command.run`, cancelled by a stop signal (recorded in `stopped`); a second signal
    cancels the cleanup too."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def stop(signum: int) -> None:
        stopped.append(signum)
        task.cancel()

    installed = []
    for signum in _STOP_SIGNALS:
        try:
            # https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.add_signal_handler
            loop.add_signal_handler(signum, stop, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows; not the main thread
            continue
        installed.append(signum)
    try:
        return await command.run(args, console)
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _silence_stdout() -> None:
    """The reader of our stdout left (`| head`): point stdout at /dev/null so the flush at
    exit does not raise again (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
