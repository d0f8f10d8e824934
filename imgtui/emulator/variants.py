"""Delivery variants: what the account's named variants and flexible options like
`w=400,fit=cover` mean, and the Pillow work that produces them (always on a worker thread)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TypedDict

from PIL import Image, ImageFile, ImageOps, features

from imgtui.common.lru import ByteBudgetLRU
from imgtui.service.account import Variant
from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.rules import MAX_AREA_PX, MAX_SIDE_PX

# Cloudflare's transform options (https://developers.cloudflare.com/images/transform-images/transform-via-url/).
FITS = ("scale-down", "contain", "cover", "crop", "pad", "squeeze")
_FORMATS = {
    "png": "PNG",
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "baseline-jpeg": "BASELINE-JPEG",
    "webp": "WEBP",
    "gif": "GIF",
    "json": "JSON",
}
if features.check("avif"):  # Pillow built with libavif
    _FORMATS["avif"] = "AVIF"
_MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "BASELINE-JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "AVIF": "image/avif",
}
# The perceptual quality levels, as JPEG/WebP/AVIF quality numbers (imgtui's reading of them).
QUALITY_LEVELS = {"high": 90, "medium-high": 80, "medium-low": 65, "low": 50}
MAX_DPR = 10.0


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """A resize request. `original` means "serve the stored bytes untouched"."""

    width: int | None = None
    height: int | None = None
    fit: str = "scale-down"
    format: str | None = None  # a Pillow format name, or None for the source's own
    quality: int = 85
    flexible: bool = False
    metadata: str = "none"  # EXIF kept: keep | copyright | none (a named variant's option)
    auto_format: bool = False  # format=auto: chosen per request from Accept (with_accept)

    @property
    def original(self) -> bool:
        return self.width is None and self.height is None and self.format is None and not self.auto_format


class _VariantOptions(TypedDict, total=False):
    """What a flexible variant string set; the rest keep VariantSpec's defaults."""

    width: int
    height: int
    fit: str
    format: str
    quality: int
    auto_format: bool


def named_spec(variant: Variant) -> VariantSpec:
    """A named variant's spec. One that fits into a box no image exceeds, keeping EXIF (the
    library's `public`), serves the stored file untouched."""
    options = variant.options
    if (
        options.fit == "scale-down"
        and min(options.width, options.height) >= MAX_SIDE_PX
        and options.metadata == "keep"
    ):
        return VariantSpec()
    return VariantSpec(width=options.width, height=options.height, fit=options.fit, metadata=options.metadata)


def _invalid(reason: str) -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, f"Invalid variant: {reason}")


def _dimension(name: str, value: str) -> int:
    try:
        number = int(float(value))
    except (ValueError, OverflowError):  # "abc", "nan"; "1e309" is inf, which int() refuses
        raise _invalid(f"{name} must be a number") from None
    if not 1 <= number <= MAX_SIDE_PX:
        raise _invalid(f"{name} must be between 1 and {MAX_SIDE_PX}")
    return number


def is_flexible(name: str) -> bool:
    return "=" in name


def parse_flexible(name: str) -> VariantSpec:
    """The spec for a flexible variant segment (`w=400,fit=cover`). An option imgtui cannot
    honour is refused with its name, never silently ignored."""
    options: _VariantOptions = {}
    dpr = 1.0
    for item in name.split(","):
        key, _, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key in ("w", "width"):
            options["width"] = _dimension("width", value)
        elif key in ("h", "height"):
            options["height"] = _dimension("height", value)
        elif key == "fit":
            if value not in FITS:
                raise _invalid(f"fit must be one of {', '.join(FITS)}")
            options["fit"] = value
        elif key in ("f", "format"):
            wanted = value.lower()
            if wanted == "auto":
                options["auto_format"] = True
            elif wanted == "avif" and "avif" not in _FORMATS:
                raise _invalid("format=avif is not supported here (this Pillow cannot encode AVIF)")
            elif wanted not in _FORMATS:
                raise _invalid(f"format must be auto or one of {', '.join(_FORMATS)}")
            else:
                options["format"] = _FORMATS[wanted]
        elif key in ("q", "quality"):
            if value.lower() in QUALITY_LEVELS:
                options["quality"] = QUALITY_LEVELS[value.lower()]
                continue
            quality = _dimension("quality", value)
            if quality > 100:
                raise _invalid(f"quality must be between 1 and 100 or one of {', '.join(QUALITY_LEVELS)}")
            options["quality"] = quality
        elif key == "dpr":
            try:
                dpr = float(value)
            except ValueError:
                raise _invalid("dpr must be a number") from None
            if not 0 < dpr <= MAX_DPR:
                raise _invalid(f"dpr must be above 0 and at most {MAX_DPR:g}")
        else:
            raise _invalid(f"option {key!r} is not supported by imgtui serve")
    for side in ("width", "height"):  # the device pixel ratio multiplies the requested size
        if side in options and dpr != 1.0:
            options[side] = min(MAX_SIDE_PX, max(1, round(options[side] * dpr)))
    return VariantSpec(**options, flexible=True)


