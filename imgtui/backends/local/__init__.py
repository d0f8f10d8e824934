"""The embedded local library: `LocalBackend(path)` (SQLite in WAL mode, on worker threads)."""

# DEFAULT_DELIVERY_BASE and default_library_path live in imgtui.service.config now; they are
# re-exported here for the code that imports them from this package.
from imgtui.service.config import DEFAULT_DELIVERY_BASE, default_library_path

from .backend import LocalBackend

__all__ = ["DEFAULT_DELIVERY_BASE", "LocalBackend", "default_library_path"]
