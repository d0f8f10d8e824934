"""Cloudflare credentials inside a Workers project, found the way wrangler finds them:
`CLOUDFLARE_API_TOKEN` / `CLOUDFLARE_ACCOUNT_ID` from a `.env` file in the current folder
(the environment wins), and the account id from `wrangler.jsonc`, `wrangler.json` or
`wrangler.toml`. Pure reading: nothing here is printed, and the token is never described.

https://developers.cloudflare.com/workers/wrangler/system-environment-variables/
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from imgtui.service.config import ACCOUNT_ENV, TOKEN_ENV

_DOTENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Files in the folder imgtui was started in are anybody's: read at most this much of each, and
# parse it in linear time (a regex with nested repeats took seconds on 32 KB).
_MAX_FILE = 64 * 1024


@dataclass(frozen=True, slots=True)
class FoundCredentials:
    account_id: str | None
    api_token: str | None
    account_from: str | None  # "environment", ".env", "wrangler.toml"…; None when not found
    token_from: str | None

    @property
    def note(self) -> str:
        """Where they came from, for the header (never the token itself)."""
        places = {place for place in (self.account_from, self.token_from) if place}
        return "credentials from " + " and ".join(sorted(places)) if places else ""


def _read_head(path: Path) -> str | None:
    """The first _MAX_FILE bytes as text (never more is read); None when unreadable."""
    try:
        with path.open("rb") as file:
            return file.read(_MAX_FILE).decode("utf-8", "ignore")  # a cut may split a character
    except OSError:
        return None


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (optional `export`, quotes, # comments); {} when unreadable."""
    text = _read_head(path)
    if text is None:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        key = key.strip()
        if key.startswith("export") and key[6:7].isspace():
            key = key[6:].strip()
        if not equals or not _DOTENV_KEY.fullmatch(key):
            continue  # also a # comment: "#" is no key
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[key] = value
    return values


def jsonc_to_json(text: str) -> str:
    """JSON with comments (// and /* */) and trailing commas, as wrangler.jsonc allows, made
    plain JSON in one pass; strings are copied untouched."""
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma = -1  # index in `out` of a comma that a later } or ] would make trailing
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i, pending_comma = end + 1, -1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            if ch in "}]" and pending_comma >= 0:
                out[pending_comma] = ""
            if ch == ",":
                pending_comma = len(out)
            elif not ch.isspace():
                pending_comma = -1
            out.append(ch)
            i += 1
    return "".join(out)


def wrangler_account_id(folder: Path) -> tuple[str, str] | None:
    """(account id, file name) from the project's wrangler config, if it names one."""
    for name in ("wrangler.jsonc", "wrangler.json", "wrangler.toml"):
        text = _read_head(folder / name)
        if text is None:
            continue
        try:
            data = tomllib.loads(text) if name.endswith(".toml") else json.loads(jsonc_to_json(text))
        except (ValueError, RecursionError):  # TOMLDecodeError is a ValueError; nesting 10^5 deep
            continue
        account = data.get("account_id") if isinstance(data, dict) else None
        if isinstance(account, str) and account.strip():
            return account.strip(), name
    return None


def find_credentials(environ: Mapping[str, str], folder: Path) -> FoundCredentials:
    """The environment first, then `.env`, then (the account id) the wrangler config."""
    dotenv = read_dotenv(folder / ".env")
    account, account_from = environ.get(ACCOUNT_ENV) or None, "environment"
    if account is None and dotenv.get(ACCOUNT_ENV):
        account, account_from = dotenv[ACCOUNT_ENV], ".env"
    if account is None and (found := wrangler_account_id(folder)):
        account, account_from = found
    token, token_from = environ.get(TOKEN_ENV) or None, "environment"
    if token is None and dotenv.get(TOKEN_ENV):
        token, token_from = dotenv[TOKEN_ENV], ".env"
    return FoundCredentials(account, token, account_from if account else None, token_from if token else None)
