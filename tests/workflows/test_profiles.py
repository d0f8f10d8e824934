"""Named profiles (`[profiles.NAME]` in config.toml) and `--profile NAME` in the commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from imgtui.commands import main
from imgtui.service import Images
from imgtui.workflows.libraries import LibraryOptions, choose_library
from imgtui.workflows.profiles import (
    ProfileError,
    apply_profile,
    config_path,
    get_profile,
    load_profiles,
    profile_token,
)
from tests.rest_harness import ACCOUNT_ID, start_emulator

SECRET = "tok-PROFILE-SECRET-42"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IMGTUI_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "config"


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def token_file(tmp_path: Path, token: str = SECRET) -> Path:
    path = tmp_path / "work-token"
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def test_profiles_are_read_with_paths_expanded(tmp_path: Path):
    write_config(
        f'theme = "nord"\n[profiles.work]\naccount_id = "abc123"\ntoken_file = "{tmp_path}/t"\n'
        'endpoint = "https://api.example/client/v4"\n[profiles.offline]\nlibrary = "~/pics"\n'
    )
    profiles = load_profiles()
    assert sorted(profiles) == ["offline", "work"]
    assert profiles["work"].account_id == "abc123" and profiles["work"].token_file == tmp_path / "t"
    assert profiles["offline"].library == Path("~/pics").expanduser()


def test_a_profile_fills_what_the_options_leave_open():
    write_config('[profiles.work]\naccount_id = "abc123"\nendpoint = "https://api.example/client/v4"\n')
    options = apply_profile(LibraryOptions(), get_profile("work"))
    choice = choose_library(options, {})
    assert (choice.kind, choice.target, choice.endpoint) == (
        "cloudflare",
        "abc123",
        "https://api.example/client/v4",
    )


def test_explicit_options_win_over_the_profile(tmp_path: Path):
    write_config('[profiles.work]\naccount_id = "abc123"\nendpoint = "https://api.example/client/v4"\n')
    profile = get_profile("work")
    options = apply_profile(
        LibraryOptions(account_id="mine", endpoint="http://127.0.0.1:1/client/v4"), profile
    )
    assert (options.account_id, options.endpoint) == ("mine", "http://127.0.0.1:1/client/v4")
    # --library names another library: the profile's account stays out (no conflict error)
    local = apply_profile(LibraryOptions(library=tmp_path), profile)
    assert choose_library(local, {}).kind == "local"


def test_the_profile_wins_over_the_environment(tmp_path: Path):
    write_config(f'[profiles.work]\naccount_id = "abc123"\ntoken_file = "{token_file(tmp_path)}"\n')
    profile = get_profile("work")
    env = {"CLOUDFLARE_ACCOUNT_ID": "from-env", "CLOUDFLARE_API_TOKEN": "env-token"}
    assert choose_library(apply_profile(LibraryOptions(), profile), env).target == "abc123"
    assert profile_token(profile) == SECRET
    write_config('[profiles.bare]\naccount_id = "abc123"\n')
    assert profile_token(get_profile("bare")) is None  # no file: the variable gives the token


def test_a_library_profile_opens_that_folder(tmp_path: Path):
    write_config(f'[profiles.offline]\nlibrary = "{tmp_path / "pics"}"\n')
    env = {"CLOUDFLARE_API_TOKEN": "x"}  # exported from other work: the profile still wins
    choice = choose_library(apply_profile(LibraryOptions(), get_profile("offline")), env)
    assert (choice.kind, choice.target) == ("local", str(tmp_path / "pics"))


def test_an_unknown_profile_names_the_known_ones():
    write_config('[profiles.work]\naccount_id = "a"\n[profiles.home]\naccount_id = "b"\n')
    with pytest.raises(ProfileError, match=r"unknown profile 'nope'.*\(known: home, work\)"):
        get_profile("nope")


def test_a_token_in_a_profile_is_refused_without_echoing_it():
    write_config(f'[profiles.work]\naccount_id = "a"\ntoken = "{SECRET}"\n')
    with pytest.raises(ProfileError, match="token_file") as caught:
        get_profile("work")
    assert SECRET not in str(caught.value)


def test_broken_toml_is_a_clear_message():
    path = write_config("[profiles.work\naccount_id = \n")
    with pytest.raises(ProfileError, match="is not valid TOML") as caught:
        get_profile("work")
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_token_file_is_one_line(tmp_path: Path):
    write_config(f'[profiles.work]\naccount_id = "a"\ntoken_file = "{tmp_path / "absent"}"\n')
    with pytest.raises(ProfileError, match="cannot read the token file"):
        profile_token(get_profile("work"))


# The commands


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_commands_reach_an_account_with_the_profile_token_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    path = tmp_path / "served"
    Images.local(path)  # an empty library is enough: the token must be accepted
    server = start_emulator(path, api_token=SECRET)
    try:
        write_config(
            f'[profiles.work]\naccount_id = "{ACCOUNT_ID}"\ntoken_file = "{token_file(tmp_path)}"\n'
            f'endpoint = "{server.api_url}"\n'
        )
        code, out, err = run(capsys, "ls", "--profile", "work", "--json")
        assert code == 0, err
        assert out.strip() == "[]"
        # An explicit --endpoint wins over the profile's: the wrong one fails.
        code, _, err = run(capsys, "ls", "--profile", "work", "--endpoint", "http://127.0.0.1:9/client/v4")
        assert code != 0
    finally:
        server.stop()
    assert SECRET not in err


def test_the_commands_refuse_an_unknown_profile_with_exit_2(capsys: pytest.CaptureFixture[str]):
    write_config('[profiles.work]\naccount_id = "a"\n')
    code, out, err = run(capsys, "ls", "--profile", "nope")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown profile 'nope'" in err and "known: work" in err


def test_the_commands_open_a_library_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    asyncio.run(_empty(tmp_path / "pics"))
    write_config(f'[profiles.offline]\nlibrary = "{tmp_path / "pics"}"\n')
    code, out, err = run(capsys, "ls", "--profile", "offline", "--json")
    assert code == 0, err
    assert out.strip() == "[]"


async def _empty(path: Path) -> None:
    images = Images.local(path)
    await images.aclose()
