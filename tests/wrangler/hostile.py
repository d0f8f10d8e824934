"""Build images states by hand, in miniflare's layout or subtly not, for the hostile tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

KV_DIR = "miniflare-images-KVNamespaceObject"
DATABASE = "0" * 64 + ".sqlite"
TABLE_SQL = "CREATE TABLE _mf_entries (key TEXT PRIMARY KEY, blob_id TEXT NOT NULL, expiration INTEGER, metadata TEXT)"


def record(image_id: str, uploaded: str = "2026-01-02T03:04:05.678Z", **fields: Any) -> dict[str, Any]:
    """A record as the mock writes it (images.worker.ts `upload`)."""
    return {
        "id": image_id,
        "filename": f"{image_id}.png",
        "uploaded": uploaded,
        "requireSignedURLs": False,
        "meta": {},
        "variants": ["public"],
        "draft": False,
        **fields,
    }


def build_state(
    images_dir: Path,
    rows: list[tuple[Any, Any, Any, Any]],
    *,
    blobs: dict[str, bytes] | None = None,
    table_sql: str = TABLE_SQL,
) -> Path:
    """An images folder with one entries database (WAL, as miniflare's); returns its path."""
    kv = images_dir / KV_DIR
    kv.mkdir(parents=True)
    (images_dir / "images-data" / "blobs").mkdir(parents=True)
    database = kv / DATABASE
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(table_sql)
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO _mf_entries VALUES ({marks})", rows)
    conn.commit()
    conn.close()
    for blob_id, data in (blobs or {}).items():
        (images_dir / "images-data" / "blobs" / blob_id).write_bytes(data)
    return database


def row(
    image_id: str, blob_id: str = "ab12", expiration: int | None = None, **fields: Any
) -> tuple[Any, ...]:
    return (image_id, blob_id, expiration, json.dumps(record(image_id, **fields)))
