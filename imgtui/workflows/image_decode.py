"""Turn an image's original bytes into a small PIL thumbnail (blocking): for the preview
panel, the grid's thumbnails and the full-screen viewer.

Runs in a worker thread: a 4000x3000 JPEG costs ~1 s to decode in full, ~0.1 s with
`draft()`, which lets libjpeg decode straight at 1/2, 1/4 or 1/8 scale.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from imgtui.service.rules import MAX_AREA_PX, MAX_SIDE_PX
from imgtui.service.sniff import looks_like_svg, raster_signature

# Bicubic after draft()'s DCT scaling: sharp enough for a preview, cheaper than Lanczos.
RESAMPLE = Image.Resampling.BICUBIC

# The pixel ceiling, checked on the header Pillow read before anything is decoded. Pillow's
# own bomb limit (2 x 89.5 MP before it refuses) lets a 144 MP frame through, and bytes from
# a REST server were never sniffed here: nothing Cloudflare would store is bigger than this.
MAX_DECODE_SIDE_PX = MAX_SIDE_PX
MAX_DECODE_AREA_PX = MAX_AREA_PX


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A decoded preview, already small enough to render cheaply on every repaint."""

    image: Image.Image  # RGB, or RGBA when the source has transparency
    original_size: tuple[int, int]  # the source's pixels, to avoid upscaling past them
    format: str  # Pillow's name: JPEG, PNG, GIF, WEBP, ...
    note: str | None = None  # shown under the image, e.g. "Animated GIF: first frame of 12"

    @property
    def cost(self) -> int:
        """Approximate bytes held, for the cache budget."""
        return self.image.width * self.image.height * len(self.image.getbands())


class Unpreviewable(Exception):
    """The bytes are an image we cannot (or will not) rasterise; the message says why.

    `problem` is the same verdict in a word or two, for a grid cell's placeholder."""

    def __init__(self, message: str, problem: str = "no preview") -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem


def _check_pixel_ceiling(size: tuple[int, int]) -> None:
    width, height = size
    if max(width, height) > MAX_DECODE_SIDE_PX or width * height > MAX_DECODE_AREA_PX:
        raise Unpreviewable(
            f"No preview: the image is {width}x{height} px, over the limits"
            f" ({MAX_DECODE_SIDE_PX} px a side, {MAX_DECODE_AREA_PX // 1_000_000} megapixels)",
            "too large",
        )


def fitted_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down (never up) to fit `box`, keeping its aspect."""
    width, height = max(1, size[0]), max(1, size[1])
    scale = min(1.0, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _note_for(image: Image.Image, fmt: str) -> str | None:
    frames = getattr(image, "n_frames", 1)
    if getattr(image, "is_animated", False) and frames > 1:
        return f"Animated {fmt}: first frame of {frames}"
    return None


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when there is transparency; always a new, detached image."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        return image.convert("RGBA")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greyscale: scale down to 8 bits first (convert() would clip).
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def decode_thumbnail(data: bytes, box: tuple[int, int], *, use_draft: bool = True) -> Thumbnail:
    """Decode `data` into a thumbnail that fits `box` (pixels), keeping the aspect ratio.

    Raises Unpreviewable with a user-facing message for SVG, undecodable or corrupt bytes.
    `use_draft=False` exists for the benchmark (full-size decode, then downscale).
    """
    box = (max(1, box[0]), max(1, box[1]))
    if looks_like_svg(data):
        return _rasterise_svg(data, box)
    try:
        with Image.open(io.BytesIO(data)) as source:
            _check_pixel_ceiling(source.size)  # Pillow has read the header only, so far
            fmt = source.format or "image"
            original_size = source.size
            note = _note_for(source, fmt)
            if use_draft:
                # JPEG only (a no-op elsewhere): decode at the smallest DCT scale that still
                # covers the picture's fitted size (its aspect kept: a 4:3 photo in a square
                # box needs 4:3 pixels, and a square request would decode twice as many).
                source.draft("RGB", fitted_size(source.size, box))
            frame: Image.Image = source
            if source.mode in ("P", "PA", "1"):
                # Palette images resize with nearest-neighbour only: go to RGB(A) first.
                frame = _normalise_mode(source)
            frame.thumbnail(box, RESAMPLE, reducing_gap=2.0 if use_draft else None)
            image = _normalise_mode(frame)
    except Image.DecompressionBombError:
        raise Unpreviewable(
            "No preview: the image has too many pixels to decode safely", "too large"
        ) from None
    except UnidentifiedImageError:
        if raster_signature(data) == "isobmff":
            raise Unpreviewable("HEIC/AVIF: no preview (no decoder for it here)", "HEIC") from None
        raise Unpreviewable(
            "No preview: the bytes are not an image Pillow can read", "unknown format"
        ) from None
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        # Truncated or corrupt pixel data ("image file is truncated", bad zlib stream, ...).
        raise Unpreviewable(f"No preview: the image data is corrupt ({_short(exc)})", "corrupt") from None
    return Thumbnail(image=image, original_size=original_size, format=fmt, note=note)


def _rasterise_svg(data: bytes, box: tuple[int, int]) -> Thumbnail:
    from .svg_raster import SvgRefused, rasterise  # multiprocessing and XML: only for SVG

    try:
        image = rasterise(data, box)
    except SvgRefused as refused:
        raise Unpreviewable(refused.message, refused.problem) from None
    # A vector has no pixel size to respect: the render is made at the box, and is "original".
    return Thumbnail(image=image, original_size=image.size, format="SVG")


def _short(exc: BaseException, limit: int = 80) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def read_capped(stream: AsyncIterator[bytes], cap: int, too_large: Callable[[], Exception]) -> bytes:
    """The whole of `stream`, or `too_large()` raised as soon as it passes `cap` bytes. The
    stream is closed either way: an abandoned download (cancel, error) releases its
    connection or file at once."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > cap:
                raise too_large()
            chunks.append(chunk)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await asyncio.shield(aclose())
    return b"".join(chunks)


def flatten_alpha(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """An RGBA picture laid on `background` (text renderers would draw alpha as black)."""
    if image.mode != "RGBA":
        return image
    flat = Image.new("RGB", image.size, background)
    flat.paste(image, mask=image.getchannel("A"))
    return flat
