"""The async images service (no Textual here): `from imgtui.service import Images`.

The names below are loaded on first access (PEP 562), so importing one submodule
(`imgtui.service.errors`, `.config`) does not load the facade, the models and pydantic.
https://peps.python.org/pep-0562/
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ErrorCode, ImagesError
    from .images import HostedImages, ImageHandle, Images
    from .models import ImageList, ImageMetadata

_HOMES = {
    "ErrorCode": "errors",
    "ImagesError": "errors",
    "HostedImages": "images",
    "ImageHandle": "images",
    "Images": "images",
    "ImageList": "models",
    "ImageMetadata": "models",
}

__all__ = [
    "ErrorCode",
    "HostedImages",
    "ImageHandle",
    "ImageList",
    "ImageMetadata",
    "Images",
    "ImagesError",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
