"""The TUI's settings file: `config.toml` under the user config dir (or `$IMGTUI_CONFIG_DIR`).

Only preferences live here (theme, default preview mode); credentials never do. A missing or
broken file gives the defaults, so a bad edit can never stop the app from starting.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from imgtui.ui.clipboard import ClipboardRoute
from imgtui.ui.preview.terminal import PREVIEW_MODES, PreviewMode
from imgtui.ui.widgets.table_layout import DEFAULT_COLUMNS
from imgtui.workflows.profiles import CONFIG_DIR_ENV, CONFIG_FILENAME, config_dir, config_path

__all__ = [
    "CONFIG_DIR_ENV",
    "CONFIG_FILENAME",
    "UiConfig",
    "config_dir",
    "config_path",
    "load_config",
    "save_config",
]

DEFAULT_THEME = "textual-dark"


# A plain dataclass, not a pydantic model: it is read before the first frame, and pydantic's
# import alone was ~50 ms of a launch (benchmarks/bench_tui.py). Its checks are below.
@dataclass(frozen=True, slots=True)
class UiConfig:
    """What the user chose last time. Unknown keys are ignored (newer versions may add some)."""

    theme: str = DEFAULT_THEME
    preview: PreviewMode = "auto"
    # The list's columns, in order: id filename uploaded creator size dimensions format
    # (size, dimensions and format where the library knows them: a local one).
    # Emoji markers (🔒 for signed URLs) need an emoji font; the default ◆ and ● need none.
    emoji_glyphs: bool = False
    preview_shown: bool = True  # `v` hides the preview; the choice is kept
    details_shown: bool = True  # `i` hides the details panel (the list takes the width)
    view: Literal["list", "grid"] = "list"  # `t` switches the list and the thumbnail grid; kept
    download_dir: str | None = None  # the folder the last download went to
    # Where copies go: auto (the desktop's tool when local, else OSC 52), native, osc52.
    clipboard: ClipboardRoute = "auto"
    # Your own keys: binding id -> keys, e.g. "edit.delete" = "x" (ids are in the help screen's
    # source: every Binding(..., id=...)). Several keys: "x,delete".
    keymap: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=lambda: [str(name) for name in DEFAULT_COLUMNS])
    # [profiles.NAME] tables (imgtui.workflows.profiles reads them for --profile): kept as
    # written so that saving the settings never drops them.
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def replace(self, **changes: Any) -> UiConfig:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}


_CHOICES: dict[str, tuple[str, ...]] = {
    "preview": PREVIEW_MODES,
    "view": ("list", "grid"),
    "clipboard": ("auto", "native", "osc52"),
}


def _checked(name: str, value: Any) -> Any:
    """`value` when it is right for field `name`, else None (that field keeps its default:
    one bad line costs only itself)."""
    if name in _CHOICES:
        return value if value in _CHOICES[name] else None
    if name in ("emoji_glyphs", "preview_shown", "details_shown"):
        return value if isinstance(value, bool) else None
    if name == "theme":
        return value if isinstance(value, str) and value else None
    if name == "download_dir":
        return value if isinstance(value, str) else None
    if name == "keymap":
        ok = isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
        return dict(value) if ok else None
    if name == "columns":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return list(value) if ok else None
    if name == "profiles":  # a malformed entry must not cost the others (--profile reports it)
        if not isinstance(value, dict):
            return None
        return {str(key): table for key, table in value.items() if isinstance(table, dict)}
    return None


def config_from(raw: Mapping[str, Any]) -> UiConfig:
    """The settings in a parsed file: unknown keys ignored, a wrong value left at its default."""
    known = {item.name for item in dataclasses.fields(UiConfig)}
    values = {name: _checked(name, value) for name, value in raw.items() if name in known}
    return UiConfig(**{name: value for name, value in values.items() if value is not None})


def load_config(path: Path | None = None) -> UiConfig:
    """The saved settings, or the defaults when the file is missing or unreadable."""
    path = path or config_path()
    try:
        with path.open("rb") as fileobj:
            raw = tomllib.load(fileobj)
    except (OSError, tomllib.TOMLDecodeError, RecursionError, UnicodeDecodeError):
        return UiConfig()
    return config_from(raw)


def dump_toml(config: UiConfig) -> str:
    """The settings as TOML. The model is flat: strings, booleans and lists of strings, whose
    JSON forms are valid TOML values, so no TOML writer dependency is needed."""
    lines = ["# imgtui settings (written by the app; edits are kept)"]
    tables = []
    for key, value in config.as_dict().items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif value is not None:  # TOML has no null: an unset value is an absent key
            lines.append(f"{key} = {json.dumps(value)}")
    for key, table in tables:  # after every plain key: a table runs to the end of the file
        if key == "profiles":
            for name, profile in table.items():
                lines.append(f"\n[{key}.{json.dumps(str(name))}]")
                lines += [
                    f"{json.dumps(str(field))} = {json.dumps(value)}" for field, value in profile.items()
                ]
            continue
        lines.append(f"\n[{key}]")
        lines += [f"{json.dumps(str(name))} = {json.dumps(str(keys))}" for name, keys in table.items()]
    return "\n".join(lines) + "\n"


def save_config(config: UiConfig, path: Path | None = None) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a file. Blocking:
    call it from a thread."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_toml(config), encoding="utf-8")
    os.replace(tmp, path)
