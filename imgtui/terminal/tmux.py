"""tmux: whether we run inside it, whether it lets escape sequences through, and the wrapper.

tmux keeps sequences it does not know for itself: an unwrapped kitty graphics query (APC) is
taken as the pane title and stays after we exit. Wrapped in `DCS tmux; ... ST` (every ESC
inside doubled) it reaches the outer terminal, but only with `allow-passthrough on`
(https://github.com/tmux/tmux/wiki/FAQ).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping

PASSTHROUGH_CONF_LINE = "set -g allow-passthrough on"


def inside_tmux(env: Mapping[str, str] | None = None) -> bool:
    return bool((os.environ if env is None else env).get("TMUX"))


def passthrough_allowed(timeout: float = 0.5) -> bool | None:
    """What `tmux show -gv allow-passthrough` says: True for on/all, False for off, None when
    tmux cannot be asked (not installed, no server, too slow)."""
    tmux = shutil.which("tmux")
    if tmux is None:
        return None
    try:
        done = subprocess.run(
            [tmux, "show", "-gv", "allow-passthrough"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() in ("on", "all")


def wrap(sequence: bytes) -> bytes:
    """`sequence` in tmux's passthrough envelope."""
    return b"\x1bPtmux;" + sequence.replace(b"\x1b", b"\x1b\x1b") + b"\x1b\\"
