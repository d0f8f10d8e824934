"""Ways to give `imgtui` the API token that keep it out of `ps` (issue 9, finding 6): a file
(`--token-file`), a prompt (`--token-prompt`), the environment; `--api-token` still works but
warns. Whatever goes wrong, no output quotes the token."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

from imgtui.emulator import BackgroundEmulator
from imgtui.service import ImagesError
from imgtui.ui import cli
from tests.rest_harness import ACCOUNT_ID

from .conftest import TOKEN

SECRET = "tok-SECRET-from-a-file-987654"


@pytest.fixture(autouse=True)
def _no_cloudflare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (cli.ACCOUNT_ENV, cli.TOKEN_ENV, "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


def _token_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], *secrets: str) -> str:
    """Runs `imgtui argv`, expects exit 2, returns stderr; no secret in any output."""
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    for secret in (SECRET, TOKEN, *secrets):
        assert secret not in out + err
    return err


async def test_a_token_file_opens_the_account(
    server: BackgroundEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _token_file(tmp_path, f"{TOKEN}\r\nsecond line is ignored\n".encode())
    args = _parse("--account-id", ACCOUNT_ID, "--endpoint", server.api_url, "--token-file", str(path))
    assert cli.wants_cloudflare(args)
    async with cli.open_images(args) as images:
        assert (await images.hosted.list()).images == []  # the emulator accepted the token
        assert TOKEN not in repr(images) + images.label
    assert capsys.readouterr().err == ""  # a private file: no warning


def test_a_token_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _token_file(tmp_path, f"{SECRET}\n".encode(), mode=0o644)
    images = cli.open_images(_parse("--account-id", ACCOUNT_ID, "--token-file", str(path)))
    assert images.label.startswith("Cloudflare account")
    out, err = capsys.readouterr()
    assert "readable by other users" in err and f"chmod 600 {path}" in err
    assert SECRET not in out + err


@pytest.mark.parametrize(
    "content, says",
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"\n\nlater lines do not count\n", "is empty"),
        (b"   \t\n", "is empty"),
        (b"\xff\xfe" + SECRET.encode("utf-16-le"), "not ASCII"),
        (b"x" * 5000, "too long"),
        (f"{SECRET} with a space\n".encode(), "contains spaces"),
        ("dir", "Cannot read"),
    ],
    ids=["missing", "empty", "blank-first-line", "whitespace", "binary", "huge", "two-words", "directory"],
)
def test_a_bad_token_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | str | None, says: str
) -> None:
    path = tmp_path / "token"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        _token_file(tmp_path, content)
    err = _fails(["--account-id", ACCOUNT_ID, "--token-file", str(path)], capsys)
    assert "ERROR 10000" in err and says in err
    if says != "contains spaces":
        assert str(path) in err
    assert "--token-file" in err  # the hint names the ways to give a token


def test_a_token_file_can_be_a_pipe(tmp_path: Path) -> None:
    # `imgtui --token-file <(pass show cloudflare)` hands over a pipe, not a file.
    read_end, write_end = os.pipe()
    os.write(write_end, f"{SECRET}\n".encode())
    os.close(write_end)
    try:
        assert cli.read_token_file(Path(f"/dev/fd/{read_end}")) == SECRET
    finally:
        os.close(read_end)


def test_the_prompt_gives_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []

    def getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return f"  {SECRET}  "

    monkeypatch.setattr(cli.getpass, "getpass", getpass)
    images = cli.open_images(_parse("--account-id", ACCOUNT_ID, "--token-prompt"))
    assert images.label.startswith("Cloudflare account") and asked == ["Cloudflare API token: "]
    out, err = capsys.readouterr()
    assert SECRET not in out + err


@pytest.mark.parametrize("typed", ["", "eof", "ctrl-c"])
def test_no_token_at_the_prompt_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    def getpass(prompt: str = "") -> str:
        if typed == "eof":
            raise EOFError
        if typed == "ctrl-c":
            raise KeyboardInterrupt
        return typed

    monkeypatch.setattr(cli.getpass, "getpass", getpass)
    err = _fails(["--account-id", ACCOUNT_ID, "--token-prompt"], capsys)
    assert "ERROR 10000: No API token was entered" in err


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_the_prompt_does_not_echo_on_a_real_terminal() -> None:
    """getpass on a real pty: what the terminal shows never contains the typed token."""
    code = (
        "from imgtui.ui.cli import prompt_token\n"
        f"print('got it' if prompt_token() == {SECRET!r} else 'wrong', flush=True)\n"
    )
    pid, master = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.execv(sys.executable, [sys.executable, "-c", code])
    shown = b""
    try:
        shown += _read_until(master, b"token: ")
        os.write(master, SECRET.encode() + b"\n")
        shown += _read_until(master, b"got it")
    finally:
        os.close(master)
        os.waitpid(pid, 0)
    assert b"Cloudflare API token: " in shown and b"got it" in shown
    assert SECRET.encode() not in shown


def _read_until(fd: int, marker: bytes, seconds: float = 20.0) -> bytes:
    seen = b""
    end = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_api_token_on_the_command_line_warns(capsys: pytest.CaptureFixture[str]) -> None:
    # No account id: the run stops at the credentials check, after the warning.
    err = _fails(["--api-token", SECRET], capsys)
    assert "warning: --api-token puts the token on the command line" in err
    assert "--token-file" in err and "--token-prompt" in err and cli.TOKEN_ENV in err


def test_the_token_options_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _token_file(tmp_path, f"{SECRET}\n".encode())
    for argv in (
        ["--api-token", SECRET, "--token-file", str(path)],
        ["--token-prompt", "--token-file", str(path)],
        ["--demo", "--token-file", str(path)],
        ["--demo", "--token-prompt"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
        out, err = capsys.readouterr()
        assert SECRET not in out + err.replace(f"--api-token {SECRET}", "")


def test_the_environment_still_needs_no_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.ACCOUNT_ENV, ACCOUNT_ID)
    monkeypatch.setenv(cli.TOKEN_ENV, SECRET)
    args = _parse()
    assert cli.wants_cloudflare(args) and cli.api_token(args) is None
    assert cli.open_images(args).label.startswith("Cloudflare account")


def test_help_names_the_safe_ways(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = capsys.readouterr().out
    assert "--token-file" in help_text and "--token-prompt" in help_text


def test_read_token_file_never_quotes_the_content(tmp_path: Path) -> None:
    path = _token_file(tmp_path, f"{SECRET} tail\n".encode())
    with pytest.raises(ImagesError) as caught:
        cli.open_images(_parse("--account-id", ACCOUNT_ID, "--token-file", str(path)))
    assert caught.value.code == 10000 and SECRET not in str(caught.value) + repr(caught.value)
