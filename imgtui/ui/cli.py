"""`imgtui [options]`: open the terminal browser on a local library or a Cloudflare account."""

from __future__ import annotations

import argparse
import gc
import getpass
import os
import stat
import sys
from pathlib import Path

from imgtui import __version__
from imgtui.service import ErrorCode, Images, ImagesError
from imgtui.service.config import ACCOUNT_ENV, TOKEN_ENV, default_library_path
from imgtui.ui.preview.terminal import PREVIEW_MODES
from imgtui.workflows.credentials import FoundCredentials, find_credentials
from imgtui.workflows.demo_clock import DemoClock
from imgtui.workflows.libraries import LibraryChoice, LibraryOptions, open_library
from imgtui.workflows.profiles import ProfileError, apply_profile, get_profile


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imgtui",
        description=(
            "Browse, preview and edit Cloudflare Images in the terminal. Opens your Cloudflare "
            f"account when {ACCOUNT_ENV} and {TOKEN_ENV} are set, else a local library."
        ),
        epilog="`imgtui serve --help` runs a local Cloudflare Images API emulator.",
    )
    where = parser.add_argument_group("what to open")
    where.add_argument(
        "--library",
        metavar="PATH",
        type=Path,
        help=f"open the local library in PATH (default: {default_library_path()}, unless Cloudflare credentials are set)",
    )
    where.add_argument(
        "--demo",
        action="store_true",
        help="fill an empty local library with about 60 demo images (drawn locally, nothing downloaded)",
    )
    where.add_argument(
        "--wrangler",
        metavar="DIR",
        nargs="?",
        const=".",
        help="browse the images `wrangler dev` stored for a Worker, read-only: DIR is the project "
        "folder (default: the current one), its .wrangler/state, or .wrangler/state/v3/images",
    )
    where.add_argument("--account-id", metavar="ID", help=f"Cloudflare account id (default: ${ACCOUNT_ENV})")
    # A command line is visible to every user of the machine (`ps`, /proc): the environment,
    # a file or a prompt keep the token out of it.
    token = where.add_mutually_exclusive_group()
    token.add_argument(
        "--api-token",
        metavar="TOKEN",
        help=f"Cloudflare API token: visible to other users in `ps`; prefer ${TOKEN_ENV}, --token-file or --token-prompt",
    )
    token.add_argument(
        "--token-file",
        metavar="PATH",
        type=Path,
        help="read the Cloudflare API token from the first line of PATH (keep it private: chmod 600)",
    )
    token.add_argument(
        "--token-prompt", action="store_true", help="ask for the Cloudflare API token (not echoed)"
    )
    where.add_argument(
        "--endpoint",
        metavar="URL",
        help="Cloudflare API base URL, e.g. http://127.0.0.1:8790/client/v4 for `imgtui serve`",
    )
    where.add_argument(
        "--profile",
        metavar="NAME",
        help="use the config file's [profiles.NAME] table (account_id, token_file, endpoint or "
        "library); options win over it, it wins over CLOUDFLARE_* variables",
    )
    parser.add_argument(
        "--preview",
        choices=PREVIEW_MODES,
        help="image preview: auto-detect, force a renderer, or off (default: the config file's, else auto)",
    )
    parser.add_argument(
        "--debug",
        metavar="LOG",
        nargs="?",
        const="imgtui-debug.log",
        type=Path,
        help="write a log for a bug report to LOG (default: ./imgtui-debug.log); it never holds a token",
    )
    parser.add_argument("--version", action="version", version=f"imgtui {__version__}")
    return parser


def wants_cloudflare(args: argparse.Namespace, found: FoundCredentials | None = None) -> bool:
    if args.library is not None or args.demo or args.wrangler is not None:
        return False
    if args.account_id or _gives_token(args) or args.endpoint:
        return True
    if found is not None and found.token_from == ".env":
        return True  # inside a Workers project whose .env holds the token, as wrangler reads it
    # One of the two set means the user meant Cloudflare: say what is missing rather than
    # quietly opening (and creating) a local library.
    return bool(os.environ.get(ACCOUNT_ENV) or os.environ.get(TOKEN_ENV))


def _gives_token(args: argparse.Namespace) -> bool:
    return bool(args.api_token or args.token_file is not None or args.token_prompt)


# A token is ~40 characters; a first line longer than this is not one (and is not read whole).
_MAX_TOKEN_LINE = 4096


