"""A second process for the tests: uploads images to a library and prints each id once its
upload has returned (flushing, so the parent knows exactly what was acknowledged).

    python -m tests.service.writer_process LIBRARY COUNT CREATOR [BIG_EVERY]
"""

from __future__ import annotations

import asyncio
import sys

from imgtui.service import Images
from tests.service.imagedata import distinct_png


async def main(library: str, count: int, creator: str, big_every: int) -> None:
    async with Images.local(library) as images:
        for n in range(count):
            data = distinct_png(n)
            if big_every and n % big_every == 0:
                data += bytes(1 << 20)  # some larger blobs, so a kill can land mid-write
            meta = await images.hosted.upload(data, creator=creator)
            print(meta.id, flush=True)


if __name__ == "__main__":
    library, count, creator = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    asyncio.run(main(library, count, creator, int(sys.argv[4]) if len(sys.argv) > 4 else 0))
