"""Issue 9, finding 1, through a real terminal: imgtui in tmux, browsing a REST server whose
every string holds `ESC]2;PWNED BEL` (set the window title) or `ESC[2J ESC[?1049l` (wipe the
screen, leave the alternate screen). tmux is the terminal: its `#{pane_title}` must never
change and `#{alternate_on}` must stay 1 while the rows are walked.

Skipped when tmux is not installed (`apt-get install -y tmux`). Bounded: < 20 s.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ui.hostile import ACCOUNT_ID, SHOWN, TITLE, HostileServer, hostile_server

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

DEADLINE_SECONDS = 20.0


class Tmux:
    """One private tmux server (its own socket): nothing of the user's sessions is touched."""

    def __init__(self, socket: Path) -> None:
        self.base = ["tmux", "-S", str(socket), "-f", "/dev/null"]

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=5, check=True)
        return done.stdout

    def show(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", "imgtui", fmt).strip()

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "imgtui")


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as running:
        yield running


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    # A short socket path: AF_UNIX paths are limited to ~100 bytes and tmp_path can be long.
    socket = Path("/tmp") / f"imgtui-tmux-{os.getpid()}-{time.monotonic_ns()}"
    terminal = Tmux(socket)
    try:
        yield terminal
    finally:
        subprocess.run([*terminal.base, "kill-server"], capture_output=True, timeout=5, check=False)
        socket.unlink(missing_ok=True)


def wait_for(predicate: Callable[[], bool], deadline: float, what: str) -> None:
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_titles_and_alternate_screen_survive_hostile_rows(server: HostileServer, tmux: Tmux, tmp_path: Path):
    deadline = time.monotonic() + DEADLINE_SECONDS
    env = {
        "IMGTUI_CONFIG_DIR": str(tmp_path / "config"),
        "CLOUDFLARE_API_TOKEN": "token",
        "TERM": "xterm-256color",
        "TZ": "UTC",
    }
    command = " ".join(
        [
            "env",
            *(f"{key}={shlex.quote(value)}" for key, value in env.items()),
            shlex.quote(sys.executable),
            "-m",
            "imgtui",
            "--account-id",
            ACCOUNT_ID,
            "--endpoint",
            shlex.quote(server.api_url),
            "--preview",
            "off",
        ]
    )
    # The pause lets the test read the pane's own title before imgtui can write anything.
    tmux.run("new-session", "-d", "-s", "imgtui", "-x", "140", "-y", "40", f"sleep 0.5; exec {command}")
    with_title = tmux.show("#{pane_title}")
    assert "PWNED" not in with_title

    def check_terminal() -> None:
        assert tmux.show("#{pane_title}") == with_title  # no OSC 2 got through
        assert "PWNED" not in tmux.show("#{window_name}")

    wait_for(lambda: tmux.show("#{alternate_on}") == "1", deadline, "imgtui to take the alternate screen")
    rows = f"{len(server.records)} loaded"
    wait_for(lambda: rows in tmux.screen(), deadline, "the hostile rows")
    time.sleep(0.3)  # the first row's details too
    check_terminal()
    assert SHOWN[TITLE] in tmux.screen()  # shown as an escape instead

    # Walk every row (each highlight loads that image's details: more hostile strings, and
    # for one row a hostile error message).
    screens: list[str] = []
    for _ in range(len(server.records)):
        tmux.run("send-keys", "-t", "imgtui", "j")
        time.sleep(0.3)  # past the details debounce and the fetch
        check_terminal()
        assert tmux.show("#{alternate_on}") == "1"  # no ESC[?1049l got through
        screens.append(tmux.screen())
    assert any("ERROR 5400" in screen and "denied \\x1b]2;PWNED" in screen for screen in screens)
    check_terminal()
    assert tmux.show("#{alternate_on}") == "1"
    assert tmux.show("#{pane_dead}") != "1"  # imgtui is still running

    tmux.run("send-keys", "-t", "imgtui", "q")
    wait_for(lambda: _gone(tmux), deadline, "imgtui to quit")


def _gone(tmux: Tmux) -> bool:
    try:
        return tmux.show("#{alternate_on}") == "0"
    except subprocess.CalledProcessError:
        return True  # the session ended with imgtui
