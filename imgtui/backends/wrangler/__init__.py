"""`wrangler dev`'s local images (the `images` binding's mock), read-only: `WranglerBackend`."""

from .backend import WranglerBackend

__all__ = ["WranglerBackend"]
