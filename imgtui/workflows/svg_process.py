"""The child process that rasterises SVG with resvg (https://github.com/linebender/resvg):
`python -m imgtui.workflows.svg_process`, requests on stdin, answers on stdout.

A process, not a thread: the resvg-py binding holds the GIL while it renders, so a complex
drawing in a thread would freeze the TUI's event loop for as long as it takes. In a process
it can also be given a deadline (the parent kills it) and a memory ceiling (RLIMIT_AS), and a
crash in native code costs one thumbnail, not the app. A plain subprocess rather than
multiprocessing's spawn, which re-runs the parent's main script in the child.

The child also parses and sanitises the file (svg_sanitise.py): that is pure Python, and in
the app's process it would hold the GIL for up to ~0.2 s on a large drawing.

Frames (big-endian lengths): request = u32 header length, JSON header {box: [w, h],
font_files, font_family}, u32 SVG length, the SVG's bytes as stored; answer = one status
byte and a u32-sized payload: b"+" a PNG, b"!" a refusal ("<problem>\n<message>"), b"-" a
failure's short text. No pickle: the answer comes from a process that has just parsed hostile
input, and the parent checks what it gets.
"""

from __future__ import annotations

import contextlib
import json
import struct
import sys
from typing import IO, Any

# The child's address-space ceiling: a 4096 x 4096 canvas is 64 MiB; the rest is resvg's tree.
CHILD_MEMORY_BYTES = 1536 * 2**20
MAX_FRAME_BYTES = 64 * 2**20
_LENGTH = struct.Struct(">I")


def read_exactly(stream: IO[bytes], count: int) -> bytes:
    chunks: list[bytes] = []
    while count:
        chunk = stream.read(count)
        if not chunk:
            raise EOFError("the other end closed")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_sized(stream: IO[bytes]) -> bytes:
    (size,) = _LENGTH.unpack(read_exactly(stream, _LENGTH.size))
    if size > MAX_FRAME_BYTES:
        raise EOFError("frame too large")
    return read_exactly(stream, size)


def sized(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def _limit_memory() -> None:
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource  # POSIX only; macOS ignores RLIMIT_AS, Windows has no module

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        ceiling = CHILD_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(hard, CHILD_MEMORY_BYTES)
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


def render_png(header: dict[str, Any], data: bytes) -> bytes:
    """One render: the stored SVG in, PNG bytes out, the file sanitised first (SvgRefused);
    no system fonts, no resources directory."""
    import resvg_py

    from .svg_sanitise import render_size, sanitise

    box = (int(header["box"][0]), int(header["box"][1]))
    clean = sanitise(data)
    width, height = render_size(clean.size, box)
    fonts: list[str] = [str(path) for path in header.get("font_files") or []]
    family = header.get("font_family")
    family = str(family) if family else None
    return bytes(
        resvg_py.svg_to_bytes(
            svg_string=clean.text,
            width=None if width is None else int(width),
            height=None if height is None else int(height),
            # Scanning every installed font costs 20 ms to half a second per call: one font
            # file, found once by the parent, renders the text of a thumbnail.
            skip_system_fonts=True,
            font_files=fonts or None,
            font_family=family,
            sans_serif_family=family,
            serif_family=family,
            monospace_family=family,
        )
    )


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer render requests until the parent closes stdin."""
    from .svg_sanitise import SvgRefused

    _limit_memory()
    while True:
        try:
            header = json.loads(read_sized(requests))
            data = read_sized(requests)
        except (EOFError, OSError, ValueError):
            return
        try:
            answer = b"+" + sized(render_png(header, data))
        except SvgRefused as refused:
            answer = b"!" + sized(f"{refused.problem}\n{refused.message}".encode())
        except MemoryError:
            answer = b"-" + sized(b"out of memory")
        except Exception as exc:  # resvg's ValueError, a panic surfaced as an exception
            answer = b"-" + sized(type(exc).__name__.encode("ascii", "replace")[:80])
        answers.write(answer)
        answers.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
