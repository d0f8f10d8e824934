"""The async images service (no Textual here): `from imgtui.service import Images`."""

from .errors import ErrorCode, ImagesError
from .images import HostedImages, ImageHandle, Images
from .models import ImageList, ImageMetadata

__all__ = [
    "ErrorCode",
    "HostedImages",
    "ImageHandle",
    "ImageList",
    "ImageMetadata",
    "Images",
    "ImagesError",
]
