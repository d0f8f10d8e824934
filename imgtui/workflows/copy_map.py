"""The id map of `imgtui cp --map FILE`, and its journal of uploads whose outcome is not known.

The map (old id -> new id of the images that got new ids) is CSV (`old_id,new_id`, appended
per image) unless the name ends in `.json` (one object, rewritten atomically at the end).

Beside it, `FILE.journal` holds one JSON line per event, appended and flushed at once:

    {"sent": OLD, "at": MS, "sha256": HEX, "fp": HEX, "filename": NAME}   an upload is leaving
    {"done": OLD, "id": NEW}                                              it landed as NEW
    {"unsent": OLD}                                                       it was refused: nothing stored

A `sent` with no later `done` or `unsent` is *pending*: the process died, or the answer was
lost, while the upload may have been stored. A re-run looks for those at the destination
before uploading them again (see copy_lost.py). `done` lines also make a JSON map as safe as a
CSV one: one killed with SIGKILL between two rewrites is rebuilt from the journal. The journal
is compacted (or removed) when a run ends cleanly; old map files without one read as before.

The appends are small writes to the page cache (no fsync): they survive the process, not the
machine, which is what a killed or closed terminal needs.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

JOURNAL_SUFFIX = ".journal"
_MAX_JOURNAL_LINE = 8192  # a line longer than this was not written by imgtui


@dataclass(frozen=True, slots=True)
class Sent:
    """An upload without an id that left for the destination: enough to recognise its copy."""

    at_ms: int  # the earliest `uploaded` stamp it can carry, in the destination's clock
    sha256: str  # of the bytes sent
    fp: str  # of creator, metadata and the signed-URL flag (copy_lost.fingerprint)
    filename: str | None

    def line(self, old_id: str) -> dict[str, object]:
        return {
            "sent": old_id,
            "at": self.at_ms,
            "sha256": self.sha256,
            "fp": self.fp,
            "filename": self.filename,
        }


class IdMap:
    """Old id -> new id, plus the uploads still pending (see the module doc). Without a path
    it lives in memory only (a re-run then cannot tell what was copied)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._ids: dict[str, str] = {}
        self._pending: dict[str, Sent] = {}
        self._json = path is not None and path.suffix.lower() == ".json"
        self._dirty = False
        self._journal_file: IO[str] | None = None
        self._csv_missing: list[tuple[str, str]] = []
        if path is not None:
            if path.exists():
                self._ids = _read_map(path, as_json=self._json)
            journal = journal_path(path)
            if journal.exists():
                self._replay(journal)
        self._targets = set(self._ids.values())

    def get(self, old_id: str) -> str | None:
        return self._ids.get(old_id)

    def __len__(self) -> int:
        return len(self._ids)

    def is_target(self, new_id: str) -> bool:
        """Is `new_id` already the copy of some source image?"""
        return new_id in self._targets

    def sent_of(self, old_id: str) -> Sent | None:
        """The pending upload of `old_id`, if there is one."""
        return self._pending.get(old_id)

    @property
    def pending(self) -> dict[str, Sent]:
        """The uploads that may or may not have been stored (a copy, not a view)."""
        return dict(self._pending)

    def sent(self, old_id: str, sent: Sent) -> None:
        """Called before an upload without an id leaves."""
        self._pending[old_id] = sent
        self._append(sent.line(old_id))

    def unsent(self, old_id: str) -> None:
        """The upload was refused: the destination holds nothing of it."""
        if self._pending.pop(old_id, None) is not None:
            self._append({"unsent": old_id})

    def record(self, old_id: str, new_id: str) -> None:
        """`old_id` was copied as `new_id` (also when found after a lost answer)."""
        self._ids[old_id] = new_id
        self._targets.add(new_id)
        self._pending.pop(old_id, None)
        if self.path is None:
            return
        if self._json:
            self._dirty = True
        else:
            self._append_csv_rows([(old_id, new_id)])
        # After the CSV row: a death between the two leaves a `sent` whose mapped copy exists,
        # which a re-run skips.
        self._append({"done": old_id, "id": new_id})

    def save(self) -> None:
        """The end of a run: the JSON map written, the journal compacted to what is pending
        (removed when nothing is). Blocking: call it in a thread."""
        if self._journal_file is not None:
            self._journal_file.close()
            self._journal_file = None
        if self.path is None:
            return
        if self._json and self._dirty:
            _write_atomically(self.path, json.dumps(self._ids, indent=1, ensure_ascii=True))
            self._dirty = False
        # Only pairs not copied again since: appended after a newer row, an old pair would win.
        repair = [(old, new) for old, new in self._csv_missing if self._ids.get(old) == new]
        if repair:
            self._append_csv_rows(repair)
        self._csv_missing = []
        journal = journal_path(self.path)
        if self._pending:
            lines = "".join(_json_line(sent.line(old)) for old, sent in self._pending.items())
            _write_atomically(journal, lines)
        elif journal.exists():
            journal.unlink()

    def _append(self, entry: dict[str, object]) -> None:
        if self.path is None:
            return
        if self._journal_file is None:
            self._journal_file = journal_path(self.path).open("a", encoding="utf-8")
        self._journal_file.write(_json_line(entry))
        self._journal_file.flush()

    def _replay(self, journal: Path) -> None:
        on_file = dict(self._ids)
        text = journal.read_text(encoding="utf-8")
        lines = text.split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            entry = _journal_entry(line)
            if entry is None:
                if number == len(lines):  # the last line, cut short by a kill mid-write
                    break
                raise ValueError(f"{journal}: line {number} is not an imgtui cp journal entry")
            kind, old_id, value = entry
            if kind == "done":
                assert isinstance(value, str)
                if self._ids.get(old_id) != value:
                    self._ids[old_id] = value
                    self._dirty = True
                self._pending.pop(old_id, None)
            elif kind == "unsent":
                self._pending.pop(old_id, None)
            else:
                assert isinstance(value, Sent)
                self._pending[old_id] = value
        if not self._json:
            # Pairs the journal has and the CSV lacks (a disk that filled between the two
            # writes): put back in the map file, which is what users read, by `save()` (a dry
            # run writes nothing).
            self._csv_missing = [(old, new) for old, new in self._ids.items() if on_file.get(old) != new]
            self._dirty = False

    def _append_csv_rows(self, rows: list[tuple[str, str]]) -> None:
        assert self.path is not None
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            if new_file:
                writer.writerow(["old_id", "new_id"])
            writer.writerows(rows)


