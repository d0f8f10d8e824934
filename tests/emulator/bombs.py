"""Hostile images for the emulator's tests, built with the service tests' crafted-image helpers
(one GIF LZW encoder and one header-only PNG for the whole suite)."""

from __future__ import annotations

from tests.service.imagedata import animated_gif, crafted_png, gif_frame


def gif_bomb(frame: int = 12_000, screen: int = 1) -> bytes:
    """A GIF with a `screen`x`screen` logical screen and one real `frame`x`frame` frame
    (12000x12000 is 144 megapixels in about 107 KB)."""
    return animated_gif((screen, screen), [gif_frame(0, 0, frame, frame)])


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares `width`x`height` and holds no pixels: any check that must refuse
    it from the header can (decoding it would fail, or cost the declared size)."""
    return crafted_png(width, height)