def read_token_file(path: Path) -> str:
    """The first line of `path`, stripped; ImagesError 10000 that says what is wrong with the
    file without quoting any of it. Warns on stderr when other users may read it."""
    try:
        with path.open("rb") as file:
            # Not only regular files: `--token-file <(pass show cloudflare)` is a pipe.
            mode = os.fstat(file.fileno()).st_mode
            first = file.readline(_MAX_TOKEN_LINE + 1)
    except FileNotFoundError:
        raise ImagesError(ErrorCode.AUTHENTICATION, f"The token file {path} does not exist") from None
    except OSError as error:
        raise ImagesError(
            ErrorCode.AUTHENTICATION, f"Cannot read the token file {path}: {error.strerror or error}"
        ) from None
    if os.name == "posix" and stat.S_ISREG(mode) and mode & (stat.S_IRGRP | stat.S_IROTH):
        print(
            f"imgtui: warning: the token file {path} is readable by other users (chmod 600 {path})",
            file=sys.stderr,
        )
    if len(first) > _MAX_TOKEN_LINE:
        raise ImagesError(
            ErrorCode.AUTHENTICATION, f"The first line of the token file {path} is too long to be a token"
        )
    try:
        token = first.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ImagesError(
            ErrorCode.AUTHENTICATION, f"The token file {path} does not start with a token (not ASCII text)"
        ) from None
    if not token:
        raise ImagesError(
            ErrorCode.AUTHENTICATION, f"The token file {path} is empty: its first line must be the API token"
        )
    return token


def prompt_token() -> str:
    """The token typed at the terminal (not echoed); ImagesError 10000 when none was given."""
    try:
        token = getpass.getpass("Cloudflare API token: ").strip()
    except (EOFError, KeyboardInterrupt):  # end of input, or Ctrl+C at the prompt
        print(file=sys.stderr)
        token = ""
    if not token:
        raise ImagesError(ErrorCode.AUTHENTICATION, "No API token was entered")
    return token


def api_token(args: argparse.Namespace) -> str | None:
    """The token from whichever option gives one; None leaves it to $CLOUDFLARE_API_TOKEN."""
    if args.token_file is not None:
        return read_token_file(args.token_file)
    if args.token_prompt:
        return prompt_token()
    return args.api_token or None


def terminal_problem(
    environ: os._Environ[str] | dict[str, str], stdin_tty: bool, stdout_tty: bool
) -> str | None:
    """Why the TUI cannot run here (one line), or None: it needs a terminal on both ends and
    one that understands escape codes."""
    if not (stdin_tty and stdout_tty):
        return (
            "the browser needs a terminal (stdin and stdout are not one); for scripts use "
            "the commands: imgtui ls, info, get, put … (imgtui --help)"
        )
    if environ.get("TERM", "") == "dumb":
        return (
            "TERM=dumb cannot show the browser (it draws with escape codes); run it in a full "
            "terminal (e.g. TERM=xterm-256color), or use the commands: imgtui ls … (imgtui --help)"
        )
    return None


def library_problem(path: Path) -> str | None:
    """Why a local library cannot be created or opened at `path` (one line), or None. Only
    the path is looked at (microseconds): a folder, or a place where one can be made."""
    existing = path
    try:
        while not existing.exists():  # raises under a folder it may not enter (EACCES)
            if existing.parent == existing:
                break
            existing = existing.parent
        if existing.exists() and not existing.is_dir():
            return f"{existing} is a file, not a folder"
    except OSError as error:
        return f"cannot reach {path}: {error.strerror or type(error).__name__}"
    if existing == path:
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            return f"no permission to read and write in {path}"
    elif not os.access(existing, os.W_OK | os.X_OK):
        return f"no permission to create {path} (in {existing})"
    return None


def apply_profile_args(args: argparse.Namespace) -> None:
    """Fill `args` from `--profile NAME` where no option gives a value (it wins over the
    environment: the commands' rule, imgtui.workflows.profiles); `args.from_profile` names the
    fields it filled, for the header. ProfileError for an unusable profile."""
    args.from_profile = frozenset[str]()
    if not getattr(args, "profile", None):
        return
    profile = get_profile(args.profile)
    before = LibraryOptions(
        library=args.library, wrangler=args.wrangler, account_id=args.account_id, endpoint=args.endpoint
    )
    if args.demo and profile.library is None:
        return  # --demo fills a local library: a profile's account stays out of it
    after = apply_profile(before, profile)
    filled: set[str] = set()
    for field in ("library", "account_id", "endpoint"):
        if getattr(after, field) != getattr(before, field):
            setattr(args, field, getattr(after, field))
            filled.add(field)
    cloudflare = after.library is None and after.wrangler is None
    if cloudflare and profile.token_file is not None and not _gives_token(args):
        args.token_file = profile.token_file
        filled.add("token_file")
    args.from_profile = frozenset(filled)


def credentials_note(args: argparse.Namespace, found: FoundCredentials) -> str:
    """Where the account id and token came from, for the header; never the token."""
    from_profile: frozenset[str] = getattr(args, "from_profile", frozenset())
    profile = f"profile {args.profile}" if from_profile else None
    account = (
        profile if "account_id" in from_profile else "command line" if args.account_id else found.account_from
    )
    token = (
        profile
        if "token_file" in from_profile
        else "command line"
        if args.api_token
        else "token file"
        if args.token_file
        else "prompt"
        if args.token_prompt
        else found.token_from
    )
    places = sorted({place for place in (account, token) if place})
    return "credentials from " + " and ".join(places) if places else ""


