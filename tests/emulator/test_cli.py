"""`imgtui serve` as a user runs it: options, the startup banner, refusals, fault specs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from imgtui.emulator import FaultSpec
from imgtui.emulator.cli import main
from imgtui.service import Images
from tests.rest_harness import ACCOUNT_ID, start_emulator

from .conftest import make_png

SECRET = "serve-secret-token-42"


@contextmanager
def running_serve(args: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """`imgtui serve ARGS` in a subprocess, yielded once its banner is printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "imgtui", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    banner = ""
    try:
        assert process.stdout is not None
        for line in process.stdout:
            banner += line
            if line.startswith("Press Ctrl+C"):
                break
        yield process, banner
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def serve_process(tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    args = ["--library", str(tmp_path / "lib"), "--port", "0"]
    with running_serve(args, {**os.environ, "IMGTUI_API_TOKEN": SECRET}) as running:
        yield running


async def test_the_real_command_serves_and_never_prints_the_token(serve_process) -> None:
    _process, banner = serve_process
    assert SECRET not in banner
    api_url = re.search(r"API\s+(\S+)", banner).group(1)
    # The banner says where the signing key is, never the key itself.
    keys_url = re.search(r"signing key\s+not shown: GET (\S+)", banner).group(1)
    assert re.search(r"account hash\s+\S+", banner) and "CLOUDFLARE_BASE_URL=" in banner
    async with Images.cloudflare(ACCOUNT_ID, SECRET, base_url=api_url) as images:
        image = await images.hosted.upload(make_png(), id="from-cli")
        assert image.variants[0].startswith(api_url.removesuffix("/client/v4") + "/cdn-cgi/imagedelivery/")
        assert await images.hosted.image("from-cli").read() == make_png()
    async with httpx.AsyncClient() as client:
        keys = await client.get(keys_url, headers={"Authorization": f"Bearer {SECRET}"})
        key = keys.json()["result"]["keys"][0]["value"]
        assert len(key) >= 16 and key not in banner
        assert (await client.get(f"{api_url}/accounts/x/images/v1")).status_code == 401


def test_a_public_address_without_a_token_is_refused(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.delenv("IMGTUI_API_TOKEN", raising=False)
    assert main(["--host", "0.0.0.0", "--library", str(tmp_path)]) == 2
    assert "--api-token" in capsys.readouterr().err


def test_a_busy_port_is_reported(tmp_path, capsys) -> None:
    server = start_emulator(tmp_path / "lib")
    try:
        port = server.api_url.split(":")[2].split("/")[0]
        assert main(["--port", port, "--library", str(tmp_path / "other"), "--api-token", "t"]) == 1
        assert "cannot listen" in capsys.readouterr().err
    finally:
        server.stop()


async def test_a_given_signing_key_is_the_one_served_and_checked(tmp_path) -> None:
    server = start_emulator(tmp_path / "lib", signing_key="my-own-signing-key")
    try:
        async with Images.cloudflare(ACCOUNT_ID, "test-token", base_url=server.api_url) as images:
            image = await images.hosted.upload(make_png(), require_signed_urls=True)
            signed = await images.hosted.image(image.id).signed_url("public", expires_in=60)
        async with httpx.AsyncClient() as client:
            assert (await client.get(signed)).status_code == 200
        async with Images.local(
            tmp_path / "lib", delivery_base=server.base_url + "/cdn-cgi/imagedelivery"
        ) as local:
            # the library's own key no longer opens it
            library_signed = await local.hosted.image(image.id).signed_url("public", expires_in=60)
        async with httpx.AsyncClient() as client:
            assert (await client.get(library_signed)).text == "Invalid signature"
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.2", FaultSpec(rate=0.2)),
        ("rate=0.5,latency=50ms,seed=3", FaultSpec(rate=0.5, latency=0.05, seed=3)),
        (
            "rate=1,kinds=429+drop-after,retry_after=2s",
            FaultSpec(rate=1, kinds=("429", "drop-after"), retry_after=2),
        ),
    ],
)
def test_fault_specs(text: str, expected: FaultSpec) -> None:
    assert FaultSpec.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["2", "-0.1", "rate=x", "latency=5ms", "rate=0.1,kinds=explode", "rate=0.1,bogus=1"]
)
def test_bad_fault_specs(text: str) -> None:
    with pytest.raises(ValueError, match="invalid --faults"):
        FaultSpec.parse(text)


