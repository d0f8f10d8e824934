"""`imgtui completion bash|zsh|fish`: a completion script generated from the parser (shtab)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .base import EXIT_OK, Command
from .console import Console

SHELLS = ("bash", "zsh", "fish")


def configure_completion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS)


def completion_runner(build_parser: Callable[[], argparse.ArgumentParser]) -> Command:
    """The command, given how to build the whole `imgtui` parser it describes."""

    async def run(args: argparse.Namespace, console: Console) -> int:
        import shtab  # only this command needs it

        console.line(shtab.complete(build_parser(), shell=args.shell))
        return EXIT_OK

    return Command(
        "completion",
        "print a shell completion script (bash, zsh, fish)",
        configure_completion,
        run,
        uses_library=False,
    )
