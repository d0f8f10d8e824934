"""Turn what a terminal types on a drag-and-drop into a list of image files.

Terminals never send a "drop event": they paste the dropped paths as text, each in its own
dialect (Textual delivers it as a Paste event: https://textual.textualize.io/events/paste/):

- GNOME Terminal / VTE: `'/home/u/My Pic.png' ` (single quotes, `'\\''` for a quote, trailing space)
- kitty: raw paths, one per line, unquoted, spaces as is
- iTerm2 / WezTerm / Ghostty / VS Code: `/Users/u/My\\ Pic.png` (backslash escapes)
- Windows Terminal: `"C:\\Users\\u\\My Pic.png"` (double quotes when needed)
- Alacritty: raw paths separated by spaces (ambiguous: we join words until a path exists)
- anything: `file:///home/u/My%20Pic.png` or `file://localhost/...` URIs

Directories expand to the image files directly inside them (not recursively: a dropped
home folder must not queue thousands of files; hidden files are skipped).

Pure and synchronous (it stats files and may read 64 bytes of a file with no known image
extension): the caller runs it in a thread. It never raises.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from imgtui.service.sniff import has_image_signature

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp", ".svg", ".heic", ".heif", ".avif"}
)
# A base64 text file of an image: uploaded with encoding="base64".
BASE64_EXTENSION = ".b64"
MAX_PROBLEMS = 8  # more would bury the useful ones in a notification
# The longest paste taken as a drop: about 2,000 long paths. Anything longer is refused before
# it is split (a 10 MB paste once cost seconds of splitting and a stat per word).
MAX_DROP_CHARS = 256 * 1024

_WINDOWS_PATH = re.compile(r"""^["']?[A-Za-z]:[\\/]""")
_URL = re.compile(r"^https?://", re.I)
_OTHER_URI = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)  # sftp://, smb://, trash://: not local files
_MAX_JOINED_WORDS = 12  # bounds the rejoining of unescaped spaces on long pastes
_SNIFF_BYTES = 64


@dataclass
class DropResult:
    """What a paste named: image files to upload, http(s) URLs, and what was wrong with the rest."""

    files: list[Path] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.files and not self.urls


def is_base64_image_name(path: Path) -> bool:
    return path.suffix.lower() == BASE64_EXTENSION


