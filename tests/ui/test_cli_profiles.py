"""`imgtui --profile NAME`: the TUI fills its options from a [profiles.NAME] table, says so in
the header, and refuses an unusable profile with one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgtui.ui import cli
from imgtui.ui.config import config_path, load_config, save_config
from imgtui.workflows.credentials import find_credentials
from imgtui.workflows.profiles import load_profiles

SECRET = "tok-PROFILE-SECRET-42"


@pytest.fixture(autouse=True)
def _no_cloudflare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (cli.ACCOUNT_ENV, cli.TOKEN_ENV, "CLOUDFLARE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def write_config(text: str) -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(text, encoding="utf-8")


def work_profile(tmp_path: Path) -> Path:
    token = tmp_path / "work-token"
    token.write_text(SECRET + "\n", encoding="utf-8")
    token.chmod(0o600)
    write_config(
        'theme = "nord"\n[profiles.work]\naccount_id = "acc-work"\n'
        f'token_file = "{token}"\nendpoint = "https://api.example.test/client/v4"\n'
    )
    return token


def args_for(*argv: str):
    args = cli.build_parser().parse_args(list(argv))
    cli.apply_profile_args(args)
    return args


def test_the_profile_is_applied_and_named_in_the_header(tmp_path: Path):
    token = work_profile(tmp_path)
    args = args_for("--profile", "work")
    assert (args.account_id, args.token_file, args.endpoint) == (
        "acc-work",
        token,
        "https://api.example.test/client/v4",
    )
    assert cli.wants_cloudflare(args) and cli.api_token(args) == SECRET
    images = cli.open_images(args)
    assert images.label.startswith("Cloudflare account acc-work") and "api.example.test" in images.label
    note = cli.credentials_note(args, find_credentials({}, tmp_path))
    assert note == "credentials from profile work" and SECRET not in note


def test_options_win_over_the_profile(tmp_path: Path):
    work_profile(tmp_path)
    args = args_for("--profile", "work", "--account-id", "mine", "--endpoint", "http://127.0.0.1:9/client/v4")
    assert (args.account_id, args.endpoint) == ("mine", "http://127.0.0.1:9/client/v4")
    assert cli.credentials_note(args, find_credentials({}, tmp_path)) == (
        "credentials from command line and profile work"
    )
    local = args_for("--profile", "work", "--library", str(tmp_path / "lib"))
    assert not cli.wants_cloudflare(local) and local.account_id is None


def test_the_profile_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A profile is named on the command line; a variable may be left exported from other
    work: the profile's account and token are used, and the header says so."""
    token = work_profile(tmp_path)
    env = {cli.ACCOUNT_ENV: "acc-env", cli.TOKEN_ENV: "env-token"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = cli.build_parser().parse_args(["--profile", "work"])
    cli.apply_profile_args(args)
    assert (args.account_id, args.token_file) == ("acc-work", token)
    assert cli.api_token(args) == SECRET
    assert cli.credentials_note(args, find_credentials(env, tmp_path)) == "credentials from profile work"
    assert cli.open_images(args).label.startswith("Cloudflare account acc-work")


def test_a_library_profile_opens_that_folder(tmp_path: Path):
    write_config(f'[profiles.offline]\nlibrary = "{tmp_path / "pics"}"\n')
    args = args_for("--profile", "offline")
    assert args.library == tmp_path / "pics" and not cli.wants_cloudflare(args)
    assert str(tmp_path / "pics") in cli.open_images(args).label


def test_an_exported_token_never_sends_a_library_profile_to_an_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_config(f'[profiles.offline]\nlibrary = "{tmp_path / "pics"}"\n')
    monkeypatch.setenv(cli.TOKEN_ENV, "exported-earlier")
    monkeypatch.setenv(cli.ACCOUNT_ENV, "some-account")
    args = args_for("--profile", "offline")
    assert args.library == tmp_path / "pics" and not cli.wants_cloudflare(args)
    assert cli.open_images(args).label == f"local library {tmp_path / 'pics'}"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[profiles.work]\naccount_id = "a"\n[profiles.home]\nlibrary = "/x"\n', "unknown profile 'nope'"),
        (f'[profiles.nope]\naccount_id = "a"\ntoken = "{SECRET}"\n', "token_file"),
        ("[profiles.nope\naccount_id = \n", "is not valid TOML"),
    ],
    ids=["unknown", "token-refused", "bad-toml"],
)
def test_an_unusable_profile_is_one_line_and_exit_2(
    config: str, message: str, capsys: pytest.CaptureFixture[str]
):
    write_config(config)
    assert cli.main(["--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("imgtui: ") and message in err
    assert SECRET not in err
    if message.startswith("unknown"):
        assert "(known: home, work)" in err


def test_saving_the_settings_keeps_the_profiles(tmp_path: Path):
    work_profile(tmp_path)
    config = load_config()
    assert config.theme == "nord"
    save_config(config.replace(theme="gruvbox"))
    assert load_config().theme == "gruvbox"
    assert load_profiles()["work"].account_id == "acc-work"


def test_a_malformed_profiles_entry_keeps_the_other_settings():
    write_config('theme = "nord"\nprofiles = "oops"\n')
    assert load_config().theme == "nord"
    write_config('theme = "nord"\n[profiles]\nwork = "oops"\n')
    assert load_config().theme == "nord" and load_config().profiles == {}
