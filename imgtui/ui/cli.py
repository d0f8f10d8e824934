"""Placeholder until the TUI lands: keeps `imgtui` from failing."""

from __future__ import annotations


def main(argv: list[str]) -> int:
    print("imgtui: the terminal browser is not built yet.")
    return 0
