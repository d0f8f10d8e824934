"""`imgtui doctor` against a tiny loopback fake of Cloudflare's API: a good token, a bad one,
an expired one, one that lacks Images Edit, a wrong account id, a dead host. The token is
never printed; exit 0 only when every check passed."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imgtui.commands import doctor
from imgtui.commands.base import EXIT_FAILED, EXIT_OK, add_library_options
from imgtui.commands.console import Console
from tests.rest_harness import start_emulator

ACCOUNT = "a" * 32
TOKENS = {
    "good-token-123": ("active", {"read", "edit"}),
    "reader-token-456": ("active", {"read"}),
    "expired-token-789": ("expired", set()),
}


class FakeApi(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        known = TOKENS.get(token)
        denied = {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}
        if self.path == "/client/v4/user/tokens/verify":
            if known is None:
                return self._send(
                    401, {"success": False, "errors": [{"code": 1000, "message": "Invalid API Token"}]}
                )
            return self._send(200, {"success": True, "result": {"id": "x", "status": known[0]}})
        prefix = f"/client/v4/accounts/{ACCOUNT}/images/"
        if not self.path.startswith("/client/v4/accounts/"):
            return self._send(404, {"success": False, "errors": [{"code": 7000, "message": "No route"}]})
        if not self.path.startswith(prefix):
            return self._send(403, denied)  # Cloudflare: an account the token has no access to
        if known is None:
            return self._send(403, denied)
        need = "edit" if self.path.startswith(prefix + "v1/keys") else "read"
        if need not in known[1]:
            return self._send(403, denied)
        return self._send(200, {"success": True, "result": {}})


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    finally:
        server.shutdown()
        server.server_close()


def run_doctor(monkeypatch: pytest.MonkeyPatch, *argv: str, token: str | None) -> tuple[int, str]:
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    if token is None:
        monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", token)
    parser = argparse.ArgumentParser()
    doctor.configure(parser)
    add_library_options(parser)
    out, err = io.StringIO(), io.StringIO()
    code = asyncio.run(doctor.run(parser.parse_args(["--no-probe", *argv]), Console(out, err)))
    return code, out.getvalue() + err.getvalue()


def test_a_good_token_passes_every_check(api, monkeypatch):
    code, text = run_doctor(monkeypatch, "--account-id", ACCOUNT, "--endpoint", api, token="good-token-123")
    assert code == EXIT_OK, text
    assert (
        "ok   token valid and active" in text and "can read Images" in text and "can use signing keys" in text
    )
    assert "good-token-123" not in text


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("wrong-token-000", "token refused: 1000: Invalid API Token"),
        ("expired-token-789", "token is expired"),
        ("reader-token-456", doctor.LACKS_EDIT),
    ],
)
def test_what_is_wrong_with_a_token_is_named(api, monkeypatch, token, expected):
    code, text = run_doctor(monkeypatch, "--account-id", ACCOUNT, "--endpoint", api, token=token)
    assert code == EXIT_FAILED
    assert expected in text
    assert token is None or token not in text


def test_no_token_is_named_before_any_request(monkeypatch):
    code, text = run_doctor(monkeypatch, "--account-id", ACCOUNT, token=None)  # Cloudflare's API
    assert code == EXIT_FAILED and "FAIL no token: set $CLOUDFLARE_API_TOKEN" in text


def test_imgtui_serve_on_loopback_needs_no_token_or_account(tmp_path, monkeypatch):
    """As every other command: a loopback endpoint (imgtui serve) is checked with the
    placeholder token and account, and passes."""
    server = start_emulator(tmp_path / "lib", api_token=None)  # serve's default: no token asked
    try:
        code, text = run_doctor(monkeypatch, "--endpoint", server.api_url, token=None)
    finally:
        server.stop()
    assert code == EXIT_OK, text
    assert "ok   token valid and active" in text and "can read Images" in text


def test_hostile_server_text_is_escaped_and_capped(monkeypatch):
    """An error message with terminal escapes is shown escaped; an endless answer is refused."""
    evil = "\x1b]0;PWNED\x07\x1b[2J" + "x" * 5000

    class Evil(FakeApi):
        def do_GET(self) -> None:
            if self.path.endswith("/tokens/verify"):
                return self._send(401, {"success": False, "errors": [{"code": 1000, "message": evil}]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[" * (2 << 20))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/client/v4"
        code, text = run_doctor(monkeypatch, "--account-id", ACCOUNT, "--endpoint", url, token="t")
    finally:
        server.shutdown()
        server.server_close()
    assert code == EXIT_FAILED
    assert "\x1b" not in text and "\x07" not in text and "PWNED" in text
    assert len(text) < 2000  # the message is cut


def test_a_wrong_account_and_a_wrong_host_are_named(api, monkeypatch):
    code, text = run_doctor(monkeypatch, "--account-id", "b" * 32, "--endpoint", api, token="good-token-123")
    assert code == EXIT_FAILED and "cannot read Images" in text
    code, text = run_doctor(
        monkeypatch, "--account-id", ACCOUNT, "--endpoint", api + "/nope", token="good-token-123"
    )
    assert code == EXIT_FAILED and "API host right" in text
    code, text = run_doctor(
        monkeypatch, "--account-id", ACCOUNT, "--endpoint", "http://127.0.0.1:9/client/v4", token="t"
    )
    assert code == EXIT_FAILED and "unreachable" in text


def test_a_local_library_needs_no_account(tmp_path, monkeypatch):
    code, text = run_doctor(monkeypatch, "--library", str(tmp_path / "lib"), token=None)
    assert code == EXIT_OK
    assert "clipboard: OSC 52" in text and "config dir:" in text and "(no account to check)" in text


def test_tmux_without_passthrough_gives_the_conf_line(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor.tmux, "inside_tmux", lambda env=None: True)
    monkeypatch.setattr(doctor.tmux, "passthrough_allowed", lambda timeout=0.5: False)
    code, text = run_doctor(monkeypatch, "--library", str(tmp_path / "lib"), token=None)
    assert "set -g allow-passthrough on" in text and "set -g set-clipboard on" in text
    assert code == EXIT_OK  # a warning: previews still work in half-cell
