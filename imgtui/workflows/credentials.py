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

_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_JSONC_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_MAX_FILE = 1 << 20


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


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (optional `export`, quotes, # comments); {} when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")[:_MAX_FILE]
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not (match := _DOTENV_LINE.match(line)):
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = value.split(" #", 1)[0].strip()
        values[match.group(1)] = value
    return values


def wrangler_account_id(folder: Path) -> tuple[str, str] | None:
    """(account id, file name) from the project's wrangler config, if it names one."""
    for name in ("wrangler.jsonc", "wrangler.json", "wrangler.toml"):
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8")[:_MAX_FILE]
        except (OSError, UnicodeDecodeError):
            continue
        try:
            if name.endswith(".toml"):
                data = tomllib.loads(text)
            else:
                without_comments = _JSONC_COMMENT.sub(lambda m: m.group(1) or "", text)
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", without_comments))
        except (ValueError, tomllib.TOMLDecodeError):
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
