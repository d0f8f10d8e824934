"""Named profiles in the config file, for people with several accounts:

    [profiles.work]
    account_id = "abc123"
    token_file = "~/.config/imgtui/work-token"   # never the token itself
    endpoint = "https://api.cloudflare.com/client/v4"   # optional
    [profiles.offline]
    library = "~/pics"

`--profile NAME` (the TUI and the commands) fills what the command line leaves open, and
wins over the `CLOUDFLARE_*` variables: a profile is named on the command line, a variable
may be left exported from other work, so `rm --profile offline` never reaches an account
because a token was exported (the AWS CLI's order, https://docs.aws.amazon.com/cli/latest/userguide/cli-chap-configure.html#configure-precedence).
The variables fill only what the profile leaves open. Textual-free, so the commands and the
TUI share it; the config file's path lives here for the same reason.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from imgtui.service.config import TOKEN_ENV

from .libraries import LibraryOptions

CONFIG_DIR_ENV = "IMGTUI_CONFIG_DIR"
CONFIG_FILENAME = "config.toml"
PROFILE_KEYS = ("account_id", "token_file", "endpoint", "library")
_MAX_TOKEN_LINE = 4096


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else platformdirs.user_config_path("imgtui")


def config_path() -> Path:
    return config_dir() / CONFIG_FILENAME


class ProfileError(ValueError):
    """A profile that cannot be used: unknown, a token in the config, a broken file (one line)."""


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    account_id: str | None = None
    token_file: Path | None = None
    endpoint: str | None = None
    library: Path | None = None


def _profile(name: str, table: object, path: Path) -> Profile:
    if not isinstance(table, dict):
        raise ProfileError(f"{path}: [profiles.{name}] must be a table")
    if "token" in table or "api_token" in table:
        raise ProfileError(
            f"{path}: profile {name!r} holds a token; the config never does: put it in a file "
            f"named by token_file (chmod 600) or in ${TOKEN_ENV}"
        )
    unknown = sorted(set(table) - set(PROFILE_KEYS))
    if unknown:
        raise ProfileError(
            f"{path}: profile {name!r} has unknown keys {', '.join(unknown)} (known: {', '.join(PROFILE_KEYS)})"
        )
    values: dict[str, str] = {}
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip():
            raise ProfileError(f"{path}: profile {name!r}: {key} must be a non-empty string")
        values[key] = value.strip()
    return Profile(
        name=name,
        account_id=values.get("account_id"),
        token_file=Path(values["token_file"]).expanduser() if "token_file" in values else None,
        endpoint=values.get("endpoint"),
        library=Path(values["library"]).expanduser() if "library" in values else None,
    )


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """Every profile in the config file ({} when the file is missing); ProfileError when the
    file is not valid TOML or a profile is unusable (a profile asked for must not be guessed)."""
    path = path or config_path()
    try:
        with path.open("rb") as fileobj:
            raw = tomllib.load(fileobj)
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ProfileError(f"cannot read the config file {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"the config file {path} is not valid TOML: {error}") from None
    tables = raw.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfileError(f"{path}: profiles must be a table of [profiles.NAME] tables")
    return {name: _profile(name, table, path) for name, table in tables.items()}


def get_profile(name: str, path: Path | None = None) -> Profile:
    """The profile `name`; ProfileError naming the known ones when there is none."""
    path = path or config_path()
    profiles = load_profiles(path)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ProfileError(f"unknown profile {name!r} in {path} (known: {known})")
    return profiles[name]


def apply_profile(options: LibraryOptions, profile: Profile) -> LibraryOptions:
    """`options` with what the profile gives where no option does (the environment does not
    count: the profile wins over it). A profile's library applies only when no option names
    another library or an account."""
    named = options.library is not None or options.wrangler is not None
    cloudflare = options.account_id is not None or options.endpoint is not None
    if profile.library is not None:
        return options if named or cloudflare else replace(options, library=profile.library)
    if named:
        return options  # --library / --wrangler name another library: the profile stays out
    return replace(
        options,
        account_id=options.account_id or profile.account_id,
        endpoint=options.endpoint or profile.endpoint,
    )


def profile_token(profile: Profile) -> str | None:
    """The token from the profile's token_file (it wins over $CLOUDFLARE_API_TOKEN); None
    when the profile names no file (then the variable gives it)."""
    return None if profile.token_file is None else read_token_line(profile.token_file)


def read_token_line(path: Path) -> str:
    """The first line of a token file, stripped; ProfileError saying what is wrong (never
    quoting the file)."""
    try:
        with path.open("rb") as file:
            first = file.readline(_MAX_TOKEN_LINE + 1)
    except OSError as error:
        raise ProfileError(f"cannot read the token file {path}: {error.strerror or error}") from None
    try:
        token = first.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ProfileError(f"the token file {path} does not start with a token (not ASCII text)") from None
    if not token or len(first) > _MAX_TOKEN_LINE:
        raise ProfileError(f"the token file {path} must hold the API token on its first line")
    return token
