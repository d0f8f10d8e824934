"""`imgtui --debug [LOG]`: a log file for bug reports.

What is logged: versions, the terminal's environment names, what is open (the library's
label, which never holds a credential), and imgtui's and Textual's log records. Every
record passes a filter that replaces the API token, wherever it might appear, by `***`.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from collections.abc import Iterable
from pathlib import Path

from imgtui import __version__

# Terminal facts worth a bug report; never the whole environment (it may hold secrets).
_TERMINAL_VARS = ("TERM", "TERM_PROGRAM", "COLORTERM", "TMUX", "SSH_CONNECTION", "WAYLAND_DISPLAY", "DISPLAY")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, None
        return True


def start_debug_log(path: Path, library_label: str, *, secrets: Iterable[str | None] = ()) -> Path:
    """Log to `path` (appended) from now on; returns the path written."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets([*secrets, os.environ.get("CLOUDFLARE_API_TOKEN")]))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for noisy in ("httpcore", "asyncio", "PIL"):  # wire chatter, not what a report needs
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log = logging.getLogger("imgtui")
    log.info("imgtui %s, Python %s on %s", __version__, sys.version.split()[0], platform.platform())
    log.info("terminal: %s", {name: os.environ[name] for name in _TERMINAL_VARS if name in os.environ})
    log.info("library: %s", library_label)
    return path
