"""The committed state of a real `wrangler dev` run (make_state.sh), copied into a project
folder per test: SQLite adds -shm/-wal files beside a WAL database it opens, even read-only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
STATE = HERE / "state"
IMAGES_UNDER_PROJECT = Path(".wrangler", "state", "v3", "images")


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    """What the binding answered in that run: the uploads, the final list, each file's sha256."""
    return json.loads((HERE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Worker project folder holding the fixture's images state."""
    root = tmp_path / "project"
    shutil.copytree(STATE, root / IMAGES_UNDER_PROJECT)
    return root
