"""One way to show a byte count: binary units (KiB, MiB), as Cloudflare's 10 MiB upload limit is."""

from __future__ import annotations

_UNITS = ("KiB", "MiB", "GiB", "TiB")


def human_size(size: int | None) -> str:
    """`512 B`, `1.5 KiB`, `10.0 MiB`; an unknown size is the empty string."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover
