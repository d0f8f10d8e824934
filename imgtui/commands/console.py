"""Where commands write: results on stdout (flushed per line, so a pipe sees them at once),
errors and progress on stderr, and a tally of what was done for the Ctrl-C summary."""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from typing import TextIO

from imgtui.common.text import safe_text


class Console:
    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.tally: Counter[str] = Counter()
        self._progress_shown = False
        # Progress only on a terminal: a pipe or a log file gets the results and errors only.
        self.progress_enabled = _isatty(self.stderr)

    def line(self, text: str = "", *, flush: bool = True) -> None:
        """One line of results. Raises BrokenPipeError when the reader went away."""
        self.stdout.write(text + "\n")
        if flush:
            self.stdout.flush()

    def width(self) -> int:
        return shutil.get_terminal_size((100, 24)).columns

    def note(self, text: str) -> None:
        """A message for the person (stderr), never mixed into the results."""
        self._clear_progress()
        self.stderr.write(text + "\n")
        self.stderr.flush()

    def error(self, code: int | str, message: str, item: str | None = None, *, counted: bool = True) -> None:
        """`ERROR code: message` on stderr, the item (an id, a path) first when there is one;
        `counted` adds it to the tally's failures (False: the caller counts it its own way)."""
        if counted:
            self.tally["failed"] += 1
        where = f"{safe_text(item)}: " if item is not None else ""
        self.note(f"ERROR {code}: {where}{safe_text(message, multiline=False)}")

    def progress(self, text: str) -> None:
        """Replace the progress line (a terminal only)."""
        if not self.progress_enabled:
            return
        self.stderr.write("\r\x1b[K" + text)
        self.stderr.flush()
        self._progress_shown = True

    def end_progress(self) -> None:
        self._clear_progress()

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.stderr.write("\r\x1b[K")
            self.stderr.flush()
            self._progress_shown = False

    def summary(self) -> str:
        """`3 copied, 1 failed`: the tally so far, for the end of a long command or Ctrl-C."""
        parts = [f"{count} {what}" for what, count in self.tally.items() if count]
        return ", ".join(parts) if parts else "nothing done"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
