"""The embedded local library: `LocalBackend(path)` (SQLite in WAL mode, on worker threads)."""

import pathlib

import platformdirs

from .backend import DEFAULT_DELIVERY_BASE, LocalBackend

__all__ = ["DEFAULT_DELIVERY_BASE", "LocalBackend", "default_library_path"]


def default_library_path() -> pathlib.Path:
    """The library `imgtui` opens by default, so `imgtui serve` shares it out of the box."""
    return platformdirs.user_data_path("imgtui") / "library"
