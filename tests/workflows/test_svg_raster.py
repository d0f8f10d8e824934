"""SVG rasterising: hostile files are refused or defused before resvg sees them, the render
fits the box, and a slow or dead renderer costs one thumbnail, never the app."""

from __future__ import annotations

import asyncio
import base64
import io
import time

import pytest
from PIL import Image

from imgtui.workflows import svg_sanitise
from imgtui.workflows.image_decode import Unpreviewable, decode_thumbnail
from imgtui.workflows.svg_raster import RenderProcess, SvgRefused, rasterise
from imgtui.workflows.svg_sanitise import sanitise, target_size
from tests.service.imagedata import crafted_png

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
RED_SQUARE = f'<svg {NS} width="10" height="10"><rect width="10" height="10" fill="#f00"/></svg>'.encode()


def svg(body: str, attrs: str = 'width="10" height="10"') -> bytes:
    return f"<svg {NS} {attrs}>{body}</svg>".encode()


def png_file(color: tuple[int, int, int], size: tuple[int, int] = (10, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def opaque_pixels(image: Image.Image) -> int:
    return image.width * image.height - image.getchannel("A").histogram()[0]


def test_a_plain_svg_is_rendered_at_the_box_keeping_its_aspect():
    image = rasterise(svg('<rect width="20" height="10" fill="#f00"/>', 'width="20" height="10"'), (64, 64))
    assert image.size == (64, 32)  # scaled up to the box: a vector has no native pixels
    assert image.mode == "RGBA" and image.getpixel((32, 16)) == (255, 0, 0, 255)


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [((10, 10), (64, 32), (32, 32)), ((1, 1000), (64, 64), (1, 64)), ((50, 20), (9999, 9999), (4096, 1638))],
)
def test_the_target_size_never_exceeds_the_box_or_the_output_cap(size, box, expected):
    assert target_size(size, box) == expected


def test_scripts_and_event_handlers_are_removed():
    hostile = svg('<script>alert(1)</script><rect onload="alert(2)" width="10" height="10"/>')
    clean = sanitise(hostile)
    assert "script" not in clean.text and "alert" not in clean.text
    assert clean.dropped == 2
    assert opaque_pixels(rasterise(hostile, (10, 10))) == 100  # the rest still draws


def test_external_and_file_references_are_dropped_before_rendering(tmp_path):
    secret_png = tmp_path / "secret.png"
    secret_png.write_bytes(png_file((0, 255, 0)))
    hostile = svg(
        f'<image href="{secret_png.as_uri()}" width="10" height="10"/>'
        f'<image xlink:href="{secret_png}" width="10" height="10"/>'
        '<image href="http://example.invalid/tracker.png" width="10" height="10"/>'
        '<use href="file:///etc/passwd#x"/>'
        '<rect width="10" height="10" fill="url(http://example.invalid/p.svg#g)"/>'
    )
    clean = sanitise(hostile)
    for leaked in ("secret.png", "example.invalid", "passwd"):
        assert leaked not in clean.text
    image = rasterise(hostile, (10, 10))
    assert image.getchannel("G").getextrema()[1] < 255  # the green file was never drawn


def test_animation_cannot_bring_an_href_back():
    hostile = svg('<image width="10" height="10"><set attributeName="href" to="/etc/passwd"/></image>')
    assert "passwd" not in sanitise(hostile).text


def test_style_imports_and_foreign_urls_are_removed():
    hostile = svg(
        "<style>@import url(http://example.invalid/a.css); rect { fill: url(file:///x#p) }"
        " circle { fill: url(#ok) }</style>",
    )
    text = sanitise(hostile).text
    assert "@import" not in text and "example.invalid" not in text and "file:" not in text
    assert "url(#ok)" in text  # same-document references are how gradients work


def test_a_small_embedded_raster_is_kept_and_a_pixel_bomb_header_is_dropped():
    small = base64.b64encode(png_file((0, 0, 255))).decode()
    bomb = base64.b64encode(crafted_png(100_000, 100_000)).decode()
    kept = sanitise(svg(f'<image href="data:image/png;base64,{small}" width="10" height="10"/>'))
    dropped = sanitise(svg(f'<image href="data:image/png;base64,{bomb}" width="10" height="10"/>'))
    assert "data:image/png" in kept.text and dropped.dropped == 1 and "data:" not in dropped.text


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
        b'<!DOCTYPE svg [ <!ATTLIST svg a CDATA "b"> ]><svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
    ids=["entity-bomb", "external-entity", "internal-subset"],
)
def test_entities_and_internal_dtds_are_refused(document):
    with pytest.raises(SvgRefused) as refused:
        sanitise(document)
    assert refused.value.problem == "SVG refused"


