"""`imgtui cp`: what is copied, the id map, re-runs, resumes, dry runs, refusals."""

from __future__ import annotations

import asyncio
import csv
import json
import socket
from pathlib import Path

import pytest

from imgtui.backends.local import LocalBackend
from imgtui.service import Images
from imgtui.workflows.copy import IdMap, copy_library
from tests.rest_harness import ACCOUNT_ID

from .conftest import Where, png


async def _everything(path: Path) -> dict[str, tuple[dict[str, object], bytes]]:
    async with Images.local(path) as images:
        page = await images.hosted.list(limit=1000)
        found = {}
        for image in page.images:
            record = image.model_dump(mode="json", by_alias=True)
            for volatile in ("id", "uploaded", "variants"):
                record.pop(volatile)
            found[image.id] = (record, await images.hosted.image(image.id).read() or b"")
        return found


def everything(path: Path) -> dict[str, tuple[dict[str, object], bytes]]:
    return asyncio.run(_everything(path))


def read_csv_map(path: Path) -> dict[str, str]:
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[0] == ["old_id", "new_id"]
    return dict(rows[1:])


def test_copies_everything_and_maps_generated_ids(run, local_lib: Where, tmp_path: Path) -> None:
    dest, id_map = tmp_path / "dest", tmp_path / "ids.csv"
    result = run("cp", str(local_lib.path), f"local:{dest}", "--map", str(id_map))
    assert result.code == 0, result.err
    assert "3 copied" in result.err
    mapping = read_csv_map(id_map)
    generated = local_lib.ids[2]
    assert list(mapping) == [generated] and mapping[generated] != generated
    source, copied = everything(local_lib.path), everything(dest)
    assert copied["cats/tom"] == source["cats/tom"]
    assert copied["dogs/rex"] == source["dogs/rex"]
    assert copied[mapping[generated]] == source[generated]  # bytes, filename, meta, signed flag
    assert copied[mapping[generated]][0]["requireSignedURLs"] is True


def test_a_rerun_copies_nothing_twice(run, local_lib: Where, tmp_path: Path) -> None:
    dest, id_map = tmp_path / "dest", tmp_path / "ids.json"
    assert run("cp", str(local_lib.path), str(dest), "--map", str(id_map)).code == 0
    first = json.loads(id_map.read_text())
    again = run("cp", str(local_lib.path), str(dest), "--map", str(id_map))
    assert again.code == 0 and "3 skipped" in again.err and "copied" not in again.err
    assert json.loads(id_map.read_text()) == first
    assert len(everything(dest)) == 3
    # A mapped copy deleted from the destination is copied again, under a new id.
    assert run("rm", "--library", str(dest), first[local_lib.ids[2]], "--yes").code == 0
    third = run("cp", str(local_lib.path), str(dest), "--map", str(id_map))
    assert "1 copied" in third.err and "2 skipped" in third.err
    assert len(everything(dest)) == 3


async def test_an_interrupted_copy_resumes(local_lib: Where, tmp_path: Path) -> None:
    dest, map_path = tmp_path / "dest", tmp_path / "ids.csv"
    async with Images.local(local_lib.path) as source:
        for n in range(20):
            await source.hosted.upload(png((n, n, 0)), filename=f"gen{n}.png")
        async with Images.local(dest) as target:
            events = copy_library(source, target, id_map=IdMap(map_path), jobs=3)
            done = [await anext(events) for _ in range(5)]
            await events.aclose()  # as Ctrl-C does: the tasks in flight are cancelled
            assert all(event.action == "copy" for event in done)
            resumed = [event async for event in copy_library(source, target, id_map=IdMap(map_path), jobs=3)]
            kinds = [event.action for event in resumed]
            assert kinds.count("skip") >= 5 and "fail" not in kinds
            listed = await target.hosted.list(limit=100)
    # Nothing twice: one destination image per source image, every generated id mapped once.
    assert len(listed.images) == 23
    mapping = read_csv_map(map_path)
    assert len(mapping) == 21 and len(set(mapping.values())) == 21


