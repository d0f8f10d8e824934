"""Launch speed-ups keep behaviour: the catalogue's first screen read before the event loop,
the launcher's path check, and the GC switch of the CLI."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from imgtui import cli as entry
from imgtui.catalogue.store import SCHEMA_VERSION, catalogue_path
from imgtui.service import Images
from imgtui.ui.cli import library_problem
from imgtui.ui.widgets.image_table import ImageTable
from imgtui.workflows.catalogue_rows import CHUNK, COUNT_CAP
from imgtui.workflows.cataloguing import Cataloguing, cache_dir, read_first_screen


async def catalogued(images: Images, fill, count: int) -> None:
    """A library of `count` images and its catalogue, walked as the TUI would."""
    await fill(images, count)
    cataloguing = Cataloguing(images)
    async for _ in cataloguing.update():
        pass
    await cataloguing.aclose()


class TableApp(App[None]):
    def __init__(self, cataloguing: Cataloguing) -> None:
        super().__init__()
        self.cataloguing = cataloguing

    def compose(self) -> ComposeResult:
        table = ImageTable(id="images")
        table.attach(self.cataloguing)  # no reload: only what attach itself shows
        yield table


def test_the_first_screen_is_read_before_the_loop_and_taken_once(library_path: Path, fill):
    images = Images.local(library_path)
    asyncio.run(catalogued(images, fill, 3))
    assert read_first_screen(images) is True
    taken = Cataloguing(images).take_first_screen()
    assert taken is not None and taken.exact and taken.total == 3
    assert [row.id for row in taken.rows] == ["img-0002", "img-0001", "img-0000"]  # newest first
    assert Cataloguing(images).take_first_screen() is None  # once: no later view sees it
    asyncio.run(images.aclose())


async def test_the_first_frame_shows_the_seeded_rows(library_path: Path, fill):
    images = Images.local(library_path)
    await catalogued(images, fill, CHUNK + 5)
    # In a thread, as the launcher's read happens with no event loop running.
    assert await asyncio.to_thread(read_first_screen, images) is True
    cataloguing = Cataloguing(images)
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 12)):
        table = app.query_one(ImageTable)
        assert table.reloads == 0 and table.row_count == CHUNK + 5
        assert f"img-{CHUNK + 4:04d}" in table.render_line(1).text  # the newest, on top
        assert table.current_image is not None and table.current_image.id == f"img-{CHUNK + 4:04d}"
    await cataloguing.aclose()
    await images.aclose()


def test_a_big_first_screen_counts_only_up_to_the_cap(tmp_path: Path):
    path = catalogue_path("big", tmp_path)
    path.parent.mkdir(parents=True)
    from imgtui.catalogue.store import connect, record, upsert
    from imgtui.service import ImageMetadata

    conn, _ = connect(path)
    conn.execute("BEGIN")
    rows = [record(ImageMetadata(id=f"b{n}", uploaded="2026-01-01T00:00:00Z")) for n in range(COUNT_CAP + 10)]
    upsert(conn, rows, 1)
    conn.execute("COMMIT")
    conn.close()
    from imgtui.catalogue.window import read_first_screen as read_path

    found = read_path(path, CHUNK, COUNT_CAP)
    assert found is not None and len(found.rows) == CHUNK
    assert found.total == COUNT_CAP and not found.exact  # "10,000+", the reload counts


@pytest.mark.parametrize(
    "content",
    [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000, None],
    ids=["garbage", "corrupt-header", "old-schema"],
)
def test_a_hostile_catalogue_file_is_ignored_quietly(library_path: Path, content: bytes | None):
    images = Images.local(library_path)
    path = catalogue_path(images.label, cache_dir())
    path.parent.mkdir(parents=True)
    if content is None:  # a catalogue of another schema version, whose rows look fine
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO state VALUES ('schema', ?)", (str(SCHEMA_VERSION - 1),))
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    assert read_first_screen(images) is False  # never raises: the list reads it as usual
    assert Cataloguing(images).take_first_screen() is None
    assert path.read_bytes()[:15] == (content or path.read_bytes())[:15]  # read-only: untouched


def test_library_problem_names_a_file_in_the_way(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert library_problem(blocker / "lib" / "deeper") == f"{blocker} is a file, not a folder"
    assert library_problem(blocker) == f"{blocker} is a file, not a folder"
    assert library_problem(tmp_path / "new" / "library") is None  # can be created
    (tmp_path / "lib").mkdir()
    assert library_problem(tmp_path / "lib") is None


def test_the_cli_turns_the_gc_back_on_whatever_happens(capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        entry.main(["--help"])
    assert gc.isenabled()
    assert entry.main(["--account-id", "abc"]) == 2  # no token: an error before App.run
    assert gc.isenabled()
    assert "imgtui" in capsys.readouterr().err


async def test_after_open_a_reload_shows_rows_at_once_and_only_then(library_path: Path, fill):
    # The screen opens the catalogue, then reloads the list and starts the walk: a walk that
    # fails at once (offline) must find the rows already shown, not an empty list.
    images = Images.local(library_path)
    await catalogued(images, fill, 3)
    cataloguing = Cataloguing(images)
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 12)):
        table = app.query_one(ImageTable)
        assert table.row_count == 0  # no launcher read here
        await cataloguing.open()
        table.reload()
        assert table.row_count == 3 and table.reloads == 0  # before the reload's own read
    # A change after open() makes that screen old: it is never shown.
    await cataloguing.open()
    await cataloguing.note_deleted(["img-0002"])
    assert cataloguing.take_first_screen() is None
    await cataloguing.aclose()
    await images.aclose()


async def test_g_on_a_capped_first_screen_goes_to_the_real_last_row(tmp_path: Path, wait_until):
    # A first screen counts only to COUNT_CAP ("10,000+"): `G` then lands on the true last
    # row once the reload has counted, not on row 10,000.
    from imgtui.catalogue.store import connect, record, upsert
    from imgtui.service import ImageMetadata

    images = Images.local(tmp_path / "lib")
    cataloguing = Cataloguing(images, tmp_path / "cat.sqlite3")
    conn, _ = connect(tmp_path / "cat.sqlite3")
    conn.execute("BEGIN")
    total = COUNT_CAP + 50
    upsert(
        conn,
        [record(ImageMetadata(id=f"i{n:06d}", uploaded="2026-01-01T00:00:00Z")) for n in range(total)],
        1,
    )
    conn.execute("COMMIT")
    conn.close()
    app = TableApp(cataloguing)
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(ImageTable)
        await cataloguing.open()
        table.reload()
        assert table.row_count == COUNT_CAP and not table.rows.total_exact
        table.action_last()
        await wait_until(pilot, lambda: table.row_count == total and table.cursor == total - 1)
        await wait_until(
            pilot, lambda: table.current_image is not None and table.current_image.id == "i000000"
        )
    await cataloguing.aclose()
    await images.aclose()


def test_a_folder_it_may_not_enter_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Path.exists() and is_file() raise PermissionError (EACCES) under a folder without the
    search bit (the suite runs as root, where modes do not bite: simulated here)."""
    from imgtui.catalogue.window import read_first_screen as read_catalogue

    locked = tmp_path / "locked"
    real_exists, real_is_file = Path.exists, Path.is_file

    def exists(self: Path, *args, **kwargs) -> bool:
        if locked in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real_exists(self, *args, **kwargs)

    def is_file(self: Path, *args, **kwargs) -> bool:
        if locked in self.parents:
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", exists)
    monkeypatch.setattr(Path, "is_file", is_file)
    assert library_problem(locked / "lib") == f"cannot reach {locked / 'lib'}: Permission denied"
    assert read_catalogue(locked / "catalogue" / "x.sqlite3", 64, 10_000) is None  # the list reads it later