def journal_path(map_path: Path) -> Path:
    return map_path.with_name(map_path.name + JOURNAL_SUFFIX)


def _json_line(entry: dict[str, object]) -> str:
    return json.dumps(entry, ensure_ascii=True, separators=(",", ":")) + "\n"


def _journal_entry(line: str) -> tuple[str, str, Sent | str | None] | None:
    """(kind, old id, Sent / new id / None), or None for a line imgtui did not write."""
    if len(line) > _MAX_JOURNAL_LINE:
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("done"), str) and isinstance(data.get("id"), str):
        return "done", data["done"], data["id"]
    if isinstance(data.get("unsent"), str):
        return "unsent", data["unsent"], None
    old_id, at_ms, digest, fp, name = (data.get(k) for k in ("sent", "at", "sha256", "fp", "filename"))
    if (
        isinstance(old_id, str)
        and isinstance(at_ms, int)
        and not isinstance(at_ms, bool)
        and isinstance(digest, str)
        and isinstance(fp, str)
        and (name is None or isinstance(name, str))
    ):
        return "sent", old_id, Sent(at_ms, digest, fp, name)
    return None


def _write_atomically(path: Path, text: str) -> None:
    fd, temp = tempfile.mkstemp(prefix=".imgtui-map-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read_map(path: Path, *, as_json: bool) -> dict[str, str]:
    """ValueError names the file when it is not a map."""
    text = path.read_text(encoding="utf-8")
    if as_json:
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{path}: expected a JSON object of old id -> new id")
        return data
    ids = {}
    for row in csv.reader(text.splitlines()):
        if not row or row == ["old_id", "new_id"]:
            continue
        if len(row) != 2:
            raise ValueError(f"{path}: expected CSV rows of old_id,new_id, got {row!r}")
        ids[row[0]] = row[1]
    return ids
