"""Delivery and `/blob` answers tell browsers not to sniff, and an SVG opened as a page runs
no script (finding 2, last item)."""

from __future__ import annotations

import httpx

from .conftest import assert_ok, make_png

NOSNIFF = "nosniff"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
SCRIPTED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/client/v4/accounts/x/images/v1/keys')</script><rect width='10' height='10'/></svg>"
)


def _variant(url: str, variant: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + variant


async def test_every_image_answer_says_nosniff(api: httpx.AsyncClient, web: httpx.AsyncClient) -> None:
    record = assert_ok(await api.post("/v1", files={"file": ("a.png", make_png())}, data={"id": "png"}))
    url = record["variants"][0]
    answers = [
        await web.get(_variant(url, "public")),
        await web.get(_variant(url, "thumbnail")),
        await web.get(_variant(url, "w=10")),
        await web.head(_variant(url, "public")),
        await api.get("/v1/png/blob"),
        await web.get(_variant(url, "nonesuch")),  # an error answer too
    ]
    for answer in answers:
        assert answer.headers.get("x-content-type-options") == NOSNIFF, answer.request.url
    assert all("content-security-policy" not in answer.headers for answer in answers[:5])


async def test_svg_answers_carry_a_policy_that_runs_no_script(
    api: httpx.AsyncClient, web: httpx.AsyncClient
) -> None:
    record = assert_ok(
        await api.post("/v1", files={"file": ("s.svg", SCRIPTED_SVG, "image/svg+xml")}, data={"id": "svg"})
    )
    url = record["variants"][0]
    for answer in (
        await web.get(_variant(url, "public")),
        await web.get(_variant(url, "w=10")),
        await web.head(_variant(url, "thumbnail")),
        await api.get("/v1/svg/blob"),
    ):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.headers["content-security-policy"] == SVG_CSP
        assert answer.headers["x-content-type-options"] == NOSNIFF
    # Served as stored (the policy, not a rewrite, disarms it): blob stays byte-exact.
    assert (await api.get("/v1/svg/blob")).content == SCRIPTED_SVG
