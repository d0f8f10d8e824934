"""Run the probe once, decide, remember and log the decision (logger "imgtui.terminal")."""

from __future__ import annotations

import fcntl
import logging
import struct
import sys
import termios

from imgtui.terminal import probe, queries, tmux
from imgtui.terminal.decide import Decision, Mode, decide
from imgtui.terminal.replies import parse

logger = logging.getLogger("imgtui.terminal")

_current: Decision | None = None


def _tty_fds() -> tuple[int, int] | None:
    stdin, stdout = sys.__stdin__, sys.__stdout__
    try:
        if stdin is None or stdout is None or not (stdin.isatty() and stdout.isatty()):
            return None
        return stdin.fileno(), stdout.fileno()
    except (OSError, ValueError):
        return None


def measure_cell_size(fd: int | None = None) -> tuple[int, int] | None:
    """The cell size in pixels from the kernel's window size (TIOCGWINSZ), or None when the
    terminal does not fill in pixels. Cheap, no I/O on the terminal: safe while the app runs,
    so a resize or font change (SIGWINCH) can re-measure."""
    if fd is None:
        fds = _tty_fds()
        if fds is None:
            return None
        fd = fds[1]
    try:
        rows, columns, width, height = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    if not (rows and columns and width and height):
        return None
    return width // columns, height // rows


def detect(
    asked: Mode = "auto", *, tgp_wraps_for_tmux: bool = False, timeout: float = probe.DEFAULT_TIMEOUT
) -> Decision:
    """Ask the terminal (at most `timeout` seconds), decide, log, remember. Never raises.

    Call it before anything else reads the terminal (before `App.run()`)."""
    global _current
    fds = _tty_fds()
    in_tmux = tmux.inside_tmux()
    passthrough = tmux.passthrough_allowed() if in_tmux and fds is not None else None
    replies = None
    ioctl_cell = None
    if fds is not None:
        query = queries.build(in_tmux=in_tmux, passthrough=bool(passthrough))
        try:
            data = probe.exchange(query, *fds, timeout=timeout, wait_outer=in_tmux and bool(passthrough))
        except (OSError, termios.error) as error:
            logger.info("terminal probe failed: %s", error)
            data = b""
        replies = parse(data)
        ioctl_cell = measure_cell_size(fds[1])
        logger.debug("terminal replies: %r", data)
    decision = decide(
        replies,
        asked=asked,
        tty=fds is not None,
        in_tmux=in_tmux,
        passthrough=passthrough,
        tgp_wraps_for_tmux=tgp_wraps_for_tmux,
        ioctl_cell=ioctl_cell,
    )
    _current = decision
    for line in describe(decision):
        logger.info("%s", line)
    return decision


def current() -> Decision | None:
    return _current


def describe(decision: Decision | None = None) -> list[str]:
    """The decision and why, one line each: for `imgtui doctor` and the --debug log."""
    decision = decision or _current
    if decision is None:
        return ["terminal not probed yet"]
    lines = [
        f"preview mode: {decision.mode}",
        f"terminal: {decision.terminal.label}",
    ]
    if decision.outer is not None:
        lines.append(f"outer terminal (through tmux): {decision.outer.label}")
    lines.append(f"can draw: {', '.join(sorted(decision.can_draw))}")
    lines.append(f"cell size: {decision.cell_size[0]}x{decision.cell_size[1]} px")
    lines += [f"why: {reason}" for reason in decision.reasons]
    if decision.warning:
        lines.append(f"warning: {decision.warning}")
    if tmux.inside_tmux() and "inside tmux; allow-passthrough off" in decision.reasons:
        lines.append(f"to let graphics through tmux, add to ~/.tmux.conf: {tmux.PASSTHROUGH_CONF_LINE}")
    return lines


def _reset_for_tests() -> None:
    global _current
    _current = None


__all__ = ["current", "describe", "detect", "measure_cell_size"]
