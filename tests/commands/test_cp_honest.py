"""`imgtui cp` keeps its promises: ls's query language, nothing copied twice after a lost
answer or a killed process, drafts skipped, never onto itself, profiles as sides."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imgtui.service import ImageMetadata, Images
from imgtui.workflows.copy import copy_library
from imgtui.workflows.copy_lost import CLOCK_SKEW_MS, LEARNT_MARGIN_MS, DestClock, digest, fingerprint
from imgtui.workflows.copy_map import IdMap, Sent, journal_path
from tests.rest_harness import rest_server_and_images, start_emulator

from .conftest import Where, png

ENV = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}


async def _listed(path: Path) -> list[str]:
    async with Images.local(path) as images:
        return [image.id for image in (await images.hosted.list(limit=1000)).images]


def listed(path: Path) -> list[str]:
    return asyncio.run(_listed(path))


# -- 1. the query language of `ls` -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("creator:alice", ["cats/tom"]),
        ("-creator:alice", ["dogs/rex", "GENERATED"]),
        ("private", ["GENERATED"]),
        ("format:png", ["cats/tom", "dogs/rex", "GENERATED"]),
        ("meta.tag=Orange", ["cats/tom"]),
        ("rex", ["dogs/rex"]),  # words still work
    ],
)
def test_query_is_the_language_of_ls(run, local_lib: Where, tmp_path: Path, query: str, expected) -> None:
    want = [local_lib.ids[2] if name == "GENERATED" else name for name in expected]
    shown = run("ls", *local_lib.args, f"--query={query}", "--ndjson")
    assert shown.code == 0 and [json.loads(line)["id"] for line in shown.out.splitlines()] == want
    dry = run("cp", str(local_lib.path), str(tmp_path / "dest"), f"--query={query}", "--dry-run")
    assert dry.code == 0, dry.err
    assert sorted(line.split()[1] for line in dry.out.splitlines()) == sorted(want)  # jobs: any order
    if query == "private":  # only a generated id: the dry run asked the destination nothing
        assert not (tmp_path / "dest").exists()
    real = run("cp", str(local_lib.path), str(tmp_path / "dest"), f"--query={query}")
    assert real.code == 0 and f"{len(want)} copied" in real.err
    assert len(listed(tmp_path / "dest")) == len(want)


def test_a_bad_query_is_a_usage_error_like_ls(run, local_lib: Where, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    for bad in ("meta.k>=x", "uploaded>notadate", "format:"):
        ls = run("ls", *local_lib.args, "--query", bad)
        cp = run("cp", str(local_lib.path), str(dest), "--query", bad)
        assert ls.code == cp.code == 2, (bad, ls.err, cp.err)
        assert cp.err.replace("imgtui cp", "imgtui ls") == ls.err
    assert not dest.exists()


# -- 2. lost answers -----------------------------------------------------------------------


async def _seed_generated(path: Path, count: int) -> None:
    async with Images.local(path) as images:
        for n in range(count):
            await images.hosted.upload(png((n, 1, 1)), filename=f"g{n}.png", metadata={"n": n})
        # Twins (same bytes, filename and metadata): each must get its own copy, not share one.
        for _ in range(2):
            await images.hosted.upload(png((9, 9, 9)), filename="twin.png", creator="cam")


async def test_lost_upload_answers_never_make_duplicates(tmp_path: Path) -> None:
    source_path, dest_path, map_path = tmp_path / "src", tmp_path / "dst", tmp_path / "ids.csv"
    await _seed_generated(source_path, 12)
    faults = "rate=0.3,kinds=drop-after,seed=5"
    async with (
        Images.local(source_path) as source,
        # Reads are retried past the faults (0.3 ** 9): the test is about uploads.
        rest_server_and_images(dest_path, faults=faults, max_retries=8) as (server, dest),
    ):
        runs = []
        for _ in range(3):
            events = [event async for event in copy_library(source, dest, id_map=IdMap(map_path), jobs=3)]
            runs.append(Counter(event.action for event in events))
            # Never more copies than sources, whatever was lost.
            assert len(await _listed(dest_path)) <= 14
        assert server.faults is not None and server.faults.counts["drop-after"] >= 3
    assert runs[-1] == Counter(skip=14)
    copies = await _listed(dest_path)
    mapping = IdMap(map_path)
    assert len(copies) == 14 and len(mapping) == 14
    assert sorted(mapping.get(old) for old in await _listed(source_path)) == sorted(copies)
    assert not journal_path(map_path).exists()  # nothing pending: the journal is gone


async def test_a_lost_answer_of_an_upload_that_never_landed_is_sent_once_more(tmp_path: Path) -> None:
    source_path, dest_path, map_path = tmp_path / "src", tmp_path / "dst", tmp_path / "ids.csv"
    async with Images.local(source_path) as source:
        await source.hosted.upload(png(), filename="only.png")
    async with (
        Images.local(source_path) as source,
        rest_server_and_images(dest_path, faults="rate=0") as (server, dest),
    ):
        assert server.faults is not None
        server.faults.script("drop-before")  # the upload: no answer, and nothing stored
        first = [event async for event in copy_library(source, dest, id_map=IdMap(map_path))]
        assert [event.action for event in first] == ["fail"]
        assert "not found at the destination now" in first[0].reason and "looks again" in first[0].reason
        assert IdMap(map_path).pending  # journalled: the re-run looks before sending
        second = [event async for event in copy_library(source, dest, id_map=IdMap(map_path))]
        assert [(event.action, event.reason) for event in second] == [("copy", "copied with a new id")]
    assert len(await _listed(dest_path)) == 1 and not journal_path(map_path).exists()


def test_the_destination_clock_is_learnt_from_answers() -> None:
    def stamped(ms: int) -> ImageMetadata:
        return ImageMetadata(id="x", uploaded=datetime.fromtimestamp(ms / 1000, UTC))

    clock = DestClock()
    assert clock.earliest(1_000_000) == 1_000_000 - CLOCK_SKEW_MS  # nothing known: wide
    assert clock.latest(1_000_000) == 1_000_000 + CLOCK_SKEW_MS
    # The destination runs 60 s ahead; answers take 100-300 ms.
    clock.learn(1_000_000, 1_000_300, stamped(1_060_100))
    clock.learn(2_000_000, 2_000_100, stamped(2_060_050))
    assert clock.earliest(3_000_000) == 3_000_000 + 59_950 - LEARNT_MARGIN_MS
    assert clock.latest(3_000_000) == 3_000_000 + 60_050 + LEARNT_MARGIN_MS
    clock.learn(4_000_000, 4_000_100, stamped(4_000_050))  # its clock stepped back a minute
    assert clock.earliest(5_000_000) == 5_000_000 - 50 - LEARNT_MARGIN_MS


async def _killed_run(source_path: Path, dest_path: Path, map_path: Path) -> tuple[str, str, str]:
    """A run that sent two uploads and died (SIGKILL) before either answer: one had landed,
    one not. (first id, second id, the id the first landed as)."""
    async with Images.local(source_path) as source, Images.local(dest_path) as dest:
        first, second = (await source.hosted.list(limit=10)).images[:2]
        killed = IdMap(map_path)
        for image in (first, second):
            data = await source.hosted.image(image.id).read()
            assert data is not None
            killed.sent(
                image.id, Sent(int(time.time() * 1000), digest(data), fingerprint(image), image.filename)
            )
        data = await source.hosted.image(first.id).read()
        landed = await dest.hosted.upload(
            data or b"", filename=first.filename, metadata=first.meta, creator=first.creator
        )
        del killed  # never saved, as after kill -9
    return first.id, second.id, landed.id


def test_a_rerun_finds_the_copy_a_killed_run_never_heard_of(run, tmp_path: Path) -> None:
    source_path, dest_path, map_path = tmp_path / "src", tmp_path / "dst", tmp_path / "ids.json"
    asyncio.run(_seed_generated(source_path, 2))
    first, second, landed = asyncio.run(_killed_run(source_path, dest_path, map_path))
    dry = run("cp", str(source_path), str(dest_path), "--map", str(map_path), "--dry-run")
    lines = {line.split()[1]: line for line in dry.out.splitlines()}
    assert lines[first].startswith("skip ") and "found after a lost answer" in lines[first]
    assert lines[second].startswith("copy ") and "answer was lost" in lines[second]
    result = run("cp", str(source_path), str(dest_path), "--map", str(map_path))
    assert result.code == 0, result.err
    mapping = json.loads(map_path.read_text())
    assert mapping[first] == landed  # mapped, not uploaded a second time
    assert len(listed(dest_path)) == 4 and len(set(mapping.values())) == 4
    assert "4 skipped" in run("cp", str(source_path), str(dest_path), "--map", str(map_path)).err


def test_a_torn_journal_line_is_ignored_and_old_maps_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ids.json"
    path.write_text('{"a": "b"}')  # a map from before journals
    assert IdMap(path).get("a") == "b"
    journal_path(path).write_text('{"done":"c","id":"d"}\n{"sent":"e","at":1,"sha')  # killed mid-line
    again = IdMap(path)
    assert again.get("c") == "d" and not again.pending
    again.save()
    assert json.loads(path.read_text()) == {"a": "b", "c": "d"} and not journal_path(path).exists()
    journal_path(path).write_text("garbage\n{}\n")
    with pytest.raises(ValueError):
        IdMap(path)


def test_a_csv_map_gets_back_the_pairs_only_its_journal_kept(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("old_id,new_id\na,b\n")
    journal_path(path).write_text('{"done":"c","id":"d"}\n{"done":"e","id":"f"}\n')  # the CSV row lost
    read = IdMap(path)
    assert (read.get("a"), read.get("c"), read.get("e")) == ("b", "d", "f")
    assert path.read_text() == "old_id,new_id\na,b\n"  # reading writes nothing (a dry run)
    read.record("e", "g")  # copied again since: the journal's older pair must not win
    read.save()
    again = IdMap(path)
    assert (again.get("c"), again.get("e")) == ("d", "g") and not journal_path(path).exists()


# -- 3. SIGTERM, SIGHUP, SIGKILL -------------------------------------------------------------------


def _fill(path: Path, count: int) -> None:
    async def fill() -> None:
        async with Images.local(path) as images:
            for n in range(count):
                await images.hosted.upload(png((n % 250, n // 250, 7)), filename=f"f{n}.png")

    asyncio.run(fill())


def _start_cp(source: Path, url: str, map_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "imgtui", "cp", str(source), url, "--map", str(map_path), "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _wait_for_copies(dest: Path, at_least: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(dest.glob("*")) and len(listed(dest)) >= at_least:
            return
        time.sleep(0.05)
    raise AssertionError("the copy did not start")


@pytest.mark.parametrize(
    ("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGKILL, -9)]
)
def test_a_stopped_copy_loses_no_map_entry(tmp_path: Path, stop: signal.Signals, code: int) -> None:
    source, dest, map_path = tmp_path / "src", tmp_path / "dst", tmp_path / "ids.json"
    _fill(source, 60)
    server = start_emulator(dest, api_token=None, faults="rate=1,kinds=latency,latency=100ms")
    try:
        with _start_cp(source, server.api_url, map_path) as process:
            _wait_for_copies(dest, 3)
            process.send_signal(stop)
            _, err = process.communicate(timeout=30)
        if process.returncode == 0:
            pytest.skip("the copy finished before the signal")
        assert process.returncode == code, err
        assert "Traceback" not in err
        if stop != signal.SIGKILL:
            assert f"stopped by {stop.name}" in err
            # Every image the destination holds is in the map: a re-run copies none twice.
            assert len(json.loads(map_path.read_text())) == len(listed(dest))
        again = subprocess.run(
            [sys.executable, "-m", "imgtui", "cp", str(source), server.api_url, "--map", str(map_path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=ENV,
        )
        assert again.returncode == 0, again.stderr
    finally:
        server.stop()
    assert len(listed(dest)) == 60  # no duplicates, also after kill -9 (the journal)
    assert len(set(json.loads(map_path.read_text()).values())) == 60


# -- 4. drafts ------------------------------------------------------------------------------------


async def _add_draft(path: Path) -> str:
    async with Images.local(path, delivery_base="http://127.0.0.1:1") as images:
        return (await images.hosted.create_direct_upload(metadata={"for": "later"})).id


def test_drafts_are_skipped_with_a_reason(run, local_lib: Where, tmp_path: Path) -> None:
    draft = asyncio.run(_add_draft(local_lib.path))
    dest = tmp_path / "dest"
    dry = run("cp", str(local_lib.path), str(dest), "--dry-run")
    lines = {line.split()[1]: line for line in dry.out.splitlines()}
    assert lines[draft].startswith("skip ") and "draft: nothing uploaded yet" in lines[draft]
    for _ in range(2):
        real = run("cp", str(local_lib.path), str(dest), "--map", str(tmp_path / "ids.csv"))
        assert real.code == 0 and "5404" not in real.err, real.err
    assert len(listed(dest)) == 3


# -- 5. onto itself ---------------------------------------------------------------------------


def test_copying_a_library_onto_itself_is_refused(run, local_lib: Where, served_lib: Where) -> None:
    path = local_lib.path
    for dest in (str(path), f"local:{path}/../{path.name}"):
        result = run("cp", str(path), dest)
        assert result.code == 2 and "same library" in result.err, result.err
    # The same library through `imgtui serve`: told apart by its account hash.
    served = run("cp", str(served_lib.path), served_lib.args[1])
    assert served.code == 2 and "same library" in served.err, served.err
    assert len(listed(path)) == 3 and len(listed(served_lib.path)) == 3


# -- 6. profiles -------------------------------------------------------------------------------------


def test_profiles_name_either_side(
    run, local_lib: Where, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served_path = tmp_path / "served"
    server = start_emulator(served_path, api_token="s3cret")
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(
        f'[profiles.offline]\nlibrary = "{local_lib.path}"\n'
        f'[profiles.served]\naccount_id = "abc"\nendpoint = "{server.api_url}"\ntoken_file = "{token}"\n'
    )
    monkeypatch.setenv("IMGTUI_CONFIG_DIR", str(config))
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "not-this-one")  # a named profile wins
    try:
        up = run("cp", "profile:offline", "profile:served", "--map", str(tmp_path / "ids.csv"))
        assert up.code == 0 and "3 copied" in up.err, up.err
        back = run("cp", "profile:served", str(tmp_path / "back"), "--map", str(tmp_path / "back.csv"))
        assert back.code == 0 and "3 copied" in back.err, back.err
    finally:
        server.stop()
    assert len(listed(served_path)) == 3
    same = run("cp", "profile:offline", str(local_lib.path))
    assert same.code == 2 and "same library" in same.err
    unknown = run("cp", "profile:nope", str(tmp_path / "x"))
    assert unknown.code == 2 and "unknown profile 'nope'" in unknown.err
    flag = run("cp", str(local_lib.path), str(tmp_path / "x"), "--profile", "served")
    assert flag.code == 2 and "profile:served" in flag.err
