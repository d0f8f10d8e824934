"""The shared decoder (preview, grid, viewer): decoded once at the needed size, pixel bombs
and corrupt files refused with a short problem for a grid cell."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image, JpegImagePlugin

from imgtui.ui.preview import decode as ui_decode
from imgtui.workflows import image_decode
from imgtui.workflows.image_decode import Unpreviewable, decode_thumbnail
from tests.service.imagedata import crafted_jpeg, crafted_png, crafted_webp


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_the_ui_module_re_exports_the_same_decoder():
    assert ui_decode.decode_thumbnail is decode_thumbnail
    assert ui_decode.Unpreviewable is Unpreviewable


def test_a_large_jpeg_is_decoded_at_the_needed_scale(monkeypatch):
    photo = encoded(Image.linear_gradient("L").resize((4000, 3000)).convert("RGB"), "JPEG", quality=80)
    sizes: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    thumb = decode_thumbnail(photo, (400, 300))
    assert thumb.image.size == (400, 300) and thumb.original_size == (4000, 3000)
    assert sizes and set(sizes) == {(500, 375)}  # libjpeg decoded at 1/8: never the 12 MP frame


# (A crafted GIF of only a screen descriptor is not even identified: "unknown format".)
def test_a_square_box_drafts_at_the_photos_own_aspect(monkeypatch):
    photo = encoded(Image.linear_gradient("L").resize((1600, 1200)).convert("RGB"), "JPEG")
    sizes: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    thumb = decode_thumbnail(photo, (192, 192))
    assert thumb.image.size == (192, 144)
    assert sizes[0] == (200, 150)  # 1/8: a square request would have decoded 400x300


@pytest.mark.parametrize("crafted", [crafted_png, crafted_jpeg, crafted_webp])
def test_a_pixel_bomb_header_is_refused_before_decoding(crafted):
    started = time.perf_counter()
    with pytest.raises(Unpreviewable) as refused:
        decode_thumbnail(crafted(60_000, 60_000), (64, 64))
    assert refused.value.problem == "too large"
    assert time.perf_counter() - started < 0.5


def test_a_corrupt_png_is_a_corrupt_problem():
    data = encoded(Image.new("RGB", (64, 64), (9, 9, 9)), "PNG")
    start = data.index(b"IDAT") + 6
    with pytest.raises(Unpreviewable) as refused:
        decode_thumbnail(data[:start] + b"\xff" * 20 + data[start + 20 :], (32, 32))
    assert refused.value.problem == "corrupt" and "corrupt" in refused.value.message


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (encoded(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")[:300], "corrupt"),  # truncated
        (b"plain text, not an image", "unknown format"),
    ],
)
def test_every_refusal_has_a_short_problem(data, problem):
    with pytest.raises(Unpreviewable) as refused:
        decode_thumbnail(data, (32, 32))
    assert refused.value.problem == problem
    assert len(refused.value.problem) <= 16


def test_transparency_and_sixteen_bit_images_are_normalised():
    palette = Image.new("P", (8, 8), 0)
    palette.info["transparency"] = 0
    assert decode_thumbnail(encoded(palette, "PNG", transparency=0), (8, 8)).image.mode == "RGBA"
    deep = Image.new("I;16", (8, 8), 65535)
    grey = decode_thumbnail(encoded(deep, "PNG"), (8, 8)).image
    assert grey.mode == "RGB" and grey.getpixel((4, 4)) == (255, 255, 255)


def test_the_pixel_ceiling_matches_the_upload_rules():
    from imgtui.service.rules import MAX_AREA_PX, MAX_SIDE_PX

    assert (image_decode.MAX_DECODE_SIDE_PX, image_decode.MAX_DECODE_AREA_PX) == (MAX_SIDE_PX, MAX_AREA_PX)


async def test_read_capped_stops_past_the_cap_and_closes_the_stream() -> None:
    from imgtui.workflows.image_decode import read_capped

    class Endless:
        def __init__(self) -> None:
            self.sent = 0
            self.closed = False

        def __aiter__(self) -> Endless:
            return self

        async def __anext__(self) -> bytes:
            self.sent += 1
            return b"x" * 1024  # a hostile server that never stops

        async def aclose(self) -> None:
            self.closed = True

    endless = Endless()
    with pytest.raises(ValueError, match="too big"):
        await read_capped(endless, 10 * 1024, lambda: ValueError("too big"))
    assert endless.sent == 11 and endless.closed  # stopped at the first chunk past the cap


def test_flatten_alpha_lays_a_transparent_picture_on_the_background() -> None:
    from imgtui.workflows.image_decode import flatten_alpha

    clear = Image.new("RGBA", (2, 2), (255, 0, 0, 0))
    assert flatten_alpha(clear, (1, 2, 3)).getpixel((0, 0)) == (1, 2, 3)
    opaque = Image.new("RGB", (2, 2), (9, 9, 9))
    assert flatten_alpha(opaque, (1, 2, 3)) is opaque
