"""Credentials read from the folder imgtui starts in: anybody's files, so hostile ones must
neither crash the launch nor stall it (each case took seconds to hours, or a traceback)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imgtui.workflows.credentials import find_credentials, jsonc_to_json, read_dotenv, wrangler_account_id

HOSTILE_WRANGLER = {
    "wrangler.json": "[" * 200_000,  # RecursionError in json.loads
    "wrangler.jsonc": "/*" * 40_000 + '{"account_id": "x"}',  # unterminated comments: quadratic
    "wrangler.toml": "a = " + "[" * 100_000,  # RecursionError in tomllib
}


@pytest.mark.parametrize("name", sorted(HOSTILE_WRANGLER))
def test_a_hostile_wrangler_config_is_skipped_quickly(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(HOSTILE_WRANGLER[name])
    started = time.perf_counter()
    assert wrangler_account_id(tmp_path) is None
    assert time.perf_counter() - started < 1.0


def test_a_hostile_dotenv_is_read_quickly_and_capped(tmp_path: Path) -> None:
    # A value of spaces between words made the old line regex backtrack (32 KB: 3.2 s).
    (tmp_path / ".env").write_text("CLOUDFLARE_ACCOUNT_ID=a" + " b" * 200_000 + "\n" + "X=" + "\t" * 10**6)
    started = time.perf_counter()
    found = find_credentials({}, tmp_path)
    assert time.perf_counter() - started < 1.0
    assert found.account_id is not None and len(found.account_id) <= 64 * 1024  # read capped


def test_dotenv_and_jsonc_still_read_as_wrangler_does(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comment\nexport CLOUDFLARE_API_TOKEN='quoted token'\n  KEY = value # note\nexported=1\nnot a line\n"
    )
    assert read_dotenv(tmp_path / ".env") == {
        "CLOUDFLARE_API_TOKEN": "quoted token",
        "KEY": "value",
        "exported": "1",
    }
    text = '{ // c\n "a": "x // kept, /* kept */ \\" q", /* gone */\n "b": [1, 2, ], "c": {"d": 1,},\n}'
    assert jsonc_to_json(text).replace(" ", "").replace("\n", "") == (
        '{"a":"x//kept,/*kept*/\\"q","b":[1,2],"c":{"d":1}}'
    )
    (tmp_path / "wrangler.jsonc").write_text('{\n  /* a */ "account_id": "acc", // b\n}')
    assert wrangler_account_id(tmp_path) == ("acc", "wrangler.jsonc")
