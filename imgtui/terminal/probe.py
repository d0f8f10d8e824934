"""Ask the terminal on its own file descriptors, before anything else reads them.

Echo and line buffering are off while asking, so replies neither show nor wait for Enter.
The read ends at DA1's reply (asked last, answered by every terminal), or at the deadline:
a silent terminal costs the whole timeout once, a slow link (replies 150 or 500 ms late)
still gets the right answer, and every reply that came is consumed here, none left for the
app to read as keys.
"""

from __future__ import annotations

import os
import select
import termios
import time

from imgtui.terminal.replies import has_da1

DEFAULT_TIMEOUT = 1.0  # seconds for the whole exchange
# After DA1, how long replies from tmux's outer terminal (wrapped queries) may still come.
OUTER_GRACE = 0.2


def exchange(
    query: bytes, in_fd: int, out_fd: int, *, timeout: float = DEFAULT_TIMEOUT, wait_outer: bool = False
) -> bytes:
    """Write `query`, return all bytes read until DA1's reply (or `timeout`)."""
    saved = termios.tcgetattr(in_fd)
    quiet = termios.tcgetattr(in_fd)
    quiet[3] &= ~(termios.ICANON | termios.ECHO)
    quiet[6][termios.VMIN] = 0
    quiet[6][termios.VTIME] = 0
    termios.tcsetattr(in_fd, termios.TCSANOW, quiet)
    received = bytearray()
    try:
        os.write(out_fd, query)
        deadline = time.monotonic() + timeout
        da1_at: float | None = None
        while True:
            now = time.monotonic()
            end = deadline if da1_at is None else min(deadline, da1_at + OUTER_GRACE)
            if now >= end:
                break
            ready, _, _ = select.select([in_fd], [], [], end - now)
            if not ready:
                break
            chunk = os.read(in_fd, 4096)
            if not chunk:
                break
            received += chunk
            if has_da1(bytes(received)):
                if not wait_outer or _outer_answered(bytes(received)):
                    break
                if da1_at is None:
                    da1_at = time.monotonic()
    finally:
        termios.tcsetattr(in_fd, termios.TCSANOW, saved)
    return bytes(received)


def _outer_answered(data: bytes) -> bool:
    """Inside tmux: the outer terminal's XTVERSION (the second one) and kitty replies are in."""
    return data.count(b"\x1b_G") >= 1 and data.count(b"\x1bP>|") >= 2
