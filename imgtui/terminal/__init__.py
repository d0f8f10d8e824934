"""What the terminal is and what it can draw: a Textual-free probe and its decision.

    decision = detect("auto")   # ask the terminal once, before the app owns stdin
    describe()                  # the decision and its reasons, one line each (imgtui doctor)
    current()                   # the last decision, or None before detect()

The decision and its reasons are also logged to the "imgtui.terminal" logger.
"""

from __future__ import annotations

from imgtui.terminal.decide import Decision, Mode
from imgtui.terminal.detect import current, describe, detect, measure_cell_size

__all__ = ["Decision", "Mode", "current", "describe", "detect", "measure_cell_size"]