@pytest.mark.parametrize(
    "attrs",
    ['width="100000" height="100000"', 'viewBox="0 0 100000 100000"', 'width="11000" height="11000"'],
)
def test_huge_canvases_are_refused_before_rendering(attrs):
    started = time.perf_counter()
    with pytest.raises(Unpreviewable) as refused:
        decode_thumbnail(svg("<rect/>", attrs), (64, 64))
    assert refused.value.problem == "too large" and "over the limits" in refused.value.message
    assert time.perf_counter() - started < 0.5


def test_huge_input_is_refused_without_parsing():
    padding = b"<!--" + b"x" * svg_sanitise.MAX_SVG_BYTES + b"-->"
    for refuse in (sanitise, lambda data: rasterise(data, (8, 8))):
        with pytest.raises(SvgRefused, match="MiB") as refused:
            refuse(padding + RED_SQUARE)
        assert refused.value.problem == "too large"


def test_a_refusal_in_the_child_comes_back_with_its_words():
    with pytest.raises(SvgRefused) as refused:
        rasterise(svg("<g>" * 300 + "</g>" * 300), (8, 8))  # parsed in the render child
    assert refused.value.problem == "too complex" and "nested" in refused.value.message


def test_deep_nesting_and_too_many_elements_are_refused(monkeypatch):
    deep = svg("<g>" * (svg_sanitise.MAX_DEPTH + 1) + "</g>" * (svg_sanitise.MAX_DEPTH + 1))
    with pytest.raises(SvgRefused, match="nested"):
        sanitise(deep)
    monkeypatch.setattr(svg_sanitise, "MAX_ELEMENTS", 50)
    with pytest.raises(SvgRefused, match="too many"):
        sanitise(svg("<rect/>" * 60))


def test_a_use_bomb_is_refused():
    levels = ['<g id="l0"><rect width="1" height="1"/></g>']
    for level in range(1, 8):  # 10^7 nodes once expanded
        uses = "".join(f'<use href="#l{level - 1}"/>' for _ in range(10))
        levels.append(f'<g id="l{level}">{uses}</g>')
    with pytest.raises(SvgRefused, match="expand") as refused:
        sanitise(svg("<defs>" + "".join(levels) + '</defs><use href="#l7"/>'))
    assert refused.value.problem == "too complex"


def test_a_use_cycle_is_refused():
    with pytest.raises(SvgRefused, match="expand"):
        sanitise(svg('<g id="a"><use href="#b"/></g><g id="b"><use xlink:href="#a"/></g>'))


@pytest.mark.parametrize(
    ("document", "problem"),
    [(b"<svg xmlns='http://www.w3.org/2000/svg'><rect", "corrupt"), (b"<html><svg/></html>", "corrupt")],
)
def test_broken_or_foreign_xml_is_a_clean_refusal(document, problem):
    with pytest.raises(SvgRefused) as refused:
        sanitise(document)
    assert refused.value.problem == problem


def heavy_svg(circles: int = 4000) -> bytes:
    shapes = "".join(
        f'<circle cx="{i % 80 * 12}" cy="{i // 80 * 12}" r="{6 + i % 5}" fill="#0{i % 10}f" opacity=".5"/>'
        for i in range(circles)
    )
    filtered = f'<filter id="b"><feGaussianBlur stdDeviation="4"/></filter><g filter="url(#b)">{shapes}</g>'
    return svg(filtered, 'width="960" height="960"')


def test_a_render_past_the_deadline_is_killed_and_the_next_one_works():
    renderer = RenderProcess(deadline=10)
    try:
        rasterise(RED_SQUARE, (8, 8), renderer=renderer)  # started (the child's start-up)
        renderer.deadline = 0.05
        with pytest.raises(SvgRefused, match="too long") as refused:
            rasterise(heavy_svg(), (960, 960), renderer=renderer)
        assert refused.value.problem == "too complex"
        renderer.deadline = 10
        assert rasterise(RED_SQUARE, (8, 8), renderer=renderer).size == (8, 8)
    finally:
        renderer.close()


