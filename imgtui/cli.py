"""`imgtui` command line: `imgtui serve ...` runs the emulator; anything else opens the TUI.

Each part owns its own argument parser, so this stays a two-line dispatcher.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        from imgtui.emulator.cli import main as serve_main

        return serve_main(args[1:])
    from imgtui.ui.cli import main as tui_main

    return tui_main(args)