def api_token_value(args: argparse.Namespace) -> str | None:
    """The token in use, from any source (an option, a file, the prompt, a profile, .env, the
    environment), for --debug's redaction only."""
    return getattr(args, "resolved_token", None) or args.api_token or os.environ.get(TOKEN_ENV) or None


def open_images(
    args: argparse.Namespace, *, demo_clock: DemoClock | None = None, found: FoundCredentials | None = None
) -> Images:
    """The service the arguments ask for (raises ImagesError, e.g. missing credentials)."""
    if args.wrangler is not None:
        return Images.wrangler(args.wrangler)
    if wants_cloudflare(args, found):
        # The commands' rule (imgtui.workflows.libraries): a loopback --endpoint, as
        # `imgtui serve` prints it, needs no account id or token.
        account = args.account_id or (found.account_id if found else os.environ.get(ACCOUNT_ENV)) or ""
        token = api_token(args) or (found.api_token if found else None)
        args.resolved_token = token  # for --debug's redaction only: it never leaves this process
        return open_library(LibraryChoice("cloudflare", account, args.endpoint), api_token=token)
    return Images.local(args.library or default_library_path(), clock=demo_clock)


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.demo and (args.account_id or _gives_token(args) or args.endpoint):
        parser.error("--demo fills a local library; it cannot be combined with Cloudflare options")
    if args.wrangler is not None and (
        args.library or args.demo or args.account_id or _gives_token(args) or args.endpoint
    ):
        parser.error("--wrangler opens wrangler dev's images; it cannot be combined with other libraries")
    if args.api_token:
        print(
            "imgtui: warning: --api-token puts the token on the command line, where other users"
            f" can read it (ps); use ${TOKEN_ENV}, --token-file PATH or --token-prompt instead",
            file=sys.stderr,
        )
    try:
        apply_profile_args(args)
    except ProfileError as error:
        print(f"imgtui: {error}", file=sys.stderr)
        return 2
    # --demo: its upload times are spread over the past, so sorting shows a change.
    demo_clock = DemoClock() if args.demo else None
    # .env and wrangler.* here, as wrangler reads them; not read when a library is named.
    local = args.library is not None or args.demo or args.wrangler is not None
    found = None if local else find_credentials(os.environ, Path.cwd())
    try:
        images = open_images(args, demo_clock=demo_clock, found=found)
    except ImagesError as error:
        print(f"imgtui: {error}", file=sys.stderr)
        if error.code == ErrorCode.AUTHENTICATION:
            print(
                "imgtui: give --account-id and the token in $CLOUDFLARE_API_TOKEN "
                "(or --token-file PATH, or --token-prompt), or --library PATH for a local library",
                file=sys.stderr,
            )
        return 2

    problem = terminal_problem(os.environ, sys.stdin.isatty(), sys.stdout.isatty())
    if problem is not None:
        print(f"imgtui: {problem}", file=sys.stderr)
        return 2
    if args.debug is not None:
        from imgtui.ui.debug_log import start_debug_log

        start_debug_log(args.debug, images.label, secrets=[api_token_value(args)])

    from imgtui.ui.config import load_config
    from imgtui.ui.widgets.preview import prepare_terminal

    config = load_config()
    from imgtui.ui.widgets.table_layout import use_emoji_glyphs

    use_emoji_glyphs(config.emoji_glyphs)
    # textual-image probes the terminal on import: this must happen before App.run().
    preview_mode = prepare_terminal(args.preview or config.preview)

    from imgtui.ui.app import ImgTuiApp

    if args.wrangler is None and not wants_cloudflare(args, found):
        library = args.library or default_library_path()
        problem = library_problem(library)
        if problem is not None:
            # A library that cannot be opened (a file in the way, no permission): one line
            # and a non-zero exit, not a TUI stuck on an error. A path check, no read: the
            # list reads the catalogue, and a broken database shows in the list's error row.
            print(f"imgtui: cannot open {images.label}: {problem}", file=sys.stderr)
            return 1
    # The last catalogue's first screen (any backend: it is a local cache file), read now,
    # with no event loop yet, in a few ms: the first frame shows rows instead of waiting
    # ~100 ms behind mounting for them. The walk brings it up to date as before.
    from imgtui.workflows.cataloguing import read_first_screen

    read_first_screen(images)

    app = ImgTuiApp(images, preview_mode=preview_mode, demo=args.demo, demo_clock=demo_clock, config=config)
    if found is not None and wants_cloudflare(args, found):
        app.credentials_note = credentials_note(args, found)
    # What start-up allocated lives until exit: out of the cyclic GC's sight (see imgtui.cli).
    gc.freeze()
    gc.enable()
    app.run()
    return app.return_code or 0