def with_accept(spec: VariantSpec, accept: str) -> VariantSpec:
    """`format=auto`: AVIF, else WebP, when the client accepts it; else the source's format."""
    if not spec.auto_format:
        return spec
    accepted = accept.lower()
    if "image/avif" in accepted and "avif" in _FORMATS:
        return replace(spec, format="AVIF", auto_format=False)
    if "image/webp" in accepted:
        return replace(spec, format="WEBP", auto_format=False)
    return replace(spec, auto_format=False)


def _target(spec: VariantSpec, size: tuple[int, int]) -> tuple[int, int]:
    """The box to fit into: a missing side follows the image's aspect ratio; with neither
    (say `format=webp` alone), the image's own size."""
    width, height = size
    box_w, box_h = spec.width, spec.height
    if box_w is not None and box_h is not None:
        return box_w, box_h
    if box_w is not None:
        return box_w, max(1, round(height * box_w / width))
    if box_h is not None:
        return max(1, round(width * box_h / height)), box_h
    return width, height


def _contained(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with the image's aspect ratio inside `box` (ImageOps.contain's
    arithmetic, but never 0 wide or high: Pillow then failed and the original was served)."""
    (width, height), (box_w, box_h) = size, box
    if width * box_h > height * box_w:
        return box_w, max(1, round(height / width * box_w))
    if width * box_h < height * box_w:
        return max(1, round(width / height * box_h)), box_h
    return box


def _crop_box(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int] | None:
    """`fit=crop` "will not be enlarged": cover when that only shrinks, untouched (None)
    when the image fits inside, else cut to the box on the sides where the image is larger."""
    (width, height), (box_w, box_h) = size, box
    if width <= box_w and height <= box_h:
        return None
    if box_w <= width and box_h <= height:
        return box
    return min(width, box_w), min(height, box_h)


def output_size(spec: VariantSpec, size: tuple[int, int]) -> tuple[int, int]:
    """The size `_resize` gives an image of `size`: known before a pixel is decoded."""
    box = _target(spec, size)
    fit = spec.fit
    if fit == "scale-down":
        fits_inside = size[0] <= box[0] and size[1] <= box[1]
        return size if fits_inside else _contained(size, box)
    if fit == "crop":
        return _crop_box(size, box) or size
    if fit == "contain":
        return _contained(size, box)
    return box  # cover, squeeze and pad make exactly the box


def check_output_size(spec: VariantSpec, size: tuple[int, int]) -> tuple[int, int]:
    """The output size, or TooLargeOutput past Cloudflare's limits. An output box can be far
    larger than its source (`w=12000,h=12000,fit=squeeze` of a 4x4 PNG: 576 MB of pixels),
    and a side left to the aspect ratio unbounded (`w=12000,fit=cover` of a 1x1000 image)."""
    width, height = output_size(spec, size)
    if width > MAX_SIDE_PX or height > MAX_SIDE_PX or width * height > MAX_OUTPUT_AREA_PX:
        raise TooLargeOutput(width, height)
    return width, height


def _contain(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    return image.resize(_contained(image.size, box), Image.Resampling.LANCZOS)


def _resize(image: Image.Image, spec: VariantSpec) -> Image.Image:
    box = _target(spec, image.size)
    check_output_size(spec, image.size)  # the size decoded (a JPEG draft) may differ a little
    fit = spec.fit
    if fit == "crop":
        cropped = _crop_box(image.size, box)
        return image if cropped is None else ImageOps.fit(image, cropped, Image.Resampling.LANCZOS)
    if fit == "scale-down":
        if image.width <= box[0] and image.height <= box[1]:
            return image
        return _contain(image, box)
    if fit == "contain":
        return _contain(image, box)
    if fit == "squeeze":  # exactly the box, the aspect ratio not kept
        return image.resize(box, Image.Resampling.LANCZOS)
    if fit == "cover":
        return ImageOps.fit(image, box, Image.Resampling.LANCZOS)
    # pad: contain, then centre on a canvas of exactly the box (transparent where possible)
    inner = _contain(image, box)
    mode = "RGBA" if inner.mode in ("RGBA", "LA", "P") else "RGB"
    canvas = Image.new(mode, box, (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255))
    canvas.paste(inner.convert(mode), ((box[0] - inner.width) // 2, (box[1] - inner.height) // 2))
    return canvas


# Cloudflare's transform limits (https://developers.cloudflare.com/images/get-started/limits/);
# its code for an image over the area limit, sent as `Cf-Resized: err=9413`.
AREA_ERROR = 9413


class TooLargeToTransform(ImagesError):
    """The stored image's real frame is over the pixel ceiling: it is not decoded at all."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(
            AREA_ERROR,
            f"The image exceeds the maximum image area of {MAX_AREA_PX // 1_000_000} megapixels or "
            f"side of {MAX_SIDE_PX} pixels (its frame is {width}x{height}); it cannot be resized",
        )