def test_dry_run_lists_copy_skip_refuse_and_writes_nothing(run, local_lib: Where, tmp_path: Path) -> None:
    async def add_hostile() -> None:
        backend = LocalBackend(local_lib.path)
        await backend.fill_unchecked([("bad/creator", png(), "\x1b]2;X\x07")])
        await backend.aclose()

    asyncio.run(add_hostile())
    dest = tmp_path / "dest"
    assert run("put", "--library", str(dest), str(_file(tmp_path)), "--id", "dogs/rex").code == 0
    result = run("cp", str(local_lib.path), str(dest), "--dry-run", "--map", str(tmp_path / "m.csv"))
    assert result.code == 0, result.err
    lines = {line.split()[1]: line for line in result.out.splitlines()}
    assert lines["cats/tom"].startswith("copy ")
    assert lines["dogs/rex"].startswith("skip ") and "already in the destination" in lines["dogs/rex"]
    assert lines[local_lib.ids[2]].startswith("copy ") and "(new id)" in lines[local_lib.ids[2]]
    assert lines["bad/creator"].startswith("refuse ") and "5400" in lines["bad/creator"]
    assert "\x1b" not in result.out
    assert len(everything(dest)) == 1 and not (tmp_path / "m.csv").exists()
    # The real copy reports the refusal as an error, copies the rest, and exits 1.
    real = run("cp", str(local_lib.path), str(dest))
    assert real.code == 1 and "ERROR 5400: bad/creator:" in real.err
    assert "without --map" in real.err
    assert len(everything(dest)) == 3  # dogs/rex was there; cats/tom and the generated one came


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "x.png"
    path.write_bytes(png((50, 50, 50)))
    return path


def test_query_copies_only_matches(run, local_lib: Where, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    result = run("cp", str(local_lib.path), str(dest), "--query", "alice")
    assert result.code == 0 and list(everything(dest)) == ["cats/tom"]


def test_to_and_from_imgtui_serve(run, local_lib: Where, served_lib: Where, tmp_path: Path) -> None:
    endpoint = served_lib.args[1]
    id_map = tmp_path / "up.csv"
    up = run(
        "cp",
        str(local_lib.path),
        f"cf:{ACCOUNT_ID}",
        "--endpoint",
        endpoint,
        "--map",
        str(id_map),
        "--jobs",
        "2",
    )
    # The served library already holds cats/tom and dogs/rex (the same seed): skipped.
    assert up.code == 0, up.err
    assert "1 copied" in up.err and "2 skipped" in up.err
    assert len(everything(served_lib.path)) == 4
    down_map = tmp_path / "down.json"
    down = run("cp", endpoint, f"local:{tmp_path / 'backup'}", "--map", str(down_map))
    assert down.code == 0, down.err and "4 copied" in down.err
    assert len(json.loads(down_map.read_text())) == 2
    again = run("cp", endpoint, f"local:{tmp_path / 'backup'}", "--map", str(down_map))
    assert "4 skipped" in again.err


def test_bad_specs_and_options_are_usage_errors(run, local_lib: Where, tmp_path: Path) -> None:
    src = str(local_lib.path)
    assert run("cp", src, "s3:bucket").code == 2
    wrangler = run("cp", f"wrangler:{tmp_path / 'no-project'}", str(tmp_path / "d"))
    assert wrangler.code == 1 and "ERROR 9001" in wrangler.err and "wrangler" in wrangler.err  # no state
    assert run("cp", src, str(tmp_path / "d"), "--jobs", "0").code == 2
    assert run("cp", src, str(tmp_path / "d"), "--jobs", "1000").code == 2
    bad_map = tmp_path / "bad.json"
    bad_map.write_text("[1, 2]")
    assert run("cp", src, str(tmp_path / "d"), "--map", str(bad_map)).code == 2
    assert run("cp", src).code == 2
    assert run("cp", src, str(tmp_path / "d"), "--map", str(tmp_path / "no" / "ids.csv")).code == 2
    assert run("cp", src, str(tmp_path / "d"), "--map", str(tmp_path)).code == 2  # a folder


def test_a_dead_server_fails_with_a_code(run, local_lib: Where, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "t")
    dead = f"http://127.0.0.1:{port}/client/v4"
    result = run("cp", str(local_lib.path), dead)
    assert result.code == 1 and "ERROR 9000" in result.err
    listing = run("ls", "--endpoint", dead, "--account-id", ACCOUNT_ID)
    assert listing.code == 1 and "ERROR 9000" in listing.err
