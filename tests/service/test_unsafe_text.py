"""Issue 9, findings 1 (service side) and 6 (metadata depth): names that would drive a
terminal are refused at upload and update, and deep metadata is a 5400, never a RecursionError."""

from __future__ import annotations

import re
import sys

import pytest

from imgtui.common import text
from imgtui.service import Images, ImagesError, rules
from imgtui.service.rules import MAX_METADATA_DEPTH

from .imagedata import png

HOSTILE = [
    "\x1b]2;PWNED\x07",  # renamed the terminal's title
    "\x1b[2J\x1b[?1049l",  # wiped the screen and left the alternate screen
    "evil\u202egnp.exe",  # shows as evilexe.png
    "a\u2066b",
    "csi\x9b31m",  # the 8-bit CSI (C1)
    "del\x7f",
    "nul\x00",
    "sep\u2028",
]


def test_the_service_refuses_exactly_what_the_display_escapes() -> None:
    every_code_point = "".join(map(chr, range(sys.maxunicode + 1)))
    refused = re.findall(f"[{rules.UNSAFE_CHARACTERS}]", every_code_point)
    escaped = [ch for ch in refused if text.has_unsafe_characters(ch)]
    assert refused == escaped
    assert len(text._UNSAFE.findall(every_code_point)) == len(refused)


async def _error(call) -> ImagesError:
    with pytest.raises(ImagesError) as info:
        await call
    return info.value


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_upload_refuses_controls_in_id_filename_and_creator(images: Images, hostile: str) -> None:
    for what, options in (
        ("Custom ID", {"id": f"id-{hostile}"}),
        ("Filename", {"filename": f"{hostile}.png"}),
        ("Creator", {"creator": hostile}),
    ):
        error = await _error(images.hosted.upload(png(), **options))
        assert error.code == 5400, options
        assert error.message.startswith(f"{what} must not contain control or bidirectional")
        assert f"U+{ord(rules.first_unsafe_character(hostile) or ' '):04X}" in error.message
    assert (await images.hosted.list()).images == []


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_update_refuses_controls_in_creator(images: Images, hostile: str) -> None:
    meta = await images.hosted.upload(png(), creator="ann")
    error = await _error(images.hosted.image(meta.id).update(creator=hostile))
    assert error.code == 5400 and "control or bidirectional" in error.message
    assert (await images.hosted.image(meta.id).details()).creator == "ann"


async def test_plain_unicode_names_still_pass(images: Images) -> None:
    meta = await images.hosted.upload(png(), id="café/東京", filename="猫 🐈.png", creator="Zoë")
    assert (meta.id, meta.filename, meta.creator) == ("café/東京", "猫 🐈.png", "Zoë")


async def test_the_list_filter_still_finds_nothing_rather_than_refusing(images: Images) -> None:
    assert (await images.hosted.list(creator="\x1b[2J")).images == []


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def _nested_lists(depth: int) -> dict:
    value: list = []
    for _ in range(depth - 2):
        value = [value]
    return {"k": value}


@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_metadata_thousands_deep_is_5400_not_recursion_error(images: Images, depth: int) -> None:
    for metadata in (_nested(depth), _nested_lists(depth)):
        error = await _error(images.hosted.upload(png(), metadata=metadata))
        assert error.code == 5400 and "nested too deeply" in error.message
    meta = await images.hosted.upload(png(), metadata={"a": 1})
    error = await _error(images.hosted.image(meta.id).update(metadata=_nested(depth)))
    assert error.code == 5400
    assert (await images.hosted.image(meta.id).details()).meta == {"a": 1}


async def test_metadata_depth_limit_is_exact(images: Images) -> None:
    meta = await images.hosted.upload(png(), metadata=_nested(MAX_METADATA_DEPTH))
    assert meta.meta == _nested(MAX_METADATA_DEPTH)
    error = await _error(images.hosted.upload(png(), metadata=_nested(MAX_METADATA_DEPTH + 1)))
    assert error.code == 5400


async def test_self_referencing_and_widely_shared_metadata_end_quickly(images: Images) -> None:
    looped: dict = {}
    looped["self"] = looped
    assert (await _error(images.hosted.upload(png(), metadata=looped))).code == 5400
    shared: list = [0]
    for _ in range(30):  # 2**30 paths through 31 lists: a naive walk would never end
        shared = [shared, shared]
    assert (await _error(images.hosted.upload(png(), metadata={"k": shared}))).code == 5400
