"""Where a copy goes: the desktop's clipboard tool when the session is local and one is
installed (wl-copy, xclip, xsel, pbcopy, clip.exe), else OSC 52 (the terminal's own
clipboard escape, which also works over SSH but which some terminals ignore: GNOME Terminal
and Terminal.app among them). The `clipboard` setting picks: auto, native or osc52.

https://invisible-island.net/xterm/ctlseqs/ctlseqs.html#h3-Operating-System-Commands
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Literal

ClipboardRoute = Literal["auto", "native", "osc52"]
CLIPBOARD_ROUTES: tuple[ClipboardRoute, ...] = ("auto", "native", "osc52")


def native_command(
    environ: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> list[str] | None:
    """The local clipboard tool's command line, or None when there is none to use."""
    candidates: list[list[str]] = []
    if sys.platform == "darwin":
        candidates.append(["pbcopy"])
    if environ.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if environ.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    if environ.get("WSL_DISTRO_NAME") or sys.platform == "win32":
        candidates.append(["clip.exe"])
    for command in candidates:
        if which(command[0]):
            return command
    return None


def is_remote(environ: Mapping[str, str]) -> bool:
    """An SSH session: the local tool would fill the server's clipboard, not the user's."""
    return bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))


def choose_command(route: ClipboardRoute, environ: Mapping[str, str]) -> list[str] | None:
    """The native command to use, or None for OSC 52."""
    if route == "osc52" or (route == "auto" and is_remote(environ)):
        return None
    return native_command(environ)


def copy_with(command: list[str], text: str) -> bool:
    """Run the tool with `text` on its stdin (blocking, 3 s at most); False when it failed."""
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0
