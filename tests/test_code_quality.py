"""The code stays typed and lint-clean: mypy and ruff run with the suite, so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["imgtui", "tests", "benchmarks", "screenshots"]


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_mypy_finds_no_issues(tmp_path: Path) -> None:
    result = run_module("mypy", "imgtui", "--cache-dir", str(tmp_path / "mypy-cache"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_and_format_are_clean() -> None:
    lint = run_module("ruff", "check", *SOURCES)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = run_module("ruff", "format", "--check", *SOURCES)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
