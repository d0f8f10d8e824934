"""`imgtui --demo`: about 60 images drawn with Pillow, so the browser has something to show.

Nothing is downloaded. The drawing (the slow part, ~1 s) runs in a thread; the uploads go
through the public `Images` API like any other upload. Deterministic: the same images, ids
and metadata every time, which keeps screenshots stable.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from imgtui.service import Images
from imgtui.workflows.demo_clock import DemoClock

DEMO_COUNT = 60
SEED = 20240917

CREATORS = ["alice", "bob", "carol", "studio-7", "marketing"]

PALETTES = [
    ((255, 94, 77), (255, 195, 113)),  # sunset
    ((17, 153, 142), (56, 239, 125)),  # mint
    ((58, 28, 113), (215, 109, 119)),  # dusk
    ((0, 82, 212), (101, 199, 247)),  # sky
    ((252, 74, 26), (247, 183, 51)),  # fire
    ((31, 64, 55), (153, 242, 200)),  # forest
    ((142, 45, 226), (74, 0, 224)),  # violet
    ((255, 0, 132), (51, 0, 27)),  # berry
    ((20, 30, 48), (36, 59, 85)),  # night
    ((242, 153, 74), (242, 201, 76)),  # honey
]


@dataclass(frozen=True)
class DemoImage:
    """One image to draw and upload."""

    kind: str  # which drawing: landscape, orbs, bars, avatar, poster, stripes, sneaker, svg
    fmt: str  # PNG | JPEG | GIF | WEBP | SVG
    size: tuple[int, int]
    title: str
    filename: str
    creator: str | None
    custom_id: str | None = None
    signed: bool = False
    metadata: dict[str, Any] | None = field(default=None)
    palette: int = 0


def demo_catalog() -> list[DemoImage]:
    """The demo set: varied kinds, formats, sizes and aspect ratios."""
    rng = random.Random(SEED)
    kinds = ["landscape", "orbs", "bars", "avatar", "poster", "stripes"]
    formats = ["PNG", "JPEG", "WEBP", "JPEG", "PNG", "GIF"]
    sizes = [
        (1200, 800),
        (800, 1200),
        (1024, 1024),
        (1600, 900),
        (640, 480),
        (480, 800),
        (2000, 600),
        (300, 300),
    ]
    tags = ["hero", "thumbnail", "banner", "avatar", "product", "blog", "social", "archive"]
    words = [
        "Aurora",
        "Harbor",
        "Meadow",
        "Summit",
        "Lagoon",
        "Canyon",
        "Ember",
        "Glacier",
        "Orchid",
        "Prairie",
    ]
    catalog: list[DemoImage] = [
        DemoImage(
            kind="sneaker",
            fmt="PNG",
            size=(1200, 900),
            title="Red sneaker",
            filename="red-sneaker.png",
            creator="marketing",
            custom_id="products/shoes/red-sneaker.png",
            metadata={
                "sku": "SNK-RED-42",
                "price": {"amount": 89.9, "currency": "EUR"},
                "tags": ["product", "shoes"],
            },
            palette=0,
        ),
        DemoImage(
            kind="svg",
            fmt="SVG",
            size=(512, 512),
            title="imgtui logo",
            filename="imgtui-logo.svg",
            creator="studio-7",
            custom_id="brand/imgtui-logo.svg",
            metadata={"kind": "logo", "vector": True},
            palette=3,
        ),
    ]
    for index in range(DEMO_COUNT - len(catalog)):
        kind = kinds[index % len(kinds)]
        fmt = formats[(index * 7 + 3) % len(formats)]
        size = (400, 400) if kind == "avatar" else sizes[rng.randrange(len(sizes))]
        word = words[index % len(words)]
        title = f"{word} {index + 1:02d}"
        extension = {"JPEG": "jpg"}.get(fmt, fmt.lower())
        filename = f"{word.lower()}-{kind}-{index + 1:02d}.{extension}"
        creator = CREATORS[rng.randrange(len(CREATORS))] if index % 9 else None
        signed = index % 11 == 4  # a few private images (they must keep a generated id)
        custom_id = None if signed or index % 4 else f"gallery/{kind}/{word.lower()}-{index + 1:02d}"
        metadata: dict[str, Any] | None = None
        if index % 3 != 2:
            metadata = {"title": title, "tags": rng.sample(tags, 2), "rating": rng.randint(1, 5)}
            if index % 5 == 0:
                metadata["camera"] = {"model": "Pillow Mk II", "iso": rng.choice([100, 200, 400, 800])}
        catalog.append(
            DemoImage(
                kind=kind,
                fmt=fmt,
                size=size,
                title=title,
                filename=filename,
                creator=creator,
                custom_id=custom_id,
                signed=signed,
                metadata=metadata,
                palette=index % len(PALETTES),
            )
        )
    return catalog


# ----------------------------------------------------------------------------- drawing


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int], angle: int = 0):
    # Rotate a larger gradient and keep its centre, so no corner is left unfilled.
    mask = Image.linear_gradient("L").resize((363, 363)).rotate(angle, resample=Image.Resampling.BICUBIC)
    mask = mask.crop((53, 53, 309, 309)).resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(size, 10))


def _label(image: Image.Image, text: str, *, scale: float = 0.08) -> None:
    """A caption with a soft shadow in the lower left corner."""
    draw = ImageDraw.Draw(image)
    width, height = image.size
    font = _font(int(min(width, height) * scale))
    x, y = int(width * 0.05), int(height * 0.82)
    draw.text((x + 3, y + 3), text, font=font, fill=(0, 0, 0))
    draw.text((x, y), text, font=font, fill=(255, 255, 255))


def _landscape(spec: DemoImage, rng: random.Random) -> Image.Image:
    top, bottom = PALETTES[spec.palette]
    image = _gradient(spec.size, top, bottom)
    draw = ImageDraw.Draw(image)
    width, height = spec.size
    sun = int(min(width, height) * 0.12)
    sx, sy = int(width * rng.uniform(0.55, 0.8)), int(height * 0.3)
    draw.ellipse((sx - sun, sy - sun, sx + sun, sy + sun), fill=(255, 240, 200))
    for layer in range(3):
        shade = tuple(max(0, int(channel * (0.55 - layer * 0.15))) for channel in top)
        base = height * (0.55 + layer * 0.13)
        points: list[tuple[float, float]] = [(0, height)]
        for step in range(9):
            points.append((width * step / 8, base - rng.uniform(0, height * 0.22)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    _label(image, spec.title)
    return image


def _orbs(spec: DemoImage, rng: random.Random) -> Image.Image:
    top, bottom = PALETTES[spec.palette]
    image = _gradient(spec.size, (20, 20, 35), (45, 35, 70), angle=90)
    glow = Image.new("RGB", spec.size, (0, 0, 0))
    draw = ImageDraw.Draw(glow)
    width, height = spec.size
    for _ in range(14):
        radius = rng.uniform(0.05, 0.22) * min(width, height)
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        colour = top if rng.random() < 0.5 else bottom
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    glow = glow.filter(ImageFilter.GaussianBlur(min(width, height) * 0.03))
    image = Image.blend(image, glow, 0.75)
    _label(image, spec.title)
    return image


def _bars(spec: DemoImage, rng: random.Random) -> Image.Image:
    top, bottom = PALETTES[spec.palette]
    width, height = spec.size
    image = Image.new("RGB", spec.size, (248, 248, 250))
    draw = ImageDraw.Draw(image)
    count = 8
    margin = width * 0.08
    slot = (width - 2 * margin) / count
    for index in range(count):
        value = rng.uniform(0.15, 0.7)
        x0 = margin + index * slot + slot * 0.15
        x1 = x0 + slot * 0.7
        mix = index / (count - 1)
        colour = tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        draw.rounded_rectangle(
            (x0, height * (0.78 - value), x1, height * 0.78), radius=slot * 0.1, fill=colour
        )
    draw.line(
        (margin, height * 0.78, width - margin, height * 0.78), fill=(60, 60, 70), width=max(2, height // 200)
    )
    font = _font(int(min(width, height) * 0.07))
    draw.text((margin, height * 0.84), spec.title, font=font, fill=(40, 40, 50))
    return image


def _avatar(spec: DemoImage, rng: random.Random) -> Image.Image:
    top, bottom = PALETTES[spec.palette]
    image = _gradient(spec.size, top, bottom, angle=45)
    draw = ImageDraw.Draw(image)
    width, height = spec.size
    draw.ellipse((width * 0.18, height * 0.18, width * 0.82, height * 0.82), fill=(255, 255, 255))
    initials = spec.title[:2]
    font = _font(int(height * 0.28))
    draw.text((width / 2, height / 2), initials.upper(), font=font, fill=top, anchor="mm")
    return image


def _poster(spec: DemoImage, rng: random.Random) -> Image.Image:
    top, bottom = PALETTES[spec.palette]
    image = _gradient(spec.size, bottom, top, angle=rng.choice([0, 30, 60]))
    draw = ImageDraw.Draw(image, "RGBA")
    width, height = spec.size
    for _ in range(6):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        size = rng.uniform(0.1, 0.35) * min(width, height)
        draw.regular_polygon(
            (x, y, size), n_sides=rng.choice([3, 4, 6]), rotation=rng.uniform(0, 90), fill=(255, 255, 255, 60)
        )
    font = _font(int(min(width, height) * 0.13))
    draw.text((width / 2, height * 0.45), spec.title.upper(), font=font, fill=(255, 255, 255), anchor="mm")
    small = _font(int(min(width, height) * 0.05))
    draw.text(
        (width / 2, height * 0.6), "imgtui demo library", font=small, fill=(255, 255, 255, 200), anchor="mm"
    )
    return image


def _stripes(spec: DemoImage, rng: random.Random) -> Image.Image:
    top, bottom = PALETTES[spec.palette]
    width, height = spec.size
    image = Image.new("RGB", spec.size, bottom)
    draw = ImageDraw.Draw(image)
    band = max(8, int(min(width, height) * rng.uniform(0.05, 0.1)))
    for offset in range(-height, width + height, band * 2):
        draw.polygon(
            [(offset, 0), (offset + band, 0), (offset + band + height, height), (offset + height, height)],
            fill=top,
        )
    _label(image, spec.title)
    return image


def _sneaker(spec: DemoImage, rng: random.Random) -> Image.Image:
    width, height = spec.size
    image = _gradient(spec.size, (245, 245, 248), (210, 214, 224))
    draw = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return (width * x, height * y)

    draw.ellipse((*at(0.15, 0.70), *at(0.88, 0.80)), fill=(180, 182, 192))  # shadow
    draw.rounded_rectangle(
        (*at(0.14, 0.62), *at(0.86, 0.72)),
        radius=height * 0.04,
        fill=(250, 250, 250),
        outline=(200, 200, 205),
        width=4,
    )
    upper = [
        at(0.16, 0.63),
        at(0.2, 0.38),
        at(0.38, 0.33),
        at(0.5, 0.45),
        at(0.72, 0.5),
        at(0.85, 0.58),
        at(0.85, 0.63),
    ]
    draw.polygon(upper, fill=(214, 40, 40))
    draw.polygon([at(0.2, 0.38), at(0.3, 0.35), at(0.34, 0.5), at(0.22, 0.52)], fill=(170, 20, 25))
    for step in range(4):
        x = 0.42 + step * 0.05
        draw.line(
            (*at(x, 0.42 + step * 0.015), *at(x + 0.04, 0.47 + step * 0.015)), fill=(255, 255, 255), width=6
        )
    draw.arc((*at(0.45, 0.5), *at(0.8, 0.75)), 200, 330, fill=(255, 255, 255), width=10)
    font = _font(int(height * 0.06))
    draw.text(at(0.06, 0.86), "products/shoes/red-sneaker.png", font=font, fill=(70, 70, 80))
    return image


DRAWINGS = {
    "landscape": _landscape,
    "orbs": _orbs,
    "bars": _bars,
    "avatar": _avatar,
    "poster": _poster,
    "stripes": _stripes,
    "sneaker": _sneaker,
}


def _svg(spec: DemoImage) -> bytes:
    top, bottom = PALETTES[spec.palette]
    width, height = spec.size
    hex_top, hex_bottom = ("#{:02x}{:02x}{:02x}".format(*colour) for colour in (top, bottom))
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 512 512">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="{hex_top}"/><stop offset="1" stop-color="{hex_bottom}"/></linearGradient></defs>
  <rect width="512" height="512" rx="96" fill="url(#g)"/>
  <rect x="96" y="136" width="320" height="240" rx="24" fill="none" stroke="#fff" stroke-width="28"/>
  <circle cx="196" cy="220" r="30" fill="#fff"/>
  <path d="M110 360 L220 260 L290 320 L340 280 L404 350 Z" fill="#fff"/>
</svg>
""".encode()


