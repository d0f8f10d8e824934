"""imgtui: a terminal app for Cloudflare Images."""

__version__ = "0.1.0"
