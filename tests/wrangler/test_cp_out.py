"""`imgtui cp wrangler:DIR local:PATH`: what a Worker stored under wrangler dev, copied out."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import pytest

from imgtui.commands import main
from imgtui.service import Images


async def listing(path: Path) -> dict[str, Any]:
    async with Images.local(path) as images:
        found = await images.hosted.list(limit=100)
        return {image.filename: image for image in found.images}


def test_cp_copies_every_image_once_and_maps_new_ids(
    project: Path, tmp_path: Path, expected: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    target, id_map = tmp_path / "pics", tmp_path / "ids.csv"
    assert main(["cp", f"wrangler:{project}", f"local:{target}", "--map", str(id_map)]) == 0
    source = {image["filename"]: image for image in expected["list"]["images"]}
    copied = asyncio.run(listing(target))
    assert set(copied) == set(source)
    for name, image in source.items():
        assert (copied[name].meta or {}) == (image["meta"] or {})
        assert copied[name].require_signed_urls == image["requireSignedURLs"]
        assert copied[name].creator == image.get("creator")
    with id_map.open(newline="") as handle:
        mapped = list(csv.reader(handle))
    # UUID ids get new ones; custom ids (dog-1, brand/logo) stay as they were.
    uuids = {image["id"] for image in source.values() if len(image["id"]) == 36 and image["id"][8] == "-"}
    assert {row[0] for row in mapped if row and row[0] != "old_id"} == uuids
    assert {"dog-1", "brand/logo"} <= {image.id for image in copied.values()}
    capsys.readouterr()
    assert main(["cp", f"wrangler:{project}", f"local:{target}", "--map", str(id_map)]) == 0
    assert f"{len(source)} skipped" in capsys.readouterr().err  # nothing twice
