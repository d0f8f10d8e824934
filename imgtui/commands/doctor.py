"""`imgtui doctor`: why something does not work, one check a line. Exit 0 only when no
check failed.

Local checks: the terminal and its graphics protocol (imgtui.terminal's probe and reasons),
tmux and its passthrough (with the tmux.conf line when off), the clipboard route, the config
and data paths. For a Cloudflare account (the usual library options): the token is valid and
active (`GET /user/tokens/verify`), it can read Images and use signing keys (an opaque 10000
or a 403 is named: the permission the token lacks), the account id and API host answer.
The token is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from typing import Literal

import httpx

from imgtui import terminal
from imgtui.common.text import safe_text
from imgtui.service.config import BASE_URL_ENV, CLOUDFLARE_API, TOKEN_ENV, default_library_path
from imgtui.terminal import tmux
from imgtui.workflows.libraries import account_credentials, choose_library

from .base import EXIT_FAILED, EXIT_OK, Command, UsageError, library_options, library_token
from .console import Console

Status = Literal["ok", "warn", "FAIL", "info"]
LACKS_EDIT = "this token lacks Account > Cloudflare Images > Edit"
LACKS_READ = "this token lacks Account > Cloudflare Images > Read (or Edit)"
CONFIG_DIR_ENV = "IMGTUI_CONFIG_DIR"  # the TUI's settings (imgtui.ui.config reads the same)
TIMEOUT = 10.0  # seconds per API call
MAX_BODY = 1 << 20  # an API answer is a few KB; more is refused unread
MAX_MESSAGE = 300  # characters of a server's error message shown


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    text: str


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-probe", action="store_true", help="do not ask the terminal what it can draw")


def local_checks(*, probe: bool = True) -> list[Check]:
    checks: list[Check] = []
    decision = terminal.current() or (terminal.detect("auto") if probe else None)
    if decision is None:
        checks.append(Check("info", "terminal: not probed (--no-probe)"))
    else:
        for line in terminal.describe(decision):
            checks.append(Check("info", f"terminal: {line}"))
    if tmux.inside_tmux():
        allowed = tmux.passthrough_allowed()
        if allowed:
            checks.append(Check("ok", "tmux: allow-passthrough on"))
        else:
            checks.append(
                Check(
                    "warn", f"tmux: allow-passthrough off; add to ~/.tmux.conf: {tmux.PASSTHROUGH_CONF_LINE}"
                )
            )
    route = "OSC 52 (the terminal sets the clipboard; Textual's copy_to_clipboard)"
    if tmux.inside_tmux():
        route += "; in tmux this needs: set -g set-clipboard on"
    checks.append(Check("info", f"clipboard: {route}"))
    config = os.environ.get(CONFIG_DIR_ENV)
    checks.append(Check("info", f"config dir: {config or _default_config_dir()}"))
    checks.append(Check("info", f"default local library: {default_library_path()}"))
    return checks


def _default_config_dir() -> str:
    import platformdirs

    return str(platformdirs.user_config_path("imgtui"))


async def account_checks(
    account_id: str, api: str, token: str | None, *, transport: httpx.AsyncBaseTransport | None = None
) -> list[Check]:
    checks = [Check("info", f"API host: {api}")]
    if not token:
        return [*checks, Check("FAIL", f"no token: set ${TOKEN_ENV}")]
    if not account_id:
        checks.append(Check("FAIL", "no account id: give --account-id or set $CLOUDFLARE_ACCOUNT_ID"))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=api, headers=headers, timeout=TIMEOUT, transport=transport
    ) as client:
        verified = await _get(client, "/user/tokens/verify")
        if isinstance(verified, str):
            return [*checks, Check("FAIL", f"API host unreachable: {verified}")]
        status, body = verified
        found = body.get("result")
        result: dict = found if isinstance(found, dict) else {}
        if status == 200 and body.get("success") and result.get("status") == "active":
            checks.append(Check("ok", "token valid and active"))
        elif status == 200 and body.get("success"):
            return [*checks, Check("FAIL", f"token is {result.get('status', 'not active')}")]
        elif status == 404:
            return [
                *checks,
                Check("FAIL", "no /user/tokens/verify here: is the API host right (…/client/v4)?"),
            ]
        else:
            return [*checks, Check("FAIL", f"token refused: {_errors(body) or status}")]
        if not account_id:
            return checks
        base = f"/accounts/{account_id}/images"
        for path, what, lacks in (
            (f"{base}/v2?per_page=10", "read Images", LACKS_READ),
            (f"{base}/v1/keys", "use signing keys", LACKS_EDIT),
        ):
            answer = await _get(client, path)
            if isinstance(answer, str):
                checks.append(Check("FAIL", f"{what}: {answer}"))
                continue
            status, body = answer
            found = body.get("errors")
            listed = found if isinstance(found, list) else []
            codes = {error.get("code") for error in listed if isinstance(error, dict)}
            if status == 200 and body.get("success"):
                checks.append(Check("ok", f"can {what} in account {account_id}"))
            elif status == 403 or 10000 in codes:
                checks.append(Check("FAIL", f"cannot {what}: {lacks}"))
            elif status == 404 or 7003 in codes or 7000 in codes:
                checks.append(Check("FAIL", f"account {account_id} not found: is the account id right?"))
            else:
                checks.append(Check("FAIL", f"cannot {what}: {_errors(body) or status}"))
    return checks


async def _get(client: httpx.AsyncClient, path: str) -> tuple[int, dict] | str:
    try:
        async with client.stream("GET", path) as response:
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_BODY:
                    return f"an answer over {MAX_BODY // 1024} KiB (HTTP {response.status_code})"
    except httpx.HTTPError as error:
        return type(error).__name__
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def _errors(body: dict) -> str:
    found = body.get("errors")
    errors = [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []
    text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors[:5])
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def report(console: Console, checks: list[Check]) -> int:
    for check in checks:
        console.line(f"{check.status:<4} {safe_text(check.text)}")  # server text: never raw
    return EXIT_FAILED if any(check.status == "FAIL" for check in checks) else EXIT_OK


async def run(args: argparse.Namespace, console: Console) -> int:
    checks = local_checks(probe=not args.no_probe)
    try:
        choice = choose_library(library_options(args))
    except ValueError as error:
        raise UsageError(str(error)) from None
    if choice.kind == "cloudflare":
        api = (choice.endpoint or os.environ.get(BASE_URL_ENV) or CLOUDFLARE_API).rstrip("/")
        account_id, token = account_credentials(choice, library_token(args))
        checks += await account_checks(account_id or "", api, token)
    else:
        checks.append(Check("info", f"library: {choice.spec} (no account to check)"))
    return report(console, checks)


COMMANDS = (Command("doctor", "check the terminal, tmux, paths and the account token", configure, run),)