def encode(spec: DemoImage, seed: int) -> bytes:
    """The file bytes of one demo image (blocking: call from a thread)."""
    if spec.fmt == "SVG":
        return _svg(spec)
    image = DRAWINGS[spec.kind](spec, random.Random(seed))
    buffer = io.BytesIO()
    if spec.fmt == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=82, optimize=True)
    elif spec.fmt == "GIF":
        image.convert("P", palette=Image.Palette.ADAPTIVE, colors=128).save(buffer, "GIF")
    elif spec.fmt == "WEBP":
        image.save(buffer, "WEBP", quality=80, method=2)
    else:
        image.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def draw_all(catalog: list[DemoImage]) -> list[bytes]:
    return [encode(spec, SEED + index) for index, spec in enumerate(catalog)]


async def fill_demo_library(
    images: Images, on_start: Callable[[], object] | None = None, *, clock: DemoClock | None = None
) -> int:
    """Upload the demo set when the library is empty; returns how many were added (0 if it
    was not empty). `on_start` runs once it is known the set will be drawn. `clock`, the
    library's clock, spreads the upload times. Raises ImagesError from the service."""
    first = await images.hosted.list(limit=1)
    if first.images:
        return 0
    if on_start is not None:
        on_start()
    catalog = demo_catalog()
    blobs = await asyncio.to_thread(draw_all, catalog)
    if clock is not None:
        clock.start(len(catalog))
    try:
        # Oldest first, so the first entries of the catalog are the newest: `--demo` opens on them.
        for spec, data in reversed(list(zip(catalog, blobs, strict=True))):
            await images.hosted.upload(
                data,
                id=spec.custom_id,
                filename=spec.filename,
                require_signed_urls=spec.signed,
                metadata=spec.metadata,
                creator=spec.creator,
            )
    finally:
        if clock is not None:
            clock.stop()
    return len(catalog)
