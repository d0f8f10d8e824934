"""The scripting commands' parser and runner (`imgtui.commands.main` calls `main` here).

A new command family is a module with a `COMMANDS` tuple of `Command`s, added to `_FAMILIES`
(and its names to `imgtui.commands.COMMANDS`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
    try:
        return asyncio.run(command.run(args, console))
    except ImagesError as error:  # an operation that stops the whole command (e.g. a list page)
        console.end_progress()
        console.error(error.code, error.message)
        return EXIT_FAILED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except OSError as error:  # the disk under a file the command writes (an id map, a download)
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


def _silence_stdout() -> None:
    """The reader of our stdout left (`| head`): point stdout at /dev/null so the flush at
    exit does not raise again (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
