"""The official npm TypeScript SDK (`cloudflare` 7.x) drives `imgtui serve` over loopback:
every `images` method (tests/emulator/npm_sdk_drive.cjs), beside the Python SDK's test.

The SDK is installed once into pytest's cache folder (`.pytest_cache/d/npm-cloudflare-sdk`)
and reused while its version matches. Without node and npm, or when the registry cannot be
reached, the test is skipped and says why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator
from tests.rest_harness import ACCOUNT_ID

from .conftest import TOKEN, make_png

SDK_VERSION = "7.3.0"  # the version issue 10 was checked with; bump here to test another
DRIVER = Path(__file__).with_name("npm_sdk_drive.cjs")
INSTALL_SECONDS = 240
RUN_SECONDS = 60
METHODS = [
    "v1.create",
    "v1.get",
    "v1.blobs.get",
    "v1.edit",
    "v1.list",
    "v2.list",
    "v2.directUploads.create",
    "v1.stats.get",
    "v1.keys.list",
    "v1.keys.update",
    "v1.keys.delete",
    "v1.variants.create",
    "v1.variants.list",
    "v1.variants.get",
    "v1.variants.edit",
    "v1.variants.delete",
    "v1.delete",
]


def installed_version(folder: Path) -> str | None:
    manifest = folder / "node_modules" / "cloudflare" / "package.json"
    try:
        return json.loads(manifest.read_text()).get("version")
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="session")
def npm_sdk(pytestconfig: pytest.Config) -> Path:
    """A folder holding node_modules/cloudflare at SDK_VERSION (installed on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(f"the npm SDK test needs node and npm on PATH (node: {node}, npm: {npm})")
    assert pytestconfig.cache is not None
    folder = Path(pytestconfig.cache.mkdir("npm-cloudflare-sdk"))
    if installed_version(folder) == SDK_VERSION:
        return folder
    command = [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(folder)]
    try:
        done = subprocess.run(
            [*command, f"cloudflare@{SDK_VERSION}"],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install cloudflare@{SDK_VERSION} took over {INSTALL_SECONDS} s (no registry?)")
    if done.returncode != 0 or installed_version(folder) != SDK_VERSION:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        pytest.skip(
            f"npm could not install cloudflare@{SDK_VERSION} (registry unreachable?): {' | '.join(tail)}"
        )
    return folder


def test_the_npm_sdk_drives_every_images_method(npm_sdk: Path, server: BackgroundEmulator) -> None:
    env = {
        **os.environ,
        "SDK_DIR": str(npm_sdk),
        "BASE_URL": server.api_url,
        "API_TOKEN": TOKEN,
        "ACCOUNT_ID": ACCOUNT_ID,
        "PNG_BASE64": base64.b64encode(make_png()).decode("ascii"),
    }
    done = subprocess.run(
        [shutil.which("node") or "node", str(DRIVER)],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["called"] == METHODS  # every images method, each checked in the driver
    assert [error["code"] for error in report["conflict"]] == [5409]  # Cloudflare's code for a taken id

    # The same run seen from outside the SDK: the direct upload landed, the deleted image is gone.
    api = f"{server.api_url}/accounts/{ACCOUNT_ID}/images"
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        assert client.get(f"{api}/v1/pets%2Fcat").status_code == 404
        uploaded = client.get(f"{api}/v1/by%2Fnpm").json()["result"]
        assert uploaded["meta"] == {"k": "v"} and not uploaded.get("draft")
        variants = client.get(f"{api}/v1/variants").json()["result"]["variants"]
        assert sorted(variants) == report["variants"]  # hero came and went
