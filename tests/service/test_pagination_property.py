"""Property: whatever happens between page fetches, a listing never repeats an image and
never skips one that survives it."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imgtui.service import Images

from .imagedata import distinct_png

CREATORS = [None, "ann", "bob"]

# An action between page fetches: upload (with a creator), delete (an index into the
# current images), or step (fetch the next page).
actions = st.lists(
    st.one_of(
        st.tuples(st.just("upload"), st.sampled_from(CREATORS)),
        st.tuples(st.just("delete"), st.integers(min_value=0, max_value=50)),
        st.tuples(st.just("step"), st.none()),
    ),
    max_size=30,
)


async def _scenario(
    root: Path, initial: list[str | None], plan: list, limit: int, order: str, creator: str | None
) -> None:
    async with Images.local(root / "lib") as images:
        alive: dict[str, tuple[int, str | None]] = {}  # id -> (upload number, creator)
        counter = 0

        async def upload(who: str | None) -> None:
            nonlocal counter
            meta = await images.hosted.upload(distinct_png(counter), creator=who)
            alive[meta.id] = (counter, who)
            counter += 1

        for who in initial:
            await upload(who)
        at_start = set(alive)
        added: set[str] = set()
        seen: list[str] = []
        cursor: str | None = None
        done = False

        async def step() -> None:
            nonlocal cursor, done
            page = await images.hosted.list(limit=limit, cursor=cursor, sort_order=order, creator=creator)
            seen.extend(image.id for image in page.images)
            for image in page.images:
                assert creator is None or image.creator == creator
            cursor, done = page.cursor, page.list_complete

        await step()
        for kind, arg in plan:
            if done:
                break
            if kind == "upload":
                before = set(alive)
                await upload(arg)
                added |= set(alive) - before
            elif kind == "delete" and alive:
                victim = sorted(alive)[arg % len(alive)]
                assert await images.hosted.image(victim).delete()
                del alive[victim]
            else:
                await step()
        for _ in range(counter + 2):  # a correct listing ends long before this
            if done:
                break
            await step()
        assert done, "the listing never ended"

        assert len(seen) == len(set(seen)), "an image was listed twice"
        matching = {i for i, (_n, who) in alive.items() if creator is None or who == creator}
        must_see = matching & at_start
        if order == "asc":
            must_see |= matching & added  # new images sort after the cursor
        missing = must_see - set(seen)
        assert not missing, f"skipped surviving images: {missing}"
        # Order: upload order (or its reverse) among what was seen and is still known.
        known = [alive[i][0] for i in seen if i in alive]
        assert known == sorted(known, reverse=order == "desc")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    initial=st.lists(st.sampled_from(CREATORS), max_size=12),
    plan=actions,
    limit=st.integers(min_value=1, max_value=4),
    order=st.sampled_from(["asc", "desc"]),
    creator=st.sampled_from(CREATORS),
)
def test_listing_never_repeats_or_skips(initial, plan, limit, order, creator) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_scenario(Path(tmp), initial, plan, limit, order, creator))
