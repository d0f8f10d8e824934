"""`imgtui` command line: `imgtui serve ...` runs the emulator, `imgtui ls|put|cp|...` the
scripting commands (imgtui.commands); anything else opens the TUI.

Each part owns its own argument parser, so this stays a small dispatcher.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        from imgtui.emulator.cli import main as serve_main

        return serve_main(args[1:])
    from imgtui.commands import COMMANDS

    if args[:1] and args[0] in COMMANDS:
        from imgtui.commands import main as commands_main

        return commands_main(args)
    if args[:1] in (["-h"], ["--help"]):
        _help()
    # Start-up allocates about a million objects that live as long as the app (modules,
    # classes, pydantic schemas); the cyclic GC would walk them again and again while
    # they pile up (measured: ~65 ms of collections before the first frame, against ~12 ms
    # for an empty Textual app). The TUI freezes them and turns the GC back on before
    # App.run (imgtui.ui.cli.main); `finally` covers every exit before that.
    gc.disable()
    try:
        # The built-in backends, registered before the TUI asks for one: the service would
        # otherwise scan every installed package's entry points to find them.
        import imgtui.backends  # noqa: F401
        from imgtui.ui.cli import main as tui_main

        return tui_main(args)
    finally:
        gc.enable()


def _help() -> NoReturn:
    """The TUI's options, then every command (`imgtui COMMAND --help` for each one's); exits
    as argparse's own --help does."""
    from imgtui.commands import command_summary
    from imgtui.ui.cli import build_parser

    try:
        build_parser().print_help()
        print("\ncommands (imgtui COMMAND --help):")
        print("  serve       run a local Cloudflare Images API emulator")
        print(command_summary(), flush=True)
    except BrokenPipeError:  # `imgtui --help | head`: the reader has what it wanted
        # https://docs.python.org/3/library/signal.html#note-on-sigpipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(0)