# An output over the input limits is refused the same way: Cloudflare documents no separate
# output limit, and 100 MP (400 MB of RGBA) is already more than a delivery should cost.
MAX_OUTPUT_AREA_PX = MAX_AREA_PX


class TooLargeOutput(ImagesError):
    """The variant asked for would be larger than an image may be: refused before resizing,
    as an invalid variant (400), since the request, not the stored image, is at fault."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(
            ErrorCode.BAD_REQUEST,
            f"Invalid variant: the result would be {width}x{height} pixels; at most {MAX_SIDE_PX} "
            f"pixels a side and {MAX_OUTPUT_AREA_PX // 1_000_000} megapixels",
        )


def decoded_size(image: ImageFile.ImageFile) -> tuple[int, int]:
    """The size decoding would allocate, read from the headers Pillow parsed at open: the
    image size and every tile's extent (a GIF frame may be far larger than its logical
    screen: 1x1 declared, 12000x12000 drawn)."""
    width, height = image.size
    for tile in image.tile:
        if tile[1] is None:
            continue
        x0, y0, x1, y1 = tile[1]
        width, height = max(width, x1, x1 - x0), max(height, y1, y1 - y0)
    return width, height


def check_pixel_ceiling(image: ImageFile.ImageFile) -> None:
    """Refuse, before a single pixel is decoded, anything over Cloudflare's limits."""
    width, height = decoded_size(image)
    if width > MAX_SIDE_PX or height > MAX_SIDE_PX or width * height > MAX_AREA_PX:
        raise TooLargeToTransform(width, height)


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The size once `exif_transpose` has turned the image (orientations 5-8 swap the sides)."""
    width, height = image.size
    return (height, width) if image.getexif().get(0x0112) in (5, 6, 7, 8) else (width, height)


class PixelBudget:
    """At most `budget` pixels (decoded source plus output) being rendered at once, across
    the worker threads: one render as large as allowed runs alone, small ones side by side.
    Without it, six 100 MP renders (the default executor's width) meant gigabytes at once.
    A render costing more than the whole budget waits until it can run alone."""

    def __init__(self, budget: int = MAX_OUTPUT_AREA_PX) -> None:
        self.budget = budget
        self._used = 0
        self._changed = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(pixels, self.budget)
        with self._changed:
            self._changed.wait_for(lambda: self._used + pixels <= self.budget)
            self._used += pixels
        try:
            yield
        finally:
            with self._changed:
                self._used -= pixels
                self._changed.notify_all()


_UNLIMITED = PixelBudget(1 << 62)


def render(data: bytes, spec: VariantSpec, budget: PixelBudget = _UNLIMITED) -> tuple[bytes, str] | None:
    """Resized image bytes and content type; None when Pillow cannot decode the source
    (then the original is served, as Cloudflare serves what it cannot transform).
    Raises TooLargeToTransform for a source over the pixel ceiling (a decompression bomb),
    TooLargeOutput for a result over it; both before any pixel is decoded. Blocks while
    `budget` has no room for this render's pixels."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            check_pixel_ceiling(source)
            original = source.size  # before draft() decodes a JPEG at a reduced scale
            result = check_output_size(spec, _upright_size(source))
            fmt = spec.format or (source.format if source.format in _MIME else "PNG")
            if fmt == "JSON":  # the sizes are known: nothing to decode
                return _json_info(data, source.format, original, result), "application/json"
            side = max(spec.width or 0, spec.height or 0)
            if source.format == "JPEG" and side > 0:
                # Decode at a reduced scale (much faster); a square box is safe for any
                # EXIF rotation and any fit. No size wanted (a format change): full size.
                source.draft("RGB", (side, side))
            decoded = decoded_size(source)
            with budget.hold(decoded[0] * decoded[1] + result[0] * result[1]):
                return _encoded(source, _resize(ImageOps.exif_transpose(source), spec), fmt, spec)
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None


def _encoded(source: Image.Image, image: Image.Image, fmt: str, spec: VariantSpec) -> tuple[bytes, str]:
    if fmt in ("JPEG", "BASELINE-JPEG") and image.mode not in ("RGB", "L"):
        image = _flatten(image)
    elif fmt in ("WEBP", "AVIF") and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    options: dict[str, object] = {"quality": spec.quality} if fmt in _LOSSY else {}
    if fmt == "BASELINE-JPEG":
        options["progressive"] = False
    exif = _kept_exif(source, spec.metadata)
    if exif is not None and fmt in ("JPEG", "BASELINE-JPEG", "WEBP", "PNG", "AVIF"):
        options["exif"] = exif
    image.save(out, "JPEG" if fmt == "BASELINE-JPEG" else fmt, **options)
    return out.getvalue(), _MIME[fmt]


_LOSSY = ("JPEG", "BASELINE-JPEG", "WEBP", "AVIF")


def _json_info(
    data: bytes, source_format: str | None, original: tuple[int, int], size: tuple[int, int]
) -> bytes:
    """`format=json`: what the image is and would become, instead of the image."""
    fmt = (source_format or "").upper()
    info = {
        "width": size[0],
        "height": size[1],
        "original": {
            "file_size": len(data),
            "width": original[0],
            "height": original[1],
            "format": _MIME.get(fmt, f"image/{fmt.lower()}" if fmt else "application/octet-stream"),
        },
    }
    return json.dumps(info).encode()


_COPYRIGHT_TAGS = (0x8298, 0x013B)  # Copyright, Artist


def _kept_exif(source: Image.Image, handling: str) -> bytes | None:
    """The EXIF a variant keeps: all (`keep`), the copyright and artist (`copyright`), or
    none. The orientation is dropped either way: the pixels are already turned upright."""
    if handling == "none":
        return None
    exif = source.getexif()
    if handling == "copyright":
        kept = Image.Exif()
        for tag in _COPYRIGHT_TAGS:
            if tag in exif:
                kept[tag] = exif[tag]
        exif = kept
    exif.pop(0x0112, None)
    return exif.tobytes() if len(exif) else None


def _flatten(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


RenderKey = tuple[str, int, str, VariantSpec]  # (image id, uploaded ms, variant, its definition)
Rendered = tuple[bytes, str]  # (body, content type)


# What an entry costs beside its body: the key (id, variant text, spec), tuples and the
# dict slot, ~650 bytes measured. Counting bodies alone, a stream of distinct tiny variants
# (70-byte PNGs, no token needed) filled 64 MiB of budget with ~600 MB of entries.
ENTRY_OVERHEAD = 1024


class RenderCache:
    """Rendered variants, least recently used first out, bounded by total bytes.

    Keys include the image's upload time, so an id deleted and uploaded again never serves
    the old picture. Thread-safe (the shared LRU is not): renders finish on worker threads.
    A render over a quarter of the budget is not kept, so one huge image cannot flush the rest.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._lru: ByteBudgetLRU[RenderKey, Rendered] = ByteBudgetLRU(
            max_bytes, lambda entry: len(entry[0]) + ENTRY_OVERHEAD
        )
        self._lock = threading.Lock()

    def get(self, key: RenderKey) -> Rendered | None:
        with self._lock:
            return self._lru.get(key)

    def put(self, key: RenderKey, entry: Rendered) -> None:
        if len(entry[0]) > self._max_bytes // 4:
            return
        with self._lock:
            self._lru.put(key, entry)
