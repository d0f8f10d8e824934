"""`imgtui get` (download originals) and `imgtui sign` (a signed delivery URL)."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from imgtui.common.text import safe_text
from imgtui.service import ErrorCode, ImageMetadata, ImagesError
from imgtui.workflows.downloads import FileExists, plan_downloads, save_image

from .base import EXIT_FAILED, EXIT_OK, Command, UsageError, opened_library, parse_duration
from .console import Console


def configure_get(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", metavar="ID", nargs="+")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE|DIR",
        help="a file (one id) or a folder, made if it ends in / (default: here)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing files")


def _output_path(output: str | None) -> Path:
    return Path(output).expanduser() if output else Path.cwd()


async def run_get(args: argparse.Namespace, console: Console) -> int:
    failed = False
    async with opened_library(args) as images:
        targets: list[ImageMetadata] = []
        for image_id in args.ids:
            try:
                image = await images.hosted.image(image_id).details()
            except ImagesError as error:
                console.error(error.code, error.message, image_id)
                failed = True
                continue
            if image is None:
                console.error(ErrorCode.NOT_FOUND, "Image not found", image_id)
                failed = True
                continue
            targets.append(image)
        if not targets:
            return EXIT_FAILED
        output: str | None = args.output
        chosen = _output_path(output)
        as_folder = len(args.ids) > 1 or output is None or output.endswith(("/", os.sep))
        try:
            plan = await asyncio.to_thread(plan_downloads, targets, chosen, as_folder=as_folder)
        except (ValueError, OSError) as error:
            raise UsageError(str(error)) from None
        for n, (image, path) in enumerate(zip(targets, plan.paths, strict=True), start=1):
            console.progress(f"get {n}/{len(targets)} {safe_text(path.name)}")
            try:
                await save_image(images, image.id, path, overwrite=args.force)
            except ImagesError as error:
                console.error(error.code, error.message, image.id)
                failed = True
                continue
            except FileExists:
                console.error(ErrorCode.ALREADY_EXISTS, f"{path} exists (--force overwrites it)", image.id)
                failed = True
                continue
            except OSError as error:
                console.error(ErrorCode.STORAGE, f"cannot write {path}: {error.strerror or error}", image.id)
                failed = True
                continue
            console.tally["saved"] += 1
            console.line(safe_text(str(path)))
        console.end_progress()
    return EXIT_FAILED if failed else EXIT_OK


def configure_sign(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID")
    parser.add_argument("--variant", metavar="V", default="public", help="the variant (default: public)")
    parser.add_argument(
        "--expires",
        metavar="DURATION",
        type=parse_duration,
        help="lifetime: 3600, 90s, 15m, 2h, 7d (default: none)",
    )
    parser.add_argument(
        "--key",
        metavar="NAME",
        default=None,
        help="the signing key by name (default: the account's default key)",
    )


async def run_sign(args: argparse.Namespace, console: Console) -> int:
    async with opened_library(args) as images:
        try:
            url = await images.hosted.image(args.id).signed_url(args.variant, args.expires, key_name=args.key)
        except ImagesError as error:
            console.error(error.code, error.message, args.id)
            return EXIT_FAILED
    console.line(safe_text(url))
    return EXIT_OK


COMMANDS = (
    Command("get", "download original files", configure_get, run_get),
    Command("sign", "print a signed delivery URL", configure_sign, run_sign),
)
