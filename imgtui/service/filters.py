"""Metadata filters for the v2 list, as Cloudflare defines them
(https://developers.cloudflare.com/api/resources/images/subresources/v2/methods/list/):
`meta.<field>[<op>]=<value>`, op one of eq, in, gt, gte, lt, lte, optionally typed
(`eq:string`, `eq:number`, `eq:boolean`, `in:string`, `in:number`, `gt:number`, ...); nested
fields as dotted paths; at most 5 conditions, 5 levels and 10 `in` values; conditions AND.

A filter that cannot be honoured is an error (5400), never an unfiltered answer. The model
is plain data so the TUI (and a later query language) can build and show it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import ErrorCode, ImagesError

FilterOp = Literal["eq", "in", "gt", "gte", "lt", "lte"]
ValueType = Literal["string", "number", "boolean"]
Scalar = str | float | bool

MAX_CONDITIONS = 5
MAX_DEPTH = 5
MAX_IN_VALUES = 10
_OPS: tuple[FilterOp, ...] = ("eq", "in", "gt", "gte", "lt", "lte")
_TYPES_OF: dict[str, tuple[ValueType, ...]] = {
    "eq": ("string", "number", "boolean"),
    "in": ("string", "number"),
    "gt": ("number",),
    "gte": ("number",),
    "lt": ("number",),
    "lte": ("number",),
}
_FIELD = re.compile(r'^[^.\[\]"]+$')
_QUERY_KEY = re.compile(r"^meta\.([^\[\]]+)\[([a-z]+)(?::([a-z]+))?\]$")


def _bad(message: str) -> ImagesError:
    return ImagesError(ErrorCode.BAD_REQUEST, f"Invalid metadata filter: {message}")


@dataclass(frozen=True, slots=True)
class Condition:
    """One `meta.<path>[<op>]` condition. `values` holds one value (several for `in`);
    `value_type` None means untyped text from a query string, matched as Cloudflare infers."""

    path: tuple[str, ...]
    op: FilterOp
    values: tuple[Scalar, ...]
    value_type: ValueType | None

    @property
    def field(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class MetadataFilter:
    conditions: tuple[Condition, ...]

    @property
    def canonical(self) -> str:
        """A stable text of the filter (cursors are bound to it)."""
        return json.dumps(
            [[c.path, c.op, c.value_type, list(c.values)] for c in self.conditions], separators=(",", ":")
        )

    def query_params(self) -> list[tuple[str, str]]:
        """As Cloudflare's query parameters, typed so that the server compares like with like."""
        params = []
        for condition in self.conditions:
            kind = condition.value_type
            op = condition.op if kind is None else f"{condition.op}:{kind}"
            params.append((f"meta.{condition.field}[{op}]", "|".join(_text(v) for v in condition.values)))
        return params


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _path(field: object) -> tuple[str, ...]:
    if not isinstance(field, str) or not field:
        raise _bad("a field must be a non-empty name")
    parts = tuple(field.split("."))
    if not all(part and _FIELD.match(part) for part in parts):
        raise _bad(f"{field!r} is not a dotted field path")
    if len(parts) > MAX_DEPTH:
        raise _bad(f"{field!r} is nested more than {MAX_DEPTH} levels")
    return parts


def _typed(value: object) -> tuple[Scalar, ValueType]:
    if isinstance(value, bool):
        return value, "boolean"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _bad("numbers must be finite")
        return float(value), "number"
    if isinstance(value, str):
        if "|" in value:
            raise _bad("a value cannot contain '|' (it separates `in` values)")
        return value, "string"
    raise _bad(f"values must be strings, numbers or booleans, not {type(value).__name__}")


def _condition(path: tuple[str, ...], op: object, operand: object) -> Condition:
    if op not in _OPS:
        raise _bad(f"unknown operator {op!r} (use {', '.join(_OPS)})")
    assert isinstance(op, str)
    if op == "in":
        if not isinstance(operand, list | tuple) or not operand:
            raise _bad("`in` takes a non-empty list of values")
        if len(operand) > MAX_IN_VALUES:
            raise _bad(f"`in` takes at most {MAX_IN_VALUES} values")
        typed = [_typed(value) for value in operand]
    else:
        typed = [_typed(operand)]
    kinds = {kind for _, kind in typed}
    if len(kinds) != 1:
        raise _bad(f"the values of {'.'.join(path)}[{op}] mix types")
    kind = kinds.pop()
    if kind not in _TYPES_OF[op]:
        raise _bad(f"{op} compares {' or '.join(_TYPES_OF[op])} values, not {kind}")
    return Condition(path, op, tuple(value for value, _ in typed), kind)


