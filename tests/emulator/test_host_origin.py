"""A web page cannot use `imgtui serve` through the user's browser (finding 2): DNS
rebinding (`Host` is the attacker's name) is refused for every route, and so are
state-changing requests whose `Origin` or `Sec-Fetch-Site` says another site sent them."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator, ServeSettings
from imgtui.emulator.guard import HostPolicy
from tests.rest_harness import ACCOUNT_ID, start_emulator

from .conftest import assert_error, assert_ok, make_png

EVIL = "evil.example"


@pytest.fixture
def open_server(tmp_path: pathlib.Path) -> Iterator[BackgroundEmulator]:
    """No API token: the setup DNS rebinding attacks (loopback, "nobody else can reach it")."""
    emulator = start_emulator(tmp_path / "lib", api_token=None)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
async def client(open_server: BackgroundEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=open_server.base_url, timeout=10) as http:
        yield http


def _api(path: str = "") -> str:
    return f"/client/v4/accounts/{ACCOUNT_ID}/images/v1{path}"


async def _stored_image(client: httpx.AsyncClient) -> dict:
    return assert_ok(await client.post(_api(), files={"file": ("a.png", make_png())}, data={"id": "victim"}))


async def test_dns_rebinding_is_refused_on_every_route(client: httpx.AsyncClient) -> None:
    image = await _stored_image(client)
    delivery = httpx.URL(image["variants"][0]).raw_path.decode()
    rebound = {"Host": EVIL}
    for method, path in [
        ("GET", _api("/keys")),
        ("GET", _api()),
        ("GET", _api("/victim")),
        ("GET", _api("/victim/blob")),
        ("DELETE", _api("/victim")),
        ("GET", delivery),
        ("HEAD", delivery),
        ("GET", "/client/v4/nonesuch"),
    ]:
        answer = await client.request(method, path, headers=rebound)
        assert answer.status_code == 421, (method, path)
        if method != "HEAD":
            assert "Host" in assert_error(answer, 421, 7003)
    assert_ok(await client.get(_api("/victim")))  # the DELETE did nothing
    for host in (f"{EVIL}:80", "127.0.0.1.evil.example", "localhost.evil.example", "", "a b", "x@127.0.0.1"):
        assert (await client.get(_api("/keys"), headers={"Host": host})).status_code in (400, 421), host


async def test_the_names_of_this_machine_are_answered(
    client: httpx.AsyncClient, open_server: BackgroundEmulator
) -> None:
    port = httpx.URL(open_server.base_url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "LOCALHOST.", "127.0.0.2", "[::1]:9"):
        assert_ok(await client.get(_api("/keys"), headers={"Host": host}))


async def test_the_public_url_host_is_answered(tmp_path: pathlib.Path) -> None:
    settings = ServeSettings(
        library=tmp_path / "lib", port=0, api_token=None, public_url="https://images.example.test:8443"
    )
    with BackgroundEmulator(settings) as server:
        async with httpx.AsyncClient(base_url=server.listen_url, timeout=10) as http:
            assert_ok(await http.get(_api(), headers={"Host": "images.example.test:8443"}))
            assert_error(await http.get(_api(), headers={"Host": EVIL}), 421, 7003)
            # the public origin may write; another one may not
            public = {"Host": "images.example.test:8443", "Origin": "https://images.example.test:8443"}
            assert_ok(await http.post(_api(), files={"file": ("a.png", make_png())}, headers=public))
            other = {**public, "Origin": "https://evil.example"}
            assert_error(
                await http.post(_api(), files={"file": ("a.png", make_png())}, headers=other), 403, 5403
            )


def test_a_wildcard_bind_answers_addresses_but_not_foreign_names() -> None:
    policy = HostPolicy.for_server("0.0.0.0", "http://127.0.0.1:8787", None)
    assert policy.allows_host("192.0.2.10:8787") and policy.allows_host("[2001:db8::1]:8787")
    assert not policy.allows_host("evil.example:8787")
    bound = HostPolicy.for_server("192.0.2.10", "http://192.0.2.10:8787", None)
    assert bound.allows_host("192.0.2.10:8787") and not bound.allows_host("192.0.2.11")


CROSS_SITE_HEADERS = [
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another port of localhost: not this server
    {"Origin": "null"},  # a sandboxed frame or a file: page
    {"Origin": "http://127.0.0.1:1"},  # this machine, another server
]


@pytest.mark.parametrize(
    "headers", CROSS_SITE_HEADERS, ids=lambda h: "+".join(f"{k}={v}" for k, v in h.items())
)
async def test_cross_site_writes_are_refused(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await _stored_image(client)
    # the form a page can POST without a preflight: multipart/form-data
    form = await client.post(_api(), files={"file": ("a.png", make_png())}, headers=headers)
    assert "Cross-site" in assert_error(form, 403, 5403)
    assert_error(await client.delete(_api("/victim"), headers=headers), 403, 5403)
    assert_error(await client.patch(_api("/victim"), json={"creator": "x"}, headers=headers), 403, 5403)
    listed = assert_ok(await client.get(_api()))
    assert [image["id"] for image in listed["images"]] == ["victim"]  # nothing stored, nothing deleted
    assert "creator" not in assert_ok(await client.get(_api("/victim")))


async def test_same_origin_and_non_browser_writes_go_through(
    client: httpx.AsyncClient, open_server: BackgroundEmulator
) -> None:
    own = open_server.base_url
    for index, headers in enumerate(
        [
            {},  # no Origin: a non-browser client
            {"Origin": own, "Sec-Fetch-Site": "same-origin"},
            {"Sec-Fetch-Site": "none"},  # typed into the address bar
            {"Origin": own},
        ]
    ):
        assert_ok(
            await client.post(
                _api(), files={"file": ("a.png", make_png())}, data={"id": f"i{index}"}, headers=headers
            )
        )
    # reads from a page are the browser's same-origin policy's business, not refused here
    assert_ok(
        await client.get(_api(), headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    )
