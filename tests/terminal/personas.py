"""Fake terminals for the pty harness: what each real one answers to the probe's questions.

Replies as measured in the real emulators (issue 15): xterm 379 run as `xterm -ti vt340`,
kitty 0.26.5 (Debian 12) and a 0.28+ kitty, foot 1.13, mlterm (no XTVERSION), tmux 3.3a.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field

ESC = b"\x1b"
ST = b"\x1b\\"


@dataclass(frozen=True)
class Persona:
    name: str
    xtversion: str | None
    da1: str  # the parameters of CSI ? ... c
    kitty: bool = False  # answers the graphics query OK
    cell: tuple[int, int] | None = (10, 20)  # answers CSI 16 t
    # tmux: answers for itself, and passes wrapped queries to `outer` only with passthrough on
    tmux: bool = False
    passthrough: bool = False
    outer: Persona | None = None


XTERM = Persona("xterm-379", "XTerm(379)", "63;1;2;4;6;9;15;16;22;28", cell=(6, 13))
KITTY_OLD = Persona("kitty-0.26.5", "kitty(0.26.5)", "62;", kitty=True, cell=(9, 19))
KITTY_NEW = Persona("kitty-0.35.2", "kitty(0.35.2)", "62;", kitty=True, cell=(9, 19))
FOOT = Persona("foot-1.13", "foot(1.13.1)", "62;4;22", cell=(8, 17))
MLTERM = Persona("mlterm", None, "63;1;2;3;4;6;7;15;18;22;29", cell=None)
TMUX = Persona("tmux-3.3a", "tmux 3.3a", "1;2", cell=None, tmux=True, outer=XTERM)
TMUX_IN_KITTY = Persona(
    "tmux-3.3a-kitty-pass", "tmux 3.3a", "1;2", cell=None, tmux=True, passthrough=True, outer=KITTY_NEW
)
TMUX_IN_OLD_KITTY = Persona(
    "tmux-3.3a-oldkitty-pass", "tmux 3.3a", "1;2", cell=None, tmux=True, passthrough=True, outer=KITTY_OLD
)
SILENT = Persona("silent", None, "", cell=None)

_QUERY = re.compile(
    rb"\x1bPtmux;(?P<wrapped>(?:[^\x1b]|\x1b\x1b)*)\x1b\\"
    rb"|\x1b_G(?P<kitty>[^\x1b]*)\x1b\\"
    rb"|\x1b\[>0?q|\x1b\[(?:16|14|18)t|\x1b\[0?c"
)


def answer(persona: Persona, query: bytes, *, wrapped: bool = False) -> tuple[bytes, str | None]:
    """(reply bytes, pane title set) for one query, as `persona` would answer it."""
    if persona is SILENT:
        return b"", None
    match = _QUERY.fullmatch(query)
    if match is None:
        return b"", None
    if match.group("wrapped") is not None:
        if not (persona.tmux and persona.passthrough and persona.outer):
            return b"", None
        inner = match.group("wrapped").replace(b"\x1b\x1b", b"\x1b")
        return answer(persona.outer, inner, wrapped=True)
    if match.group("kitty") is not None:
        if persona.tmux and not wrapped:
            # tmux 3.3a keeps an unknown APC string as the pane title (issue 15)
            return b"", match.group("kitty").decode("ascii", "replace")
        if persona.kitty:
            ident = match.group("kitty").split(b",")[0]
            return b"\x1b_G" + ident + b";OK" + ST, None
        return b"", None
    if query.startswith(b"\x1b[>"):
        return (b"\x1bP>|" + persona.xtversion.encode() + ST if persona.xtversion else b""), None
    if query == b"\x1b[16t":
        return (b"\x1b[6;%d;%dt" % (persona.cell[1], persona.cell[0]) if persona.cell else b""), None
    if query in (b"\x1b[14t", b"\x1b[18t"):
        return b"", None  # the cell reply is enough; real terminals answer these too
    return b"\x1b[?" + persona.da1.encode() + b"c", None


@dataclass
class FakeTerminal:
    """The master side of a pty: reads what the program writes, answers like `persona`
    after `delay` seconds, records every query and any pane title tmux would set."""

    master: int
    persona: Persona
    delay: float
    written: bytearray = field(default_factory=bytearray)
    titles: list[str] = field(default_factory=list)
    queries: list[bytes] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def _run(self) -> None:
        import select

        scanned = 0
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.written += chunk
            replies = bytearray()
            for match in _QUERY.finditer(bytes(self.written), scanned):
                scanned = match.end()
                self.queries.append(match.group(0))
                reply, title = answer(self.persona, match.group(0))
                replies += reply
                if title is not None:
                    self.titles.append(title)
            if replies:
                time.sleep(self.delay)
                try:
                    os.write(self.master, bytes(replies))
                except OSError:
                    return