def _limit(conditions: list[Condition]) -> MetadataFilter:
    if len(conditions) > MAX_CONDITIONS:
        raise _bad(f"at most {MAX_CONDITIONS} conditions")
    return MetadataFilter(tuple(conditions))


def check_metadata_filter(spec: object) -> MetadataFilter | None:
    """`{"status": {"eq": "active"}, "rating": {"gte": 4}, "a.b": {"in": ["x", "y"]}}`."""
    if spec is None:
        return None
    if isinstance(spec, MetadataFilter):
        return _limit(list(spec.conditions))
    if not isinstance(spec, Mapping):
        raise _bad("it must map field paths to {operator: value}")
    conditions = []
    for field, ops in spec.items():
        path = _path(field)
        if not isinstance(ops, Mapping) or not ops:
            raise _bad(f"{field!r} needs {{operator: value}}")
        conditions += [_condition(path, op, operand) for op, operand in ops.items()]
    return _limit(conditions) if conditions else None


def _query_value(text: str, kind: str | None) -> Scalar:
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            raise _bad(f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise _bad("numbers must be finite")
        return number
    if kind == "boolean":
        if text not in ("true", "false"):
            raise _bad(f"{text!r} is not true or false")
        return text == "true"
    return text


def parse_query_filter(items: list[tuple[str, str]]) -> MetadataFilter | None:
    """The `meta.<field>[<op>]` parameters of a query string (others are ignored)."""
    conditions = []
    for key, raw in items:
        if not key.startswith("meta."):
            continue
        match = _QUERY_KEY.match(key)
        if match is None:
            raise _bad(f"{key!r} is not meta.<field>[<operator>]")
        field, op, kind = match.groups()
        path = _path(field)
        if op not in _OPS:
            raise _bad(f"unknown operator {op!r}")
        if kind is not None and kind not in _TYPES_OF[op]:
            raise _bad(f"{op}:{kind} is not a supported operator")
        texts = raw.split("|") if op == "in" else [raw]
        if op == "in" and len(texts) > MAX_IN_VALUES:
            raise _bad(f"`in` takes at most {MAX_IN_VALUES} values")
        if kind is None and op in ("gt", "gte", "lt", "lte"):
            kind = "number"  # ordering compares numbers only
        values = tuple(_query_value(text, kind) for text in texts)
        conditions.append(Condition(path, op, values, kind))  # type: ignore[arg-type]
    return _limit(conditions) if conditions else None


def _lookup(meta: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    node = meta
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _equal(found: Any, wanted: Scalar, kind: ValueType | None) -> bool:
    if kind == "boolean" or (kind is None and isinstance(found, bool)):
        return isinstance(found, bool) and _text(found) == _text(wanted)
    if kind == "number" or (kind is None and isinstance(found, int | float)):
        if isinstance(found, bool) or not isinstance(found, int | float):
            return False
        try:
            return float(found) == float(wanted)
        except ValueError:
            return False
    return isinstance(found, str) and found == wanted


def matches(meta: Any, metadata_filter: MetadataFilter) -> bool:
    """Does an image's metadata satisfy every condition? (The reference semantics: the local
    library's SQL answers the same, tests compare the two.)"""
    for condition in metadata_filter.conditions:
        present, found = _lookup(meta, condition.path)
        if not present:
            return False
        if condition.op in ("eq", "in"):
            if not any(_equal(found, value, condition.value_type) for value in condition.values):
                return False
            continue
        if isinstance(found, bool) or not isinstance(found, int | float):
            return False
        bound = float(condition.values[0])
        ok = {"gt": found > bound, "gte": found >= bound, "lt": found < bound, "lte": found <= bound}
        if not ok[condition.op]:
            return False
    return True
