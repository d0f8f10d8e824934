"""The command line (backend choice, credentials never echoed) and the settings file."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgtui.service import Images
from imgtui.ui import cli
from imgtui.ui.app import css_paths
from imgtui.ui.config import UiConfig, config_path, load_config, save_config
from imgtui.workflows.demo import DEMO_COUNT, demo_catalog, fill_demo_library

SECRET = "tok-SECRET-123456"


@pytest.fixture
def no_cloudflare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli.ACCOUNT_ENV, raising=False)
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)


def parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


def test_local_library_is_the_default(no_cloudflare_env, tmp_path: Path):
    assert not cli.wants_cloudflare(parse())
    images = cli.open_images(parse("--library", str(tmp_path / "lib")))
    assert "local library" in images.label and str(tmp_path / "lib") in images.label


def test_cloudflare_when_credentials_are_in_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(cli.ACCOUNT_ENV, "acc123456789")
    monkeypatch.setenv(cli.TOKEN_ENV, SECRET)
    args = parse("--endpoint", "http://127.0.0.1:8787/client/v4")
    assert cli.wants_cloudflare(args)
    images = cli.open_images(args)
    assert images.label.startswith("Cloudflare account") and "127.0.0.1:8787" in images.label
    assert SECRET not in images.label and SECRET not in repr(images)
    # An explicit --library still opens the local library.
    assert not cli.wants_cloudflare(parse("--library", "/tmp/x"))


def test_missing_credentials_is_a_clear_error_without_the_token(no_cloudflare_env, capsys):
    assert cli.main(["--api-token", SECRET]) == 2
    err = capsys.readouterr().err
    assert "ERROR 10000" in err and cli.ACCOUNT_ENV in err
    assert SECRET not in err


@pytest.mark.parametrize("present", ["account", "token"])
def test_half_the_credentials_in_the_environment_is_an_error_not_a_local_library(
    no_cloudflare_env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys, present: str
):
    monkeypatch.setenv("HOME", str(tmp_path))  # a quiet fallback would create a library here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if present == "account":
        monkeypatch.setenv(cli.ACCOUNT_ENV, "acc123456789")
    else:
        monkeypatch.setenv(cli.TOKEN_ENV, SECRET)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "ERROR 10000" in err and SECRET not in err
    assert not (tmp_path / "data").exists()


def test_demo_refuses_cloudflare_options(no_cloudflare_env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--demo", "--account-id", "abc"])
    assert exit_info.value.code == 2
    assert "--demo" in capsys.readouterr().err


def test_help_and_bad_preview(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    assert "--preview" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--preview", "bogus"])
    assert exit_info.value.code == 2


def test_config_round_trip_and_bad_files(_isolated_config: Path):
    assert config_path() == _isolated_config / "config.toml"
    assert load_config() == UiConfig()  # missing file: defaults
    save_config(UiConfig(theme='we"ird\\theme', preview="halfcell"))
    assert load_config() == UiConfig(theme='we"ird\\theme', preview="halfcell")
    config_path().write_text("theme = [unclosed")
    assert load_config() == UiConfig()  # broken TOML: defaults, never a crash
    config_path().write_text('preview = "hologram"\nfuture_key = 1\n')
    assert load_config() == UiConfig()  # invalid value: defaults
    config_path().write_text('theme = "nord"\nfuture_key = 1\n')
    assert load_config().theme == "nord"  # unknown keys are ignored
    # One wrong value costs only itself (each field is checked on its own).
    config_path().write_text(
        'theme = "nord"\npreview = "hologram"\nemoji_glyphs = "yes"\nkeymap = {"a" = 1}\n'
        'columns = ["id", 3]\nview = "grid"\n[profiles]\nbroken = 1\n[profiles.work]\naccount_id = "a"\n'
    )
    loaded = load_config()
    assert (loaded.theme, loaded.view, loaded.preview, loaded.emoji_glyphs) == ("nord", "grid", "auto", False)
    assert loaded.keymap == {} and loaded.columns == UiConfig().columns
    assert loaded.profiles == {"work": {"account_id": "a"}}
    config_path().write_text("a = " + "[" * 100_000)  # nesting past the parser: defaults
    assert load_config() == UiConfig()


def test_styles_are_found():
    from imgtui.ui.modals.common import FormModal

    paths = [*css_paths(), Path(FormModal.CSS_PATH)]  # the forms bring theirs when one opens
    assert [path.name for path in paths] == ["app.tcss", "modals.tcss"]
    assert all(path.is_file() for path in paths)


def test_demo_catalog_is_varied():
    catalog = demo_catalog()
    assert len(catalog) == DEMO_COUNT
    assert {spec.fmt for spec in catalog} >= {"PNG", "JPEG", "GIF", "WEBP", "SVG"}
    assert any(spec.custom_id == "products/shoes/red-sneaker.png" for spec in catalog)
    assert any(spec.signed for spec in catalog)
    assert all(spec.custom_id is None for spec in catalog if spec.signed)  # Cloudflare's rule
    assert len({spec.creator for spec in catalog}) >= 4
    assert len({spec.size for spec in catalog}) >= 5


async def test_demo_fills_only_an_empty_library(tmp_path: Path, png: bytes):
    async with Images.local(tmp_path / "demo") as images:
        assert await fill_demo_library(images) == DEMO_COUNT
        page = await images.hosted.list(limit=100)
        assert len(page.images) == DEMO_COUNT
        sneaker = await images.hosted.image("products/shoes/red-sneaker.png").details()
        assert sneaker is not None and sneaker.meta["sku"] == "SNK-RED-42"
        assert sum(image.require_signed_urls for image in page.images) >= 3
        assert await fill_demo_library(images) == 0  # not empty: left alone
    async with Images.local(tmp_path / "other") as images:
        await images.hosted.upload(png)
        assert await fill_demo_library(images) == 0


def test_a_loopback_endpoint_needs_no_invented_credentials(no_cloudflare_env):
    # Issue 14, trip 1: the command `imgtui serve` prints works as printed.
    images = cli.open_images(parse("--endpoint", "http://127.0.0.1:8788/client/v4"))
    assert "127.0.0.1:8788" in images.label


def test_a_remote_endpoint_still_needs_credentials(no_cloudflare_env, capsys):
    assert cli.main(["--endpoint", "https://api.example.com/client/v4"]) == 2
    assert "ERROR 10000" in capsys.readouterr().err


def test_help_lists_serve(capsys):
    with pytest.raises(SystemExit):
        from imgtui.cli import main as entry

        entry(["--help"])
    assert "\n  serve " in capsys.readouterr().out


async def test_demo_images_have_distinct_upload_minutes(tmp_path: Path):
    from imgtui.workflows.demo_clock import DemoClock

    clock = DemoClock()
    async with Images.local(tmp_path / "lib", clock=clock) as images:
        assert await fill_demo_library(images, clock=clock) == DEMO_COUNT
        listed = (await images.hosted.list(limit=100)).images
    minutes = {image.uploaded.replace(second=0, microsecond=0) for image in listed}
    assert len(minutes) == DEMO_COUNT


def test_settings_keep_preview_columns_and_download_folder(tmp_path: Path):
    path = tmp_path / "config.toml"
    config = UiConfig(preview_shown=False, download_dir=str(tmp_path), columns=["filename", "id"])
    save_config(config, path)
    assert load_config(path) == config
    save_config(UiConfig(), path)  # no download folder: no key (TOML has no null)
    assert load_config(path) == UiConfig()


def test_no_terminal_or_a_dumb_one_is_one_line_and_non_zero(no_cloudflare_env, tmp_path: Path, capsys):
    # Issue 14, failure to start: pytest's stdin is not a terminal.
    assert cli.main(["--library", str(tmp_path / "lib")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs a terminal" in err
    assert "TERM=dumb" in (cli.terminal_problem({"TERM": "dumb"}, True, True) or "")
    assert cli.terminal_problem({"TERM": "xterm-256color"}, True, True) is None


def test_a_library_that_cannot_be_opened_is_one_line_and_non_zero(
    no_cloudflare_env, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(cli, "terminal_problem", lambda *args: None)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert cli.main(["--library", str(blocker / "lib")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("imgtui: cannot open") and err.count("\n") == 1


def test_debug_log_never_holds_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import logging

    from imgtui.ui.debug_log import start_debug_log

    monkeypatch.setenv(cli.TOKEN_ENV, SECRET)
    log = tmp_path / "debug.log"
    start_debug_log(log, "Cloudflare account acc (api.cloudflare.com)")
    try:
        logging.getLogger("imgtui.test").info("header Authorization: Bearer %s", SECRET)
    finally:
        for handler in list(logging.getLogger().handlers):
            if isinstance(handler, logging.FileHandler) and handler.baseFilename == str(log):
                logging.getLogger().removeHandler(handler)
                handler.close()
    text = log.read_text()
    assert "Bearer ***" in text and SECRET not in text and "imgtui 0." in text


def test_clipboard_route_native_when_local_osc52_over_ssh():
    from imgtui.ui.clipboard import choose_command

    has = {"wl-copy", "xclip"}.__contains__

    def which(name: str) -> str | None:
        return f"/usr/bin/{name}" if has(name) else None

    import imgtui.ui.clipboard as clipboard

    local = {"WAYLAND_DISPLAY": "wayland-0"}
    assert clipboard.native_command(local, which) == ["wl-copy"]
    assert clipboard.native_command({"DISPLAY": ":0"}, which)[0] == "xclip"
    assert clipboard.native_command({}, which) is None
    assert choose_command("osc52", local) is None
    assert choose_command("auto", {**local, "SSH_CONNECTION": "1 2 3 4"}) is None


def test_keymap_and_clipboard_settings_round_trip(tmp_path: Path):
    path = tmp_path / "config.toml"
    config = UiConfig(keymap={"edit.delete": "x,delete", "app.quit": "ctrl+q"}, clipboard="osc52")
    save_config(config, path)
    assert load_config(path) == config


async def test_the_users_keys_are_used_and_shown(tmp_path: Path):
    from imgtui.ui.app import ImgTuiApp
    from imgtui.ui.screens.help import collect_keys

    config = UiConfig(keymap={"find.sort": "ctrl+t"}, preview="off")
    app = ImgTuiApp(Images.local(tmp_path / "lib"), config=config)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        keys = [keys for rows in collect_keys(screen).values() for keys, text in rows if "oldest" in text]
        assert keys == ["^t"]  # Textual shows ctrl+t as ^t
        order = screen.list_order
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.list_order != order


def test_credentials_from_a_workers_project(
    no_cloudflare_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Issue 14, conventions: .env as wrangler reads it (the environment wins), the account id
    # from wrangler.jsonc; the header says where they came from, never the token.
    from imgtui.workflows.credentials import find_credentials

    (tmp_path / ".env").write_text(f'# local\nexport CLOUDFLARE_API_TOKEN="{SECRET}"\n')
    (tmp_path / "wrangler.jsonc").write_text('{\n  // the account\n  "account_id": "acc-from-wrangler",\n}\n')
    found = find_credentials({}, tmp_path)
    assert (found.account_id, found.api_token) == ("acc-from-wrangler", SECRET)
    assert found.note == "credentials from .env and wrangler.jsonc"
    assert find_credentials({cli.TOKEN_ENV: "env-wins"}, tmp_path).api_token == "env-wins"
    args = parse()
    assert cli.wants_cloudflare(args, found)
    images = cli.open_images(args, found=found)
    assert images.label.startswith("Cloudflare account acc-from") and SECRET not in images.label
    note = cli.credentials_note(args, found)
    assert note == "credentials from .env and wrangler.jsonc" and SECRET not in note
    # A wrangler.toml alone (no token) does not turn a plain `imgtui` into a Cloudflare one.
    (tmp_path / ".env").unlink()
    assert not cli.wants_cloudflare(args, find_credentials({}, tmp_path))


def test_a_token_read_from_a_file_is_the_one_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """--debug redacts the token in use wherever it came from, not only $CLOUDFLARE_API_TOKEN."""
    monkeypatch.delenv(cli.TOKEN_ENV, raising=False)
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n")
    token_file.chmod(0o600)
    args = cli.build_parser().parse_args(
        [
            "--account-id",
            "acc",
            "--token-file",
            str(token_file),
            "--endpoint",
            "https://api.example.com/client/v4",
        ]
    )
    cli.open_images(args)
    assert cli.api_token_value(args) == SECRET
