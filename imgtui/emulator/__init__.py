"""`imgtui serve`: a local Cloudflare Images REST API (and image delivery) over a local library."""

from .app import create_app
from .faults import FaultSpec
from .server import BackgroundEmulator
from .state import ServeSettings, default_library_path

__all__ = ["BackgroundEmulator", "FaultSpec", "ServeSettings", "create_app", "default_library_path"]
