"""The query language: what each clause means, a message for every malformed one, caps."""

from __future__ import annotations

import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imgtui.catalogue import MAX_QUERY_CHARS, QueryError, compile_query, parse_query
from imgtui.catalogue.query import Creator, Flag, Format, MetaCompare, MetaIn, Uploaded, Word, fts_match
from imgtui.catalogue.store import connect


def terms(text: str) -> list[object]:
    return [clause.term for clause in parse_query(text).clauses]


def test_words_and_clauses() -> None:
    assert terms('Hero "Two Words" ab') == [Word("hero"), Word("two words"), Word("ab")]
    assert terms("creator:alice format:JPG private public draft") == [
        Creator("alice"),
        Format("jpeg"),
        Flag("private"),
        Flag("public"),
        Flag("draft"),
    ]
    assert terms("meta.status=active meta.rating>=4 meta.a.b!=true meta.tags:in(a, b)") == [
        MetaCompare(("status",), "=", "active"),
        MetaCompare(("rating",), ">=", 4.0),
        MetaCompare(("a", "b"), "!=", True),
        MetaIn(("tags",), ("a", "b")),
    ]
    assert terms('meta.code="4"') == [MetaCompare(("code",), "=", "4")]
    (uploaded,) = terms("uploaded>2026-01-01")
    assert isinstance(uploaded, Uploaded) and uploaded.end_ms - uploaded.start_ms == 86_400_000


def test_negation_and_positions() -> None:
    query = parse_query("  -draft -hero x")
    assert [(c.negated, c.position) for c in query.clauses] == [(True, 2), (True, 9), (False, 15)]
    assert parse_query("-").clauses[0].term == Word("-")  # a lone dash is a word


def test_server_side_clauses() -> None:
    query = parse_query("creator:a -creator:b meta.s=x meta.r>=1 meta.t:in(a) hero")
    assert [c.term for c in query.server_side()] == [
        Creator("a"),
        MetaCompare(("s",), "=", "x"),
        MetaIn(("t",), ("a",)),
    ]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ('"unclosed', 0),
        ("a meta.tags:in(a,b", 2),
        ("meta.rating>=high", 0),
        ("meta.=x", 0),
        ("meta.a b", 0),
        ("meta.x=", 0),
        ("meta.bad$key=1", 0),
        ("meta.t:in()", 0),
        ("meta.t:in(a", 0),
        ("creator:", 0),
        ("format:exe", 0),
        ("uploaded>yesterday", 0),
        ("uploaded~2026", 0),
        ("  size:big", 2),
        ('a"b', 0),
        ('""', 0),
        ("-format:zip", 1),
    ],
)
def test_malformed_clauses_say_where(text: str, position: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert caught.value.message


def test_huge_paste_refused_quickly() -> None:
    pasted = "a" * (10 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(QueryError, match="at most"):
        parse_query(pasted)
    assert time.perf_counter() - started < 0.05
    parse_query("a" * MAX_QUERY_CHARS)  # the cap itself is fine
    with pytest.raises(QueryError, match="clauses"):
        parse_query("a " * 65)


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list('ab:."()-=<>!, meta.creator:format:uploaded2026-01-01in(é\x00')),
        max_size=60,
    )
)
def test_any_text_parses_or_says_why_and_compiles(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError as error:
        assert 0 <= error.position <= len(text)
        return
    conn, fts = connect(":memory:")
    where, params = compile_query(query, fts=fts)
    conn.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()
    where, params = compile_query(query, fts=False)
    conn.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()
    match = fts_match(query)
    if match is not None and fts:  # any typed text is a valid MATCH expression, as a parameter
        conn.execute("SELECT count(*) FROM search WHERE search MATCH ?", [match]).fetchone()


def test_only_positive_long_words_count_on_the_index_alone() -> None:
    assert fts_match(parse_query('hero "banner one"')) == '"hero" AND "banner one"'
    assert fts_match(parse_query("it's")) == '"it\'s"'  # a phrase: FTS5 syntax stays literal
    for text in ("", "hero ab", "hero -banner", "hero creator:bob", "hero private", "meta.a=1"):
        assert fts_match(parse_query(text)) is None, text


def test_compiled_words_are_parameters_not_sql() -> None:
    where, params = compile_query(parse_query('"\'; DROP TABLE images; --"'))
    assert "DROP" not in where and any("drop" in str(p) for p in params)
    conn, _ = connect(":memory:")
    assert conn.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone() == (0,)
    assert sqlite3.sqlite_version


def test_an_unquoted_number_also_equals_its_text() -> None:
    """`meta.year=2024` finds {"year": "2024"} as well as {"year": 2024} (Cloudflare's
    untyped filter does), and its negation is the exact complement; `meta.zip=02134` finds
    the text "02134"; a quoted value stays text only."""
    import sqlite3

    from imgtui.catalogue.query import compile_query
    from imgtui.catalogue.store import connect, record, upsert
    from imgtui.service.models import ImageMetadata

    conn, _ = connect(":memory:")
    metas = {"s": {"year": "2024", "zip": "02134"}, "n": {"year": 2024, "zip": 2134}, "o": {"year": 1999}}
    upsert(
        conn,
        [record(ImageMetadata(id=k, uploaded="2026-01-01T00:00:00Z", meta=m)) for k, m in metas.items()],
        1,
    )

    def found(text: str) -> set[str]:
        sql, params = compile_query(parse_query(text))
        return {row[0] for row in conn.execute(f"SELECT id FROM images WHERE {sql}", params)}

    assert found("meta.year=2024") == {"s", "n"}
    assert found("meta.year!=2024") == found("-meta.year=2024") == {"o"}
    assert found("meta.zip=02134") == {"s", "n"}
    assert found('meta.year="2024"') == {"s"}
    assert found("meta.year>=2000") == {"n"}  # order compares numbers only
    assert isinstance(conn, sqlite3.Connection)


def test_dates_are_local_days_as_the_list_shows_them(monkeypatch) -> None:
    """The list shows upload times in local time, so `uploaded=2026-01-01` is that local day;
    a date past the calendar is a message, not an OverflowError."""
    import time
    from datetime import datetime

    from imgtui.catalogue.query import Uploaded

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        (clause,) = parse_query("uploaded=2026-01-01").clauses
        assert isinstance(clause.term, Uploaded)
        start = datetime.fromtimestamp(clause.term.start_ms / 1000).astimezone()
        assert (start.year, start.month, start.day, start.hour) == (2026, 1, 1, 0)
        assert clause.term.end_ms - clause.term.start_ms == 86_400_000
        assert start.utcoffset() is not None and start.utcoffset().total_seconds() == -5 * 3600
        (utc,) = parse_query("uploaded>=2026-01-01T00:00:00Z").clauses
        assert isinstance(utc.term, Uploaded) and utc.term.start_ms == 1_767_225_600_000
    finally:
        monkeypatch.undo()
        time.tzset()
    for text in ("uploaded>9999-12-31", "uploaded<0000-01-01", "uploaded=2026-13-01"):
        with pytest.raises(QueryError, match="is not a date"):
            parse_query(text)
