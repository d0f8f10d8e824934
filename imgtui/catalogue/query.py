"""The search box's query language: parse to a small typed model, compile to SQL.

    hero banner  creator:alice  meta.status=active  meta.rating>=4  meta.tags:in(a,b)
    private  public  draft  format:png  uploaded>2026-01-01  -word  -draft  "two words"

Clauses are ANDed. Words match id, filename, creator and metadata `key=value` text (substring,
case-insensitive). A malformed clause raises `QueryError` with its position; nothing else
escapes `parse_query`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

# A pasted megabyte is refused before any scanning: nobody types a query this long.
MAX_QUERY_CHARS = 2_000
MAX_CLAUSES = 64
MAX_IN_ITEMS = 64
# Words of at least this many characters can use the FTS5 trigram index; shorter ones scan.
TRIGRAM = 3

CompareOp = Literal["=", "!=", ">", ">=", "<", "<="]
_OPS: tuple[CompareOp, ...] = (">=", "<=", "!=", "=", ">", "<")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_FORMATS = {"png", "jpeg", "gif", "webp", "svg", "avif", "bmp", "tiff", "heic"}
_FORMAT_ALIASES = {"jpg": "jpeg", "svg+xml": "svg", "tif": "tiff"}


class QueryError(ValueError):
    """A clause that makes no sense; `position` is its offset in the query text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # casefolded, as the catalogue's search text is


@dataclass(frozen=True, slots=True)
class Creator:
    name: str


@dataclass(frozen=True, slots=True)
class MetaCompare:
    path: tuple[str, ...]
    op: CompareOp
    value: str | float | bool  # numbers only for > >= < <=
    # An unquoted number compared with = or != also equals that text: `meta.year=2024` finds
    # {"year": "2024"} as well as {"year": 2024}, as Cloudflare's untyped filter does.
    text: str | None = None


@dataclass(frozen=True, slots=True)
class MetaIn:
    path: tuple[str, ...]
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Flag:
    name: Literal["private", "public", "draft"]


@dataclass(frozen=True, slots=True)
class Format:
    name: str


@dataclass(frozen=True, slots=True)
class Uploaded:
    op: CompareOp
    start_ms: int  # the instant, or the start of the day for a date
    end_ms: int  # exclusive end of the day, == start_ms + 1 for an instant


Term = Word | Creator | MetaCompare | MetaIn | Flag | Format | Uploaded


