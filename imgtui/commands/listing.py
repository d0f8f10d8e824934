"""`imgtui ls` and `imgtui info`: read the library, as JSON or as a table."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncGenerator

from imgtui.service import ErrorCode, ImageMetadata, Images, ImagesError
from imgtui.service.rules import MAX_LIST_LIMIT
from imgtui.workflows.catalogue_query import QueryError, matching_images, parse_query
from imgtui.workflows.output import (
    LIST_COLUMNS,
    column_widths,
    detail_lines,
    image_json,
    json_text,
    list_cells,
    table_line,
)

from .base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, opened_library, positive_int
from .console import Console

# Pages of 1000 (Cloudflare's default): few round trips, and the first line still comes at once.
LIST_PAGE = 1000


def configure_ls(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--query",
        metavar="Q",
        help=(
            "the TUI's search: words (id, filename, creator, metadata), creator:NAME, "
            "meta.KEY=VALUE, meta.KEY>=N, meta.KEY:in(a,b), private, public, draft, format:png, "
            "uploaded>2026-01-01; --query=-word excludes"
        ),
    )
    parser.add_argument("--creator", metavar="C", help="only images with this creator")
    parser.add_argument("--limit", metavar="N", type=positive_int, help="at most N images")
    parser.add_argument(
        "--order", choices=("asc", "desc"), default="asc", help="by upload time (default: asc)"
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="a JSON array of the binding's image objects")
    form.add_argument("--ndjson", action="store_true", help="one JSON image per line, streamed while paging")


async def iter_images(
    images: Images, *, order: str, creator: str | None, limit: int | None, query: str | None
) -> AsyncGenerator[ImageMetadata, None]:
    """The library's images, filtered by the query, stopping after `limit`."""
    matcher = parse_query(query or "")  # QueryError: checked by run_ls before any output
    # Without a query, --limit 5 asks for a page of 5, not 1000.
    page_size = LIST_PAGE if limit is None or not matcher.empty else min(LIST_PAGE, limit, MAX_LIST_LIMIT)
    left = limit
    found = matching_images(
        images, matcher, page_size=page_size, sort_order="desc" if order == "desc" else "asc", creator=creator
    )
    try:
        async for image in found:
            yield image
            if left is not None:
                left -= 1
                if left == 0:
                    return
    finally:
        await found.aclose()


async def run_ls(args: argparse.Namespace, console: Console) -> int:
    try:
        parse_query(args.query or "")
    except QueryError as error:
        console.note(f"imgtui ls: --query: {error}")
        return EXIT_USAGE
    async with (
        opened_library(args) as images,
        # Closed before the library is (a page may be in flight when stdout goes away).
        contextlib.aclosing(
            iter_images(images, order=args.order, creator=args.creator, limit=args.limit, query=args.query)
        ) as found,
    ):
        if args.ndjson:
            async for image in found:
                console.line(json_text(image_json(image)))
        elif args.json:
            # Streamed too: `[`, one object per line, `]`, so memory stays flat.
            first = True
            async for image in found:
                console.line(("[" if first else ",") + json_text(image_json(image)), flush=False)
                first = False
            console.line("[]" if first else "]")
        else:
            widths = column_widths(LIST_COLUMNS, console.width())
            console.line(table_line([column.title for column in LIST_COLUMNS], widths))
            count = 0
            async for image in found:
                console.line(table_line(list_cells(image), widths), flush=False)
                count += 1
                if count % LIST_PAGE == 0:
                    console.stdout.flush()
            console.stdout.flush()
    return EXIT_OK


def configure_info(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", metavar="ID", nargs="+", help="image ids")
    parser.add_argument("--json", action="store_true", help="the image object (an array for several ids)")


async def run_info(args: argparse.Namespace, console: Console) -> int:
    found: list[dict[str, object]] = []
    failed = False
    async with opened_library(args) as images:
        for n, image_id in enumerate(args.ids):
            try:
                record = await images.hosted.image(image_id).file_info()
            except ImagesError as error:
                console.error(error.code, error.message, image_id)
                failed = True
                continue
            if record is None:
                console.error(ErrorCode.NOT_FOUND, "Image not found", image_id)
                failed = True
                continue
            image, file_info = record
            console.tally["shown"] += 1
            if args.json:
                found.append(image_json(image))
                continue
            if n:
                console.line()
            for line in detail_lines(image, file_info):
                console.line(line)
    if args.json and (found or len(args.ids) > 1):
        console.line(json_text(found[0] if len(args.ids) == 1 else found, indent=2))
    return EXIT_FAILED if failed else EXIT_OK


COMMANDS = (
    Command("ls", "list images (a table, --json or --ndjson)", configure_ls, run_ls),
    Command("info", "show images' details", configure_info, run_info),
)