def test_a_dead_renderer_is_restarted():
    renderer = RenderProcess()
    try:
        rasterise(RED_SQUARE, (8, 8), renderer=renderer)
        assert renderer._process is not None
        renderer._process.kill()
        renderer._process.wait()
        assert rasterise(RED_SQUARE, (8, 8), renderer=renderer).getpixel((4, 4)) == (255, 0, 0, 255)
    finally:
        renderer.close()


async def test_rendering_does_not_hold_up_the_event_loop():
    """resvg-py keeps the GIL while it renders: in a thread it would freeze the loop."""
    rasterise(RED_SQUARE, (8, 8))  # the shared child is up
    gaps: list[float] = []
    done = False

    async def tick() -> None:
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    await asyncio.to_thread(rasterise, heavy_svg(2500), (960, 960))
    took = time.perf_counter() - started
    done = True
    await ticker
    # Holding the GIL, the longest gap would be the whole render; the machine may be busy, so
    # the bound is relative.
    assert took > 0.1, took  # the render did real work meanwhile
    assert max(gaps) < took / 2, (max(gaps), took)


@pytest.mark.parametrize("view_box", ["1000 25", "3 1000", "333 334", "1 12000"])
@pytest.mark.parametrize("box", [(256, 256), (17, 5), (1, 1), (640, 480), (9000, 20)])
def test_the_render_fits_the_box_whatever_the_aspect(view_box, box):
    document = svg('<rect width="100%" height="100%"/>', f'viewBox="0 0 {view_box}"')
    image = rasterise(document, box)
    expected = target_size(sanitise(document).size, box)
    assert image.width <= box[0] and image.height <= box[1]
    assert abs(image.width - expected[0]) <= 1 and abs(image.height - expected[1]) <= 1


def test_another_imgtui_in_the_working_directory_is_not_the_one_the_renderer_runs(tmp_path, monkeypatch):
    impostor = tmp_path / "imgtui"
    (impostor / "workflows").mkdir(parents=True)
    (impostor / "__init__.py").write_text("raise SystemExit('the wrong imgtui')\n")
    (impostor / "workflows" / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    renderer = RenderProcess()
    try:
        assert rasterise(RED_SQUARE, (8, 8), renderer=renderer).size == (8, 8)
    finally:
        renderer.close()


def test_the_sanitisers_limits_match_the_service_rules():
    from imgtui.service import rules

    assert (svg_sanitise.MAX_SIDE_PX, svg_sanitise.MAX_AREA_PX) == (rules.MAX_SIDE_PX, rules.MAX_AREA_PX)
    assert svg_sanitise.MAX_UPLOAD_BYTES == rules.MAX_UPLOAD_BYTES


def test_an_image_fragment_href_is_dropped_since_resvg_opens_it_as_a_file():
    # resvg reads <image href="#pic.png"> as the file "#pic.png" in the working directory.
    hostile = svg('<image href="#pic.png" width="10" height="10"/><use href="#g"/>')
    clean = sanitise(hostile)
    assert "#pic.png" not in clean.text and clean.dropped == 1
    assert 'href="#g"' in clean.text  # a <use> of the document's own element stays


def test_abort_ends_a_render_in_flight_at_once():
    """Quitting in the middle of a slow SVG: the render ends now, not at its 8 s deadline."""
    import threading

    from imgtui.workflows import svg_raster

    slow = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><filter id="f">'
        b'<feTurbulence baseFrequency="0.05" numOctaves="100000"/></filter>'
        b'<rect width="100" height="100" filter="url(#f)"/></svg>'
    )
    outcome: list[BaseException | Image.Image] = []

    def render() -> None:
        try:
            outcome.append(rasterise(slow, (256, 256)))
        except SvgRefused as refused:
            outcome.append(refused)

    worker = threading.Thread(target=render)
    worker.start()
    time.sleep(0.5)  # the child is busy with it
    began = time.monotonic()
    svg_raster.abort()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - began < 3
    assert isinstance(outcome[0], SvgRefused)
    assert opaque_pixels(rasterise(svg('<rect width="10" height="10"/>'), (10, 10))) == 100  # a new child