@dataclass(frozen=True, slots=True)
class Clause:
    term: Term
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class Query:
    clauses: tuple[Clause, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.clauses

    def server_side(self) -> tuple[Clause, ...]:
        """Clauses a backend's list could evaluate (Cloudflare's creator and metadata filters),
        for when the catalogue is not complete: positive creator and metadata equality / in."""
        return tuple(
            clause
            for clause in self.clauses
            if not clause.negated
            and (
                isinstance(clause.term, Creator | MetaIn)
                or (isinstance(clause.term, MetaCompare) and clause.term.op == "=")
            )
        )


def _tokens(text: str) -> list[tuple[str, int]]:
    """Split on whitespace outside double quotes and parentheses; quotes stay in the token."""
    tokens: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, depth, quoted = i, 0, False
        while i < n and (quoted or depth or not text[i].isspace()):
            char = text[i]
            if char == '"':
                quoted = not quoted
            elif not quoted and char == "(":
                depth += 1
            elif not quoted and char == ")" and depth:
                depth -= 1
            i += 1
        if quoted:
            raise QueryError("unclosed quote", start)
        if depth:
            raise QueryError("unclosed parenthesis", start)
        tokens.append((text[start:i], start))
    return tokens


def _unquote(value: str, position: int) -> str:
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"') or '"' in value[1:-1]:
            raise QueryError("a quoted value must be one quoted string", position)
        return value[1:-1]
    if '"' in value:
        raise QueryError("quote the whole value", position)
    return value


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _date(value: str, position: int) -> tuple[int, int]:
    """[start, end) in ms. A day or a time without an offset is local time, as the list
    shows upload times (a naive datetime's `astimezone()` reads it as local, DST included)."""
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d")
            start = int(day.astimezone().timestamp() * 1000)
            return start, int((day + timedelta(days=1)).astimezone().timestamp() * 1000)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        start = int(moment.astimezone().timestamp() * 1000)
    except (ValueError, OverflowError):  # 9999-12-31: its next day is past datetime's range
        raise QueryError(f"{value!r} is not a date (YYYY-MM-DD or an ISO time)", position) from None
    return start, start + 1


def _split_op(body: str) -> tuple[str, CompareOp, str] | None:
    for index, char in enumerate(body):
        if char in "=!<>":
            for op in _OPS:
                if body.startswith(op, index):
                    return body[:index], op, body[index + len(op) :]
            return None
    return None


def _meta_path(name: str, position: int) -> tuple[str, ...]:
    parts = tuple(name.split("."))
    if not parts or not all(_KEY.fullmatch(part) for part in parts):
        raise QueryError("a metadata key is letters, digits, _ and -, dotted for nesting", position)
    return parts


def _meta(body: str, position: int) -> Term:
    if ":in(" in body:
        name, _, rest = body.partition(":in(")
        if not rest.endswith(")"):
            raise QueryError("write meta.KEY:in(a,b)", position)
        items = tuple(_unquote(item.strip(), position) for item in rest[:-1].split(","))
        if not all(items):
            raise QueryError("meta.KEY:in() needs values, separated by commas", position)
        if len(items) > MAX_IN_ITEMS:
            raise QueryError(f"at most {MAX_IN_ITEMS} values in in()", position)
        return MetaIn(_meta_path(name, position), items)
    split = _split_op(body)
    if split is None:
        raise QueryError("write meta.KEY=VALUE, meta.KEY>=NUMBER or meta.KEY:in(a,b)", position)
    name, op, raw = split
    path = _meta_path(name, position)
    if not raw:
        raise QueryError(f"meta.{name}{op} needs a value", position)
    text = _unquote(raw, position)
    number = None if raw.startswith('"') else _number(text)
    if op in ("=", "!="):
        if raw.startswith('"'):
            return MetaCompare(path, op, text)
        if text in ("true", "false"):
            return MetaCompare(path, op, text == "true")
        return MetaCompare(path, op, text) if number is None else MetaCompare(path, op, number, text)
    if number is None:
        raise QueryError(f"meta.{name}{op} compares numbers; {text!r} is not one", position)
    return MetaCompare(path, op, number)


def _term(token: str, position: int) -> Term:
    lowered = token.lower()
    if lowered in ("private", "public", "draft"):
        return Flag(lowered)  # type: ignore[arg-type]  # narrowed by the test above
    if token.startswith('"'):
        text = _unquote(token, position)
        if not text:
            raise QueryError("an empty quoted word", position)
        return Word(text.casefold())
    if lowered.startswith("meta."):
        return _meta(token[5:], position)
    if lowered.startswith("creator:"):
        name = _unquote(token[8:], position)
        if not name:
            raise QueryError("creator: needs a name", position)
        return Creator(name)
    if lowered.startswith("format:"):
        name = lowered[7:]
        name = _FORMAT_ALIASES.get(name, name)
        if name not in _FORMATS:
            raise QueryError(f"format: is one of {', '.join(sorted(_FORMATS))}", position)
        return Format(name)
    if lowered.startswith("uploaded"):
        split = _split_op(token[8:])
        if split is None or split[0]:
            raise QueryError("write uploaded>2026-01-01 (= < <= > >= !=)", position)
        _, op, value = split
        start, end = _date(value, position)
        return Uploaded(op, start, end)
    if ":" in token and _KEY.fullmatch(token.partition(":")[0]) and not token.endswith(":"):
        field = token.partition(":")[0]
        raise QueryError(f"unknown field {field}: (quote the word to search for it)", position)
    if '"' in token or "(" in token:
        raise QueryError("quote the whole word", position)
    return Word(token.casefold())


def parse_query(text: str) -> Query:
    """The typed query for the search box's text; QueryError for any malformed clause."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"a query is at most {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS)
    control = _CONTROL.search(text)
    if control is not None:
        raise QueryError("a query cannot hold control characters", control.start())
    clauses: list[Clause] = []
    for token, position in _tokens(text):
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated else token
        clauses.append(Clause(_term(body, position + negated), negated, position))
        if len(clauses) > MAX_CLAUSES:
            raise QueryError(f"at most {MAX_CLAUSES} clauses", position)
    return Query(tuple(clauses))


# -- compiling to SQL over the catalogue's `images` table (see store.py) --------------------


def _json_path(path: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{part}"' for part in path)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _term_sql(term: Term, fts: bool) -> tuple[str, list[object]]:
    if isinstance(term, Word):
        if fts and len(term.text) >= TRIGRAM:
            return "rowid IN (SELECT rowid FROM search WHERE search MATCH ?)", [_fts_phrase(term.text)]
        # instr, not LIKE: LIKE folds ASCII case only and the text is casefolded already.
        return "instr(search_text, ?) > 0", [term.text]
    if isinstance(term, Creator):
        return "creator = ?", [term.name]
    if isinstance(term, Flag):
        return {"private": "signed = 1", "public": "signed = 0", "draft": "draft = 1"}[term.name], []
    if isinstance(term, Format):
        return "format = ?", [term.name]
    if isinstance(term, Uploaded):
        if term.op == "=":
            return "(uploaded >= ? AND uploaded < ?)", [term.start_ms, term.end_ms]
        if term.op == "!=":
            return "(uploaded < ? OR uploaded >= ?)", [term.start_ms, term.end_ms]
        # A date is a day [start, end): after it is >= end, up to and including it is < end.
        sql, bound = {
            ">": ("uploaded >= ?", term.end_ms),
            ">=": ("uploaded >= ?", term.start_ms),
            "<": ("uploaded < ?", term.start_ms),
            "<=": ("uploaded < ?", term.end_ms),
        }[term.op]
        return sql, [bound]
    path = _json_path(term.path)
    if isinstance(term, MetaIn):
        numbers = [n for n in (_number(item) for item in term.items) if n is not None]
        values = [*term.items, *numbers]
        marks = ", ".join("?" * len(values))
        return (
            f"EXISTS (SELECT 1 FROM json_each(meta_json, ?) WHERE type IN ('text', 'integer', 'real')"
            f" AND value IN ({marks}))",
            [path, *values],
        )
    value = term.value
    if isinstance(value, bool):
        kind = "true" if value else "false"
        sql = f"json_type(meta_json, ?) IS '{kind}'"
        return (sql if term.op == "=" else f"NOT coalesce({sql}, 0)"), [path]
    text_sql = "(json_type(meta_json, ?) = 'text' AND json_extract(meta_json, ?) = ?)"
    params: list[object]
    if isinstance(value, str):
        sql, params = text_sql, [path, path, value]
    else:
        sql = "(json_type(meta_json, ?) IN ('integer', 'real') AND json_extract(meta_json, ?) {op} ?)"
        sql = sql.format(op="=" if term.op == "!=" else term.op)
        params = [path, path, value]
        if term.text is not None:
            sql, params = f"({sql} OR {text_sql})", [*params, path, path, term.text]
    if term.op == "!=":
        return f"NOT coalesce({sql}, 0)", params
    return sql, params


def fts_match(query: Query) -> str | None:
    """The query as one FTS5 MATCH expression when it is only words the trigram index answers
    (positive, >= 3 characters), else None. Counting such a query on the index alone stops
    at a cap; joined to the images table it first collects every match (measured at a
    million rows: 3-9 ms against 35-370 ms for a word matching 100k rows or more)."""
    if query.empty:
        return None
    phrases: list[str] = []
    for clause in query.clauses:
        term = clause.term
        if clause.negated or not isinstance(term, Word) or len(term.text) < TRIGRAM:
            return None
        phrases.append(_fts_phrase(term.text))
    return " AND ".join(phrases)


def compile_query(query: Query, *, fts: bool = True) -> tuple[str, list[object]]:
    """A WHERE expression and its parameters; `fts=False` when SQLite lacks the trigram
    tokenizer (every word becomes a scan)."""
    if query.empty:
        return "1", []
    parts: list[str] = []
    params: list[object] = []
    for clause in query.clauses:
        sql, values = _term_sql(clause.term, fts)
        parts.append(f"NOT coalesce({sql}, 0)" if clause.negated else sql)
        params.extend(values)
    return " AND ".join(parts), params