@pytest.fixture
def serve_with_token_flag(tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    args = ["--library", str(tmp_path / "lib"), "--port", "0", "--api-token", SECRET, "--access-log"]
    env = {key: value for key, value in os.environ.items() if key != "IMGTUI_API_TOKEN"}
    with running_serve(args, env) as running:
        yield running


async def test_the_banner_instructions_work_and_the_access_log_logs(
    serve_with_token_flag, monkeypatch
) -> None:
    """Follow the banner to the letter (its `export` line), with the token given as a flag;
    the access log shows the request line and never the token."""
    process, banner = serve_with_token_flag
    assert SECRET not in banner and "$IMGTUI_API_TOKEN" not in banner  # that variable is not set
    export = re.search(r"^\s*export (.+)$", banner, re.MULTILINE).group(1)
    # Pasted into a shell as is: a plain placeholder, nothing bash reads as a redirect or pipe.
    assert "CLOUDFLARE_API_TOKEN=YOUR_TOKEN" in export.split()
    assert not set(export) & set("<>|;&`$()'\"")
    for assignment in export.split():
        name, _, value = assignment.partition("=")
        monkeypatch.setenv(name, SECRET if name == "CLOUDFLARE_API_TOKEN" else value)
    async with Images.cloudflare() as images:  # everything from the variables
        await images.hosted.upload(make_png(), id="by-the-banner")
        assert [i.id for i in (await images.hosted.list()).images] == ["by-the-banner"]
    logged = ""
    for line in process.stdout:
        logged += line
        if "/images/v2" in line:
            break
    assert "POST /client/v4/accounts/local/images/v1" in logged and SECRET not in logged


@pytest.mark.parametrize(
    ("port", "says"),
    [("99999", "port must be 0-65535"), ("-1", "port must be 0-65535"), ("http", "not a port number")],
)
def test_a_bad_port_is_one_line_not_a_traceback(port, says, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--port", port, "--library", str(tmp_path / "lib"), "--api-token", "t"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("imgtui serve: error: argument --port: ") and says in last
    assert "Traceback" not in err and not (tmp_path / "lib").exists()


def test_the_port_bounds_are_accepted(tmp_path) -> None:
    from imgtui.emulator.cli import _parser

    for port in ("0", "65535"):
        assert _parser().parse_args(["--port", port]).port == int(port)


def test_a_library_that_cannot_be_opened_is_one_line_not_a_traceback(tmp_path, capsys) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "library.sqlite3").write_bytes(b"not sqlite" * 500)
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    for library, says in ((damaged, "damaged"), (in_the_way, "a file is in the way")):
        assert main(["--library", str(library), "--port", "0", "--api-token", "t"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("imgtui serve: ERROR 9001: ") and says in err
        assert "Traceback" not in err and err.count("\n") == 1


def test_the_banner_says_the_faults_in_words() -> None:
    described = FaultSpec.parse("rate=0.2,latency=50ms,kinds=429+drop-after").describe()
    assert described == "20% of API requests: 429, drop-after (latency 50 ms, Retry-After 1 s)"
    assert "FaultSpec(" not in described


def test_the_default_port_is_not_wranglers_and_local_urls_point_there() -> None:
    from imgtui.emulator.cli import _parser
    from imgtui.emulator.state import ServeSettings
    from imgtui.service.config import DEFAULT_DELIVERY_BASE, SERVE_PORT

    assert SERVE_PORT != 8787  # wrangler dev's port: both run side by side
    assert _parser().parse_args([]).port == SERVE_PORT == ServeSettings().port
    assert DEFAULT_DELIVERY_BASE.startswith(f"http://127.0.0.1:{SERVE_PORT}/")
