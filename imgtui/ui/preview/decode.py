"""The preview decoder lives in `imgtui.workflows.image_decode` (the grid's thumbnails use it
too, and workflows may not import ui); re-exported so existing imports keep working."""

from imgtui.workflows.image_decode import (
    MAX_DECODE_AREA_PX,
    MAX_DECODE_SIDE_PX,
    RESAMPLE,
    Thumbnail,
    Unpreviewable,
    decode_thumbnail,
)

__all__ = [
    "MAX_DECODE_AREA_PX",
    "MAX_DECODE_SIDE_PX",
    "RESAMPLE",
    "Thumbnail",
    "Unpreviewable",
    "decode_thumbnail",
]
