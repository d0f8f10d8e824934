"""`imgtui ls/info/put/get/edit/rm/sign/cp/completion`: scripting commands over the service.

`COMMANDS` holds the names `imgtui.cli` dispatches on. It is spelled out here so that starting
the TUI does not import the commands (tests/commands check it against the table in app.py).
Exit status: 0 success, 1 a failed operation (`ERROR code: message` on stderr, per item),
2 bad usage, 130 interrupted.
"""

from __future__ import annotations

COMMANDS = frozenset({"ls", "info", "put", "get", "edit", "rm", "sign", "cp", "doctor", "completion"})


def main(argv: list[str]) -> int:
    from .app import main as run

    return run(argv)


def command_summary() -> str:
    from .app import command_summary as summary

    return summary()
