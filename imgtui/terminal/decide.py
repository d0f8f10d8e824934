"""From the terminal's replies to a preview mode, with the reasons. Pure: no I/O.

Rules (the model is yazi's adapter detection, yazi-adapter/src/emulator.rs):
- DA1 lists 4: Sixel (xterm -ti vt340, mlterm, foot, WezTerm, tmux built with Sixel).
- the kitty graphics query answered OK: TGP, but textual-image draws TGP with unicode
  placeholders, which kitty has only since 0.28 (https://sw.kovidgoyal.net/kitty/graphics-protocol/
  "Unicode placeholders"): an older kitty gets half-cell. Inside tmux TGP also needs tmux's
  passthrough and a textual-image that wraps its output for tmux (0.14 does, 0.12 does not).
- DA1 answered, nothing else: half-cell. No DA1 within the time limit: half-cell too.
- stdout not a terminal (tests, pipes): unicode, as textual-image does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from imgtui.terminal.replies import Replies

Mode = Literal["auto", "tgp", "sixel", "halfcell", "unicode", "off"]
FALLBACK_CELL = (10, 20)  # a VT340 cell, textual-image's own default
KITTY_PLACEHOLDERS_SINCE = (0, 28)
# Terminals that answer the kitty graphics query OK but draw no unicode placeholders, which
# textual-image's TGP needs: every cell showed placeholder glyphs (Konsole 22.12, seen under
# Xvfb). https://sw.kovidgoyal.net/kitty/graphics-protocol/#unicode-placeholders
NO_PLACEHOLDERS = frozenset({"konsole"})

_NAME_VERSION = re.compile(r"^\s*([A-Za-z][\w.-]*)[\s(]+v?(\d+(?:\.\d+)*)")


@dataclass(frozen=True, slots=True)
class Terminal:
    name: str  # lower case: "kitty", "xterm", "foot", "tmux", "" when unknown
    version: tuple[int, ...]

    @property
    def label(self) -> str:
        if not self.name:
            return "unknown (no XTVERSION reply)"
        return f"{self.name} {'.'.join(map(str, self.version))}".rstrip()


def identify(version_text: str | None) -> Terminal:
    """`kitty(0.26.5)`, `XTerm(379)`, `foot(1.13.1)`, `tmux 3.3a` -> name and numeric version."""
    if not version_text:
        return Terminal("", ())
    match = _NAME_VERSION.match(version_text)
    if match is None:
        return Terminal(version_text.strip().split("(")[0].lower(), ())
    return Terminal(match.group(1).lower(), tuple(int(p) for p in match.group(2).split(".")))


@dataclass(frozen=True, slots=True)
class Decision:
    mode: Mode  # what the preview will use
    can_draw: frozenset[str]  # the renderer modes this terminal can really draw
    cell_size: tuple[int, int]  # (width, height) in pixels
    terminal: Terminal
    outer: Terminal | None  # inside tmux with passthrough: the terminal tmux runs in
    reasons: tuple[str, ...] = field(default=())
    warning: str | None = None  # a forced mode the terminal cannot draw


def decide(
    replies: Replies | None,
    *,
    asked: Mode = "auto",
    tty: bool = True,
    in_tmux: bool = False,
    passthrough: bool | None = None,
    tgp_wraps_for_tmux: bool = False,
    ioctl_cell: tuple[int, int] | None = None,
) -> Decision:
    reasons: list[str] = []
    if not tty or replies is None:
        # Nothing to ask and nothing to spoil (tests, pipes): any renderer asked for is kept.
        reasons.append("stdout is not a terminal: unicode unless asked, no probe")
        every = frozenset({"tgp", "sixel", "halfcell", "unicode"})
        return _finish("unicode", every, FALLBACK_CELL, Terminal("", ()), None, asked, reasons)
    versions = replies.versions
    terminal = identify(versions[0] if versions else None)
    outer = identify(versions[1]) if in_tmux and len(versions) > 1 else None
    can = {"halfcell", "unicode"}
    if in_tmux:
        state = {True: "on", False: "off", None: "unknown (tmux not asked)"}[passthrough]
        reasons.append(f"inside tmux; allow-passthrough {state}")
    if not replies.answered:
        reasons.append("no DA1 reply within the time limit: half-cell")
    else:
        reasons.append(f"terminal: {terminal.label}; DA1 {';'.join(map(str, replies.da1 or ()))}")
        if 4 in (replies.da1 or ()):
            can.add("sixel")
            reasons.append("DA1 lists 4: Sixel")
        if replies.kitty == "OK":
            kitty = outer if in_tmux else terminal
            if kitty is not None and kitty.name == "kitty" and kitty.version < KITTY_PLACEHOLDERS_SINCE:
                reasons.append(
                    f"kitty graphics answered OK, but {kitty.label} has no unicode placeholders (0.28+)"
                )
            elif kitty is not None and kitty.name in NO_PLACEHOLDERS:
                reasons.append(f"kitty graphics answered OK, but {kitty.label} draws no unicode placeholders")
            elif in_tmux and not tgp_wraps_for_tmux:
                reasons.append(
                    "kitty graphics answered OK through tmux, but this textual-image does not wrap TGP for tmux"
                )
            else:
                can.add("tgp")
                reasons.append("kitty graphics query answered OK: TGP")
        elif replies.kitty is not None:
            reasons.append(f"kitty graphics query refused: {replies.kitty}")
        elif in_tmux and not passthrough:
            reasons.append("kitty graphics query not sent: tmux would take it as the pane title")
    cell = _cell_size(replies, ioctl_cell, reasons)
    return _finish(best_mode(frozenset(can)), frozenset(can), cell, terminal, outer, asked, reasons)


def best_mode(can_draw: frozenset[str]) -> Mode:
    """Sixel first, as textual-image does: the terminals that have both draw Sixel better."""
    return "sixel" if "sixel" in can_draw else "tgp" if "tgp" in can_draw else "halfcell"


def _cell_size(replies: Replies, ioctl_cell: tuple[int, int] | None, reasons: list[str]) -> tuple[int, int]:
    if replies.cell_px:
        reasons.append(f"cell {replies.cell_px[0]}x{replies.cell_px[1]} px (CSI 16 t)")
        return replies.cell_px
    if replies.area_px and replies.area_cells:
        (width, height), (columns, rows) = replies.area_px, replies.area_cells
        if width >= columns and height >= rows:
            cell = (width // columns, height // rows)
            reasons.append(f"cell {cell[0]}x{cell[1]} px (CSI 14 t / CSI 18 t)")
            return cell
    if ioctl_cell:
        reasons.append(f"cell {ioctl_cell[0]}x{ioctl_cell[1]} px (TIOCGWINSZ)")
        return ioctl_cell
    reasons.append(f"cell size unknown: {FALLBACK_CELL[0]}x{FALLBACK_CELL[1]} px assumed")
    return FALLBACK_CELL


def _finish(
    auto: Mode,
    can: frozenset[str],
    cell: tuple[int, int],
    terminal: Terminal,
    outer: Terminal | None,
    asked: Mode,
    reasons: list[str],
) -> Decision:
    warning = None
    mode: Mode = auto
    if asked == "off":
        mode = "off"
        reasons.append("previews off (asked)")
    elif asked != "auto" and asked in can:
        mode = asked
        reasons.append(f"{asked} (asked)")
    elif asked != "auto":
        warning = f"This terminal cannot draw --preview {asked}: using {auto} instead"
        reasons.append(f"{asked} asked, but the terminal cannot draw it: {auto}")
    else:
        reasons.append(f"chosen: {auto}")
    return Decision(mode, can, cell, terminal, outer, tuple(reasons), warning)
