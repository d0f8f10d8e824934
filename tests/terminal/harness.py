"""Run a Python snippet on the slave side of a pty whose master is a `FakeTerminal`."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import stat
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.terminal.personas import FakeTerminal, Persona

ROOT = Path(__file__).resolve().parents[2]

# After the probe, the child reads its stdin for this long: whatever arrives is what the app
# would have read as keys.
LEAK_WINDOW = 0.3

CHILD = """
import json, os, select, sys, termios, time
started = time.monotonic()
{run}
elapsed = time.monotonic() - started
fd = sys.stdin.fileno()
saved = termios.tcgetattr(fd)
raw = termios.tcgetattr(fd)
raw[3] &= ~(termios.ICANON | termios.ECHO)
termios.tcsetattr(fd, termios.TCSANOW, raw)
leaked = b""
end = time.monotonic() + {leak_window}
while (left := end - time.monotonic()) > 0:
    if select.select([fd], [], [], left)[0]:
        leaked += os.read(fd, 4096)
termios.tcsetattr(fd, termios.TCSANOW, saved)
from imgtui.terminal import current, describe
decision = current()
result = dict(mode=mode, elapsed=elapsed, leaked=leaked.decode("latin-1"), describe=describe(),
              cell=list(decision.cell_size) if decision else None,
              warning=decision.warning if decision else None)
open(os.environ["RESULT_FILE"], "w").write(json.dumps(result))
"""

PROBE_ONLY = "from imgtui.terminal import detect\nmode = detect({asked!r}).mode"
WITH_TEXTUAL_IMAGE = (
    "from imgtui.ui.preview.terminal import prepare_terminal, cell_size\nmode = prepare_terminal({asked!r})"
)


@dataclass
class Outcome:
    mode: str
    elapsed: float
    leaked: str
    describe: list[str]
    cell: list[int] | None
    warning: str | None
    queries: list[bytes]
    titles: list[str]
    written: bytes


def fake_tmux_bin(folder: Path, passthrough: bool) -> Path:
    """A `tmux` on PATH that answers `show -gv allow-passthrough` like a real server."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "tmux"
    script.write_text(f"#!/bin/sh\necho {'on' if passthrough else 'off'}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def run(
    persona: Persona, delay: float, tmp: Path, *, asked: str = "auto", textual_image: bool = False
) -> Outcome:
    result_file = tmp / f"result-{time.monotonic_ns()}.json"
    body = (WITH_TEXTUAL_IMAGE if textual_image else PROBE_ONLY).format(asked=asked)
    script = CHILD.format(run=body, leak_window=LEAK_WINDOW)
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    env.update(RESULT_FILE=str(result_file), TERM="xterm-256color", PYTHONPATH=str(ROOT))
    if persona.tmux:
        env["TMUX"] = "/tmp/fake-tmux,1,0"
        env["PATH"] = f"{fake_tmux_bin(tmp / 'bin', persona.passthrough)}{os.pathsep}{env.get('PATH', '')}"
    master, slave = pty.openpty()
    # 120x40 cells; pixels only where the persona reports none by CSI 16 t (so the kernel's
    # size is the fallback the probe may use)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    terminal = FakeTerminal(master, persona, delay)
    terminal.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            env=env,
            timeout=20,
            check=False,
            start_new_session=True,
        )
    finally:
        os.close(slave)
        terminal.stop()
        os.close(master)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    data = json.loads(result_file.read_text())
    return Outcome(**data, queries=terminal.queries, titles=terminal.titles, written=bytes(terminal.written))


@dataclass
class AppRun:
    written: bytes
    queries: list[bytes]
    titles: list[str]
    returncode: int | None
    # Where `written` stood when each of the `keys` was typed, and at the end: the output
    # that followed key i is written[marks[i]:marks[i + 1]].
    marks: list[int] = field(default_factory=list)


def run_app(
    persona: Persona,
    delay: float,
    tmp: Path,
    *,
    wait_for: bytes,
    timeout: float = 20.0,
    keys: bytes = b"",
    key_pause: float = 1.0,
) -> AppRun:
    """imgtui itself on the pty (a demo library): wait until the output matches `wait_for`
    (a regular expression: the picture), a moment more, type each of `keys` with
    `key_pause` seconds after it, then quit with ctrl+q."""
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT), IMGTUI_CONFIG_DIR=str(tmp / "config"), TZ="UTC")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    terminal = FakeTerminal(master, persona, delay)
    terminal.start()
    command = [sys.executable, "-m", "imgtui", "--library", str(tmp / "library"), "--demo"]
    process = subprocess.Popen(
        command,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # Textual draws on stderr
    )
    try:
        deadline = time.monotonic() + timeout
        pattern = re.compile(wait_for)
        while not pattern.search(terminal.written) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # any late reply would have arrived as keys by now
        marks = []
        for key in keys:
            marks.append(len(terminal.written))
            terminal.type(bytes([key]))
            time.sleep(key_pause)
        marks.append(len(terminal.written))
        terminal.type(b"\x11")  # ctrl+q
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    finally:
        os.close(slave)
        terminal.stop()
        os.close(master)
    return AppRun(bytes(terminal.written), terminal.queries, terminal.titles, process.returncode, marks)
