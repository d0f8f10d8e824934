"""The commands as a user runs them: `python -m imgtui ...` in a real process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imgtui.backends.local import LocalBackend

from .conftest import Where, png

ENV = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}


def imgtui(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imgtui", *args], capture_output=True, text=True, timeout=60, env=ENV, **kwargs
    )  # type: ignore[call-overload]


def test_ls_in_a_process(local_lib: Where) -> None:
    result = imgtui("ls", *local_lib.args, "--ndjson")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == local_lib.ids
    assert result.stderr == ""  # no progress when stderr is not a terminal


def test_help_lists_every_command_and_version_works_everywhere() -> None:
    top = imgtui("--help")
    assert top.returncode == 0
    for name in ("serve", "ls", "info", "put", "get", "edit", "rm", "sign", "cp", "completion"):
        assert f"\n  {name} " in top.stdout
    for args in (["ls", "--version"], ["cp", "--version"]):
        assert imgtui(*args).stdout.startswith("imgtui ")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    result = imgtui("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "ndjson" in result.stdout and "dry-run" in result.stdout


def test_bad_usage_exits_2() -> None:
    assert imgtui("ls", "--order", "sideways").returncode == 2
    assert imgtui("info").returncode == 2
    missing_creds = imgtui("ls", "--account-id", "abc")
    assert missing_creds.returncode == 2 and "CLOUDFLARE_API_TOKEN" in missing_creds.stderr


def _fill(path: Path, count: int) -> None:
    async def fill() -> None:
        backend = LocalBackend(path)
        data = png()
        await backend.fill_unchecked([(f"many/{n:06d}", data, None) for n in range(count)])
        await backend.aclose()

    asyncio.run(fill())


def test_ndjson_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    path = tmp_path / "big"
    _fill(path, 5000)
    # `imgtui ls --ndjson | head -1`: the reader goes away after one line.
    with subprocess.Popen(
        [sys.executable, "-m", "imgtui", "ls", "--library", str(path), "--ndjson"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        code = process.wait(timeout=30)
        err = process.stderr.read().decode()
    assert json.loads(first)["id"] == "many/000000"
    assert code == 0 and err == ""


def test_ctrl_c_stops_cp_with_a_summary_and_a_rerun_finishes(tmp_path: Path) -> None:
    source, dest = tmp_path / "src", tmp_path / "dest"
    _fill(source, 3000)
    with subprocess.Popen(
        [sys.executable, "-m", "imgtui", "cp", str(source), str(dest), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    ) as process:
        deadline = time.monotonic() + 30
        while (
            not (dest / "library.sqlite3").exists()
            and not any(dest.glob("*"))
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    if process.returncode == 0:
        pytest.skip("the copy finished before the signal")
    assert process.returncode == 130, err
    assert "interrupted" in err and "copied" in err
    assert "Traceback" not in err
    again = imgtui("cp", str(source), str(dest))
    assert again.returncode == 0, again.stderr
    assert "skipped" in again.stderr
    listed = imgtui("ls", "--library", str(dest), "--ndjson")
    assert len(listed.stdout.splitlines()) == 3000


def test_wrangler_without_state_is_a_clear_error(tmp_path: Path) -> None:
    result = imgtui("ls", "--wrangler", str(tmp_path))
    assert result.returncode == 1 and "ERROR 9001" in result.stderr
    assert ".wrangler/state/v3/images" in result.stderr  # names what it expected


def test_help_into_a_closed_pipe_exits_quietly() -> None:
    """`imgtui --help | head -1`: the reader is gone before the help is written (a pipe whose
    read end is closed): no traceback, exit 0."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "imgtui", "--help"], stdout=write_end, stderr=subprocess.PIPE, timeout=30
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()
