"""A metadata filter as SQL over the `meta` JSON column (SQLite's JSON1 functions).

No index serves arbitrary JSON paths, so a filtered page is the keyset scan in sequence order
that stops at the page's last match: cost grows with how far apart matches are, not with the
library's size (benchmarks/bench_local.py measures 1% and 50% selective filters at 100k).
Semantics match `imgtui.service.filters.matches` (the tests compare the two).
"""

from __future__ import annotations

import math

from imgtui.service.filters import Condition, MetadataFilter, Scalar

_NUMBER = "json_type(meta, ?) IN ('integer', 'real')"


def _json_path(path: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{part}"' for part in path)  # field names hold no '"' (filters.py)


def _in(count: int) -> str:
    return "(" + ", ".join("?" * count) + ")"


def _as_number(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _condition_sql(condition: Condition) -> tuple[str, list[object]]:
    path = _json_path(condition.path)
    kind, values = condition.value_type, condition.values
    if condition.op in ("gt", "gte", "lt", "lte"):
        symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[condition.op]
        return f"({_NUMBER} AND json_extract(meta, ?) {symbol} ?)", [path, path, float(values[0])]
    alternatives: list[tuple[str, list[object]]] = []
    if kind in (None, "string"):
        texts = [str(value) for value in values]
        alternatives.append(
            (
                f"(json_type(meta, ?) = 'text' AND json_extract(meta, ?) IN {_in(len(texts))})",
                [path, path, *texts],
            )
        )
    if kind in (None, "number"):
        numbers = [number for number in map(_as_number, values) if number is not None]
        if numbers:
            alternatives.append(
                (f"({_NUMBER} AND json_extract(meta, ?) IN {_in(len(numbers))})", [path, path, *numbers])
            )
    if kind in (None, "boolean"):
        bools = sorted(
            {
                "true" if value is True or value == "true" else "false"
                for value in values
                if value in (True, False, "true", "false")
            }
        )
        if bools:
            alternatives.append((f"json_type(meta, ?) IN {_in(len(bools))}", [path, *bools]))
    if not alternatives:
        return "0", []
    return "(" + " OR ".join(sql for sql, _ in alternatives) + ")", [
        p for _, params in alternatives for p in params
    ]


def filter_sql(metadata_filter: MetadataFilter) -> tuple[str, list[object]]:
    """` AND ...` conditions and their parameters."""
    sql, params = "", []
    for condition in metadata_filter.conditions:
        part, part_params = _condition_sql(condition)
        sql += " AND " + part
        params += part_params
    return sql, params
