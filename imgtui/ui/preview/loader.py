"""Fetch + decode + cache for previews, with no Textual in it (the widget and the benchmark
share it).

`PreviewLoader.load()` never raises for a bad image: every outcome is either a
`Thumbnail` or a `PreviewMessage` the panel can show. Cancelling the awaiting task abandons
an in-flight download (the byte stream is closed) and a decode that has not started yet;
a decode already running finishes in its thread and its result is simply not used.
"""

from __future__ import annotations

import asyncio
import math
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgtui.common.lru import ByteBudgetLRU
from imgtui.service import Images, ImagesError
from imgtui.workflows.retry import retry_read

if TYPE_CHECKING:
    from typing import TypeAlias

    from .decode import Thumbnail

# Decoding (Pillow) and SVG rasterising are imported by the first load(), not with the
# panel: the app's first frame needs neither.

# Thumbnails of a ~60x30-cell panel are ~1 MB of RGB; this keeps the last few dozen.
THUMBNAIL_BUDGET_BYTES = 48 * 1024 * 1024
# Originals are kept so a panel resize re-decodes without downloading again.
ORIGINAL_BUDGET_BYTES = 32 * 1024 * 1024
# Cloudflare caps uploads at 10 MB; anything far beyond that is not worth a preview.
MAX_FETCH_BYTES = 40 * 1024 * 1024
VERDICT_BUDGET_BYTES = 256 * 1024
# Target boxes are rounded up to this many pixels so small resizes reuse the cache.
BOX_STEP_PX = 64


@dataclass(frozen=True, slots=True)
class PreviewMessage:
    """Why there is no picture: shown in the panel instead of one."""

    text: str
    is_error: bool = False  # True for failures (red); False for "nothing to show" facts


PreviewOutcome: TypeAlias = "Thumbnail | PreviewMessage"


def _text_cost(message: PreviewMessage) -> int:
    return len(message.text) + 64


def bucket_box(width_px: int, height_px: int) -> tuple[int, int]:
    """Round a pixel box up to the cache step (at least one step each way)."""

    def step(value: int) -> int:
        return max(BOX_STEP_PX, math.ceil(value / BOX_STEP_PX) * BOX_STEP_PX)

    return step(width_px), step(height_px)


class PreviewLoader:
    """Owns the two caches and the single decode thread of one preview panel."""

    def __init__(
        self,
        images: Images,
        *,
        thumbnail_budget: int = THUMBNAIL_BUDGET_BYTES,
        original_budget: int = ORIGINAL_BUDGET_BYTES,
        max_fetch_bytes: int = MAX_FETCH_BYTES,
    ) -> None:
        self.images = images
        self.max_fetch_bytes = max_fetch_bytes
        self.thumbnails: ByteBudgetLRU[tuple[str, tuple[int, int]], Thumbnail] = ByteBudgetLRU(
            thumbnail_budget, lambda thumb: thumb.cost
        )
        self.originals: ByteBudgetLRU[str, bytes] = ByteBudgetLRU(original_budget, len)
        # "corrupt", "over the limits" (SVG canvases too): facts about the bytes, kept like thumbnails
        # (failures such as network errors are not: the next show() tries again).
        self.verdicts: ByteBudgetLRU[str, PreviewMessage] = ByteBudgetLRU(VERDICT_BUDGET_BYTES, _text_cost)
        # Bumped by forget(): a fetch or decode that started before it must not refill the
        # caches with what may now be a deleted or replaced image.
        self._generation: dict[str, int] = {}
        self._decoder: ThreadPoolExecutor | None = None

    def cached(self, image_id: str, box: tuple[int, int]) -> PreviewOutcome | None:
        """The outcome for (id, box) if it is already known: no I/O, instant."""
        return self.thumbnails.get((image_id, box)) or self.verdicts.get(image_id)

    async def load(self, image_id: str, box: tuple[int, int]) -> PreviewOutcome:
        """The preview of `image_id` fitting `box` (a `bucket_box` result), cache first."""
        known = self.cached(image_id, box)
        if known is not None:
            return known
        from .decode import Unpreviewable, decode_thumbnail

        generation = self._generation.get(image_id, 0)
        try:
            data = self.originals.get(image_id)
            if data is None:
                data = await self._fetch(image_id)
                if data is None:
                    return PreviewMessage("Image not found (it may have been deleted)", is_error=True)
                if generation == self._generation.get(image_id, 0):
                    self.originals.put(image_id, data)
            loop = asyncio.get_running_loop()
            thumbnail = await loop.run_in_executor(self._executor(), decode_thumbnail, data, box)
        except Unpreviewable as exc:
            verdict = PreviewMessage(exc.message)
            if generation == self._generation.get(image_id, 0):
                self.verdicts.put(image_id, verdict)
            return verdict
        except ImagesError as exc:
            return PreviewMessage(f"Preview failed: {exc}", is_error=True)
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            # Service errors arrive as ImagesError; anything else is a bug somewhere. Show
            # the type only: a foreign exception's text is not vetted for secrets.
            return PreviewMessage(f"Preview failed: unexpected {type(exc).__name__}", is_error=True)
        if generation == self._generation.get(image_id, 0):
            self.thumbnails.put((image_id, box), thumbnail)
        return thumbnail

    def _executor(self) -> ThreadPoolExecutor:
        # One thread: on 2 cores a second concurrent decode would only slow the UI; queued
        # decodes of images the user has already moved past are cancelled before they start.
        if self._decoder is None:
            self._decoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imgtui-preview")
        return self._decoder

    async def _fetch(self, image_id: str) -> bytes | None:
        # A transient failure (a 500, a dropped connection) is tried again with backoff, so a
        # preview is not stuck on one bad answer until the cursor moves.
        return await retry_read(lambda: self._fetch_once(image_id))

    async def _fetch_once(self, image_id: str) -> bytes | None:
        stream = await self.images.hosted.image(image_id).bytes()
        if stream is None:
            return None
        from imgtui.workflows.image_decode import read_capped

        from .decode import Unpreviewable

        cap = self.max_fetch_bytes
        return await read_capped(
            stream, cap, lambda: Unpreviewable(f"No preview: the image is over {cap // (1024 * 1024)} MiB")
        )

    def forget(self, image_id: str) -> None:
        """Drop everything cached for `image_id` (after a delete or a re-upload)."""
        self._generation[image_id] = self._generation.get(image_id, 0) + 1
        self.originals.pop(image_id)
        self.verdicts.pop(image_id)
        self.thumbnails.discard_where(lambda key: key[0] == image_id)

    def close(self) -> None:
        """Stop the decode thread (a later load() starts a new one); queued decodes are
        dropped, a running one finishes."""
        if self._decoder is not None:
            self._decoder.shutdown(wait=False, cancel_futures=True)
            self._decoder = None
            svg_raster = sys.modules.get("imgtui.workflows.svg_raster")
            if svg_raster is not None:  # only if an SVG was ever drawn (imported by decoding)
                svg_raster.abort()  # the preview goes with the app: a slow SVG must not hold the exit
