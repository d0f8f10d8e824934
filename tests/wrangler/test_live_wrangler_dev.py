"""Against a running `wrangler dev` (when wrangler is installed): what the Worker's binding
lists is what imgtui reads, and reading does not get in the way of the Worker's next upload.

Wrangler is looked up as IMGTUI_WRANGLER, then `wrangler` on PATH, then node_modules/.bin in
the repository or its parent (install it with `npm install wrangler`). Bounded well under 60 s.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imgtui.service import Images
from imgtui.service.models import ImageMetadata

from ..service.imagedata import png
from .conftest import HERE

REPO = HERE.parent.parent
START_TIMEOUT_S = 40.0
STOP_TIMEOUT_S = 10.0


def find_wrangler() -> str | None:
    candidates = [os.environ.get("IMGTUI_WRANGLER"), shutil.which("wrangler")]
    candidates += [str(base / "node_modules" / ".bin" / "wrangler") for base in (REPO, REPO.parent)]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


WRANGLER = find_wrangler()
pytestmark = pytest.mark.skipif(
    WRANGLER is None, reason="wrangler is not installed (set IMGTUI_WRANGLER or `npm install wrangler`)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, data: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


@pytest.fixture
def wrangler_dev(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A copy of tests/wrangler/worker under `wrangler dev` on a loopback port."""
    assert WRANGLER is not None
    project = tmp_path / "project"
    shutil.copytree(HERE / "worker", project)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CI": "1", "WRANGLER_SEND_METRICS": "false"}
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workerd children are stopped with it
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                call(f"{base}/list")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("wrangler dev did not start:\n" + (tmp_path / "dev.log").read_text()[-2000:])
                time.sleep(0.3)
        yield project, base
    finally:
        try:
            os.killpg(process.pid, 2)  # SIGINT, as Ctrl-C
            process.wait(timeout=STOP_TIMEOUT_S)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, 9)
            process.wait()
        log.close()


async def test_imgtui_reads_what_the_running_worker_stored(wrangler_dev: tuple[Path, str]) -> None:
    project, base = wrangler_dev
    cat = call(f"{base}/upload?id=live-cat&filename=cat.png&creator=alice", png())
    dog = call(f"{base}/upload?filename=dog.png&meta=%7B%22n%22%3A1%7D", png(size=(4, 4)))
    async with Images.open(f"wrangler:{project}") as images:
        listed = (await images.hosted.list()).images
        assert listed == [ImageMetadata.model_validate(i) for i in call(f"{base}/list")["images"]]
        assert {image.id for image in listed} == {cat["id"], dog["id"]}
        assert await images.hosted.image(dog["id"]).details() == ImageMetadata.model_validate(dog)
        assert await images.hosted.image("live-cat").read() == png()
        # The Worker keeps writing while imgtui has read (and holds an open stream).
        stream = await images.hosted.image("live-cat").bytes()
        third = call(f"{base}/upload?id=live-third", png(size=(5, 5)))
        assert stream is not None and b"".join([chunk async for chunk in stream]) == png()
        assert [image.id for image in (await images.hosted.list()).images][-1] == third["id"]
        assert [image.id for image in (await images.hosted.list(creator="alice")).images] == ["live-cat"]
