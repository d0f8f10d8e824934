"""The non-widget parts of the image preview: renderer choice, decoding, caching.

The widget itself is `imgtui.ui.widgets.preview.ImagePreview`.
"""

from .decode import Thumbnail, Unpreviewable, decode_thumbnail
from .loader import PreviewLoader, PreviewMessage, PreviewOutcome
from .terminal import PREVIEW_MODES, PreviewMode, cell_size, prepare_terminal

__all__ = [
    "PREVIEW_MODES",
    "PreviewLoader",
    "PreviewMessage",
    "PreviewMode",
    "PreviewOutcome",
    "Thumbnail",
    "Unpreviewable",
    "cell_size",
    "decode_thumbnail",
    "prepare_terminal",
]
