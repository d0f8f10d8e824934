"""The embedded local library: `LocalBackend(path)` (SQLite in WAL mode, on worker threads)."""

from .backend import DEFAULT_DELIVERY_BASE, LocalBackend

__all__ = ["DEFAULT_DELIVERY_BASE", "LocalBackend"]