def is_image_file(path: Path) -> bool:
    """An image by its extension or, failing that, by its first bytes. Raises OSError."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return True
    with path.open("rb") as fileobj:
        head = fileobj.read(_SNIFF_BYTES * 2 if suffix == BASE64_EXTENSION else _SNIFF_BYTES)
    if suffix == BASE64_EXTENSION:
        # `cat.png.b64`, or base64 text whose decoded start is an image.
        if Path(path.stem).suffix.lower() in IMAGE_EXTENSIONS:
            return True
        text = b"".join(head.split())
        try:
            head = base64.b64decode(text[: len(text) // 4 * 4], validate=True)
        except (binascii.Error, ValueError):
            return False
    return has_image_signature(head)


def image_files_in(directory: Path) -> list[Path]:
    """The image files directly inside `directory`, by name (hidden files skipped). Raises OSError."""
    found: list[Path] = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_file() and is_image_file(Path(entry.path)):
                    found.append(Path(entry.path))
            except OSError:
                continue  # unreadable entries are not worth a problem line each
    return sorted(found, key=lambda path: path.name.lower())


def _file_uri_path(uri: str) -> Path | None:
    """`file:///a%20b.png` or `file://localhost/...` as a local path; None for other hosts."""
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        return None
    if os.name == "nt":
        from urllib.request import url2pathname  # heavy (http.client, email): only here

        return Path(url2pathname(parts.path))
    return Path(unquote(parts.path))


def _tokenizations(line: str) -> list[list[str]]:
    """Ways to split one line into words: shell rules first, then plain whitespace (Alacritty
    pastes raw names, where a lone `'` is part of a name, not a quote)."""
    plain = line.split()
    if os.name == "nt" or _WINDOWS_PATH.match(line):
        # POSIX rules would eat the backslashes of `C:\\Users\\...`.
        try:
            words = shlex.split(line, posix=False)
        except ValueError:
            return [plain]
        unquoted = [w[1:-1] if len(w) >= 2 and w[0] == w[-1] and w[0] in "\"'" else w for w in words]
        return [unquoted, plain]
    try:
        return [shlex.split(line), plain]
    except ValueError:  # an unbalanced quote
        return [plain]


def _looks_path_like(word: str) -> bool:
    return (
        "/" in word
        or "\\" in word
        or word.startswith(("~", "."))
        or Path(word).suffix.lower() in IMAGE_EXTENSIONS | {BASE64_EXTENSION}
    )


class _Collector:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.result = DropResult()
        self._seen: set[str] = set()
        self._all_problems: list[str] = []

    def resolve(self, word: str) -> Path:
        path = Path(os.path.expanduser(word))
        return path if path.is_absolute() else self.cwd / path

    def exists(self, word: str) -> bool:
        try:
            return bool(word) and self.resolve(word).exists()
        except (OSError, ValueError):  # ValueError: embedded NUL and the like
            return False

    def problem(self, message: str) -> None:
        self._all_problems.append(message)

    def add_file(self, path: Path) -> None:
        key = os.path.normcase(os.path.realpath(path))
        if key not in self._seen:
            self._seen.add(key)
            self.result.files.append(path)

    def add_url(self, url: str) -> None:
        if url not in self.result.urls:
            self.result.urls.append(url)

    def take(self, word: str, path: Path | None = None) -> None:
        """One word that should name a file, a directory or a URL."""
        if _URL.match(word):
            self.add_url(word)
            return
        if _OTHER_URI.match(word) and not word.lower().startswith("file:"):
            self.problem(f"{word}: not a file on this computer")
            return
        if path is None:
            if word.lower().startswith("file:"):
                path = _file_uri_path(word)
                if path is None:
                    self.problem(f"{word}: not a file on this computer")
                    return
            else:
                path = self.resolve(word)
        shown = str(path)
        try:
            if path.is_dir():
                images = image_files_in(path)
                if not images:
                    self.problem(f"{shown}: folder has no images")
                for image in images:
                    self.add_file(image)
            elif not path.exists():
                self.problem(f"{shown}: no such file")
            elif not path.is_file():
                self.problem(f"{shown}: not a regular file")
            elif is_image_file(path):
                self.add_file(path)
            else:
                self.problem(f"{shown}: not an image")
        except PermissionError:
            self.problem(f"{shown}: permission denied")
        except (OSError, ValueError) as exc:
            self.problem(f"{shown}: cannot read ({getattr(exc, 'strerror', None) or exc})")

    def take_words(self, words: list[str]) -> None:
        """Words of one line; unescaped spaces (Alacritty) are rejoined when that names a path."""
        index = 0
        while index < len(words):
            word = words[index]
            if not _looks_path_like(word) and not _OTHER_URI.match(word):
                index += 1  # prose: cheap to skip, and no stat storm on a pasted essay
                continue
            if _OTHER_URI.match(word) or word.lower().startswith("file:") or self.exists(word):
                self.take(word)
                index += 1
                continue
            # The longest run of words that, joined by spaces, names something.
            for end in range(min(len(words), index + _MAX_JOINED_WORDS), index + 1, -1):
                joined = " ".join(words[index:end])
                if self.exists(joined):
                    self.take(joined)
                    index = end
                    break
            else:
                if _looks_path_like(word):
                    self.take(word)
                index += 1

    def take_best_words(self, tokenizations: list[list[str]]) -> None:
        """Keep the split of a line that names the most things with the fewest problems."""
        best: _Collector | None = None
        for words in tokenizations:
            trial = _Collector(self.cwd)
            trial.take_words(words)
            if best is None or len(trial._all_problems) < len(best._all_problems):
                best = trial
            if not best._all_problems:
                break  # shell rules named everything: no need to try raw words
        if best is None:
            return
        for path in best.result.files:
            self.add_file(path)
        for url in best.result.urls:
            self.add_url(url)
        self._all_problems.extend(best._all_problems)

    def finish(self) -> DropResult:
        problems = self._all_problems
        if self.result.empty and not problems:
            problems = ["The pasted text does not name any file"]
        if len(problems) > MAX_PROBLEMS:
            problems = [*problems[: MAX_PROBLEMS - 1], f"… and {len(problems) - MAX_PROBLEMS + 1} more"]
        self.result.problems = problems
        return self.result


def parse_drop(text: str, *, cwd: Path | None = None) -> DropResult:
    """The image files (and http(s) URLs) a pasted or dropped text names, in order, once each.

    A paste over MAX_DROP_CHARS is refused at once, with a problem saying so.
    """
    if len(text) > MAX_DROP_CHARS:
        return DropResult(problems=[too_long_to_drop(len(text))])
    try:
        collector = _Collector(cwd if cwd is not None else Path.cwd())
    except OSError:  # the working directory was deleted under us
        collector = _Collector(Path("/"))
    try:
        cleaned = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
        for raw_line in cleaned.split("\n"):
            line = raw_line.strip()
            if not line:
                continue
            # kitty and typed paths: a whole line naming a file wins over any splitting.
            if raw_line != line and collector.exists(raw_line):
                collector.take(raw_line)
            elif collector.exists(line):
                collector.take(line)
            else:
                collector.take_best_words(_tokenizations(line))
    except Exception as exc:  # never let a paste crash the app
        collector.problem(f"Could not read the paste: {exc}")
    return collector.finish()


def parse_typed(text: str, *, cwd: Path | None = None) -> DropResult:
    """What a line typed into the path field names: the whole line is one path first (a
    typed `My Pictures/cat 1.png` is one file, and an error names that path, not its words);
    only when several paths, quotes or a paste's escapes name things without a problem is it
    read as a drop."""
    line = text.strip()
    if not line or len(text) > MAX_DROP_CHARS or "\n" in line or "\r" in line:
        return parse_drop(text, cwd=cwd)
    try:
        collector = _Collector(cwd if cwd is not None else Path.cwd())
    except OSError:
        collector = _Collector(Path("/"))
    if _URL.match(line) or collector.exists(line):
        collector.take(line)
        return collector.finish()
    as_drop = parse_drop(text, cwd=cwd)
    if not as_drop.empty and not as_drop.problems:
        return as_drop  # `a.png b.png`, `'my cat.png'`, `my\ cat.png`: every word named something
    collector.take(line)  # the one path it most likely is, and what is wrong with it
    return collector.finish()


def too_long_to_drop(length: int) -> str:
    return (
        f"The paste is {length:,} characters; a drop may be at most {MAX_DROP_CHARS:,}: "
        "drop fewer files at a time, or add a folder"
    )


def looks_like_paths(text: str) -> bool:
    """Cheap: does this paste start like a dropped path, a file URI or an image URL?"""
    first = text.lstrip("\x00 \t\r\n")[:16]
    return first.startswith(("/", "~", "'/", '"/', "'~", "./", "file:", "'file:", "\\\\")) or bool(
        _WINDOWS_PATH.match(first) or _URL.match(first)
    )
