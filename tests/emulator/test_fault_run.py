"""A scripted run of 500 mixed operations under ~20% mixed faults (errors, 429s, latency,
connections dropped before and after the server acted) ends with nothing lost and nothing
duplicated: the final library is compared with what the client was told."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from imgtui.service import Images, ImagesError
from tests.rest_harness import rest_server_and_images

from .conftest import make_png

OPERATIONS = 500


@dataclass
class Expected:
    """What the library must hold, from the answers the client got."""

    meta: dict[str, dict] = field(default_factory=dict)  # id -> its metadata, for sure
    maybe_meta: dict[str, list[dict]] = field(default_factory=dict)  # id -> possible metadata (failed update)
    gone: set[str] = field(default_factory=set)  # deleted for sure
    maybe_present: set[str] = field(default_factory=set)  # a failed delete or custom-id upload
    unknown_uploads: set[int] = field(default_factory=set)  # ops of failed id-less uploads


async def _run(images: Images, rng: random.Random, expected: Expected) -> dict[str, int]:
    outcomes = {"ok": 0, "error": 0}
    known: list[str] = []
    for op in range(OPERATIONS):
        roll = rng.random()
        try:
            if roll < 0.30 or not known:
                image_id = f"custom/{op}"
                try:
                    await images.hosted.upload(make_png(), id=image_id, metadata={"op": op}, creator="run")
                except ImagesError:
                    expected.maybe_present.add(image_id)
                    expected.maybe_meta[image_id] = [{"op": op}]
                    raise
                expected.meta[image_id] = {"op": op}
                known.append(image_id)
            elif roll < 0.50:
                try:
                    image = await images.hosted.upload(make_png(), metadata={"op": op})
                except ImagesError:
                    expected.unknown_uploads.add(op)
                    raise
                expected.meta[image.id] = {"op": op}
                known.append(image.id)
            elif roll < 0.70:
                image_id = rng.choice(known)
                before = expected.meta[image_id]
                try:
                    updated = await images.hosted.image(image_id).update(metadata={**before, "v": op})
                except ImagesError:
                    expected.maybe_meta[image_id] = [before, {**before, "v": op}]
                    raise
                assert updated.meta == {**before, "v": op}
                expected.meta[image_id] = updated.meta
            elif roll < 0.85:
                image_id = known.pop(rng.randrange(len(known)))
                meta = expected.meta.pop(image_id)
                try:
                    assert await images.hosted.image(image_id).delete() is True
                except ImagesError:
                    expected.maybe_present.add(image_id)
                    expected.maybe_meta.setdefault(image_id, [meta])
                    raise
                expected.gone.add(image_id)
                expected.maybe_meta.pop(image_id, None)
            else:
                page = await images.hosted.list(limit=20, sort_order=rng.choice(["asc", "desc"]))
                assert len(page.images) <= 20
            outcomes["ok"] += 1
        except ImagesError as error:
            assert error.code in (9000, 10001), error  # network trouble only, never a wrong answer
            outcomes["error"] += 1
    return outcomes


async def test_nothing_lost_nothing_duplicated_under_faults(tmp_path) -> None:
    library = tmp_path / "lib"
    expected = Expected()
    faults = "rate=0.2,latency=2ms,retry_after=0,seed=7"
    async with rest_server_and_images(library, faults=faults, max_retries=8) as (server, images):
        outcomes = await _run(images, random.Random(11), expected)
        injected = dict(server.faults.counts)

    # Every kind of fault happened, and most operations still succeeded.
    assert set(injected) == {"429", "500", "503", "drop-before", "drop-after", "latency"}, injected
    assert sum(injected.values()) > OPERATIONS * 0.15
    assert outcomes["ok"] > OPERATIONS * 0.95, outcomes

    async with Images.local(library) as direct:
        final = (await direct.hosted.list(limit=10_000)).images
    by_id = {image.id: image for image in final}
    assert len(by_id) == len(final)

    # Nothing duplicated: each operation's image exists at most once.
    ops = [image.meta["op"] for image in final]
    assert len(ops) == len(set(ops))

    # Nothing lost: every acknowledged image is there, with its last acknowledged metadata.
    for image_id, meta in expected.meta.items():
        assert image_id in by_id, f"lost {image_id}"
        assert by_id[image_id].meta in [meta, *expected.maybe_meta.get(image_id, [])]
    # Deleted means deleted.
    assert not expected.gone & set(by_id)
    # Anything else is an operation whose outcome the client honestly reported as unknown.
    for image in final:
        if image.id not in expected.meta:
            assert image.id in expected.maybe_present or image.meta["op"] in expected.unknown_uploads, image
