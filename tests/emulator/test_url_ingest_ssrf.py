"""Upload by `url` cannot be aimed into the server's own network (finding 2, blind SSRF):
redirects are capped and followed by hand, every target and every address its name
resolves to is checked, and the request goes to the address that was checked."""

from __future__ import annotations

import ipaddress
import pathlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from imgtui.emulator import BackgroundEmulator, ServeSettings
from imgtui.service import ErrorCode, ImagesError
from imgtui.service.urls import FetchCodes, IPAddress, fetch_capped, is_public_address, resolve_host
from tests.rest_harness import ACCOUNT_ID

from .conftest import TOKEN, assert_error, assert_ok, make_png

CODES = FetchCodes(unreachable=ErrorCode.BAD_REQUEST, overloaded=ErrorCode.BAD_REQUEST, only_200=True)


# RFC 6266: filename*= (RFC 5987, UTF-8) wins; the plain one tries a path and an escape.
DISPOSITION = "attachment; filename=\"../../etc/evil\x1b.png\"; filename*=UTF-8''%E2%9C%93%20cat.png"


@dataclass
class Origin:
    """A little server on 127.0.0.1: `/pic.png`, `/hops/N` (N redirects to the picture),
    `/to/<url>` (one redirect there). It records every request's path and Host."""

    url: str
    seen: list[tuple[str, str]] = field(default_factory=list)


def _handler(origin: Origin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            origin.seen.append((self.path, self.headers.get("Host", "")))
            if self.path == "/hops/0":
                self._answer(200, make_png())
            elif self.path.startswith("/hops/"):
                self._answer(302, b"", location=f"/hops/{int(self.path.rsplit('/', 1)[1]) - 1}")
            elif self.path.startswith("/to/"):
                self._answer(307, b"", location=self.path[len("/to/") :])
            elif self.path == "/pic.png":
                self._answer(200, make_png())
            elif self.path == "/download?id=7":  # a file name only the answer's header gives
                self._answer(200, make_png(), disposition=DISPOSITION)
            else:
                self._answer(404, b"nope")

        def _answer(
            self, status: int, body: bytes, location: str | None = None, disposition: str | None = None
        ) -> None:
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            if disposition is not None:
                self.send_header("Content-Disposition", disposition)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def origin() -> Iterator[Origin]:
    holder = Origin(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    holder.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield holder
    finally:
        httpd.shutdown()
        httpd.server_close()


def _fake_dns(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[IPAddress]:
        if host in table:
            return [ipaddress.ip_address(address) for address in table[host]]
        return await resolve_host(host, port)  # IP literals and localhost: as the system says

    return resolve


async def _ingest(server: BackgroundEmulator, url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{server.api_url}/accounts/{ACCOUNT_ID}/images/v1",
            files={"url": (None, url)},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )


# -- a loopback-bound server: private targets allowed, redirects capped ----------------------


async def test_three_redirects_are_followed_and_a_fourth_is_refused(
    server: BackgroundEmulator, origin: Origin
) -> None:
    assert_ok(await _ingest(server, f"{origin.url}/hops/3"))
    before = len(origin.seen)
    message = assert_error(await _ingest(server, f"{origin.url}/hops/4"), 400, 5400)
    assert "redirected more than 3 times" in message
    assert len(origin.seen) - before == 4  # /hops/4 .. /hops/1; /hops/0 was never asked for


async def test_the_file_name_comes_from_content_disposition_first(
    server: BackgroundEmulator, origin: Origin
) -> None:
    named = assert_ok(await _ingest(server, f"{origin.url}/download?id=7"))
    assert named["filename"] == "\u2713 cat.png"
    plain = assert_ok(await _ingest(server, f"{origin.url}/pic.png"))
    assert plain["filename"] == "pic.png"  # no header: the path's last segment


async def test_a_redirect_to_another_scheme_is_refused(server: BackgroundEmulator, origin: Origin) -> None:
    message = assert_error(await _ingest(server, f"{origin.url}/to/file:///etc/passwd"), 400, 5400)
    assert "http or https" in message


# -- a server that must not fetch private addresses ------------------------------------------


@pytest.fixture
def guarded_server(tmp_path: pathlib.Path) -> Iterator[BackgroundEmulator]:
    """Loopback-bound for the test, but configured as a public server would be."""
    settings = ServeSettings(
        library=tmp_path / "lib",
        port=0,
        api_token=TOKEN,
        allow_private_urls=False,
        resolve=_fake_dns(
            {"intranet.example": ["10.1.2.3"], "mixed.example": ["93.184.216.34", "192.168.1.1"]}
        ),
    )
    with BackgroundEmulator(settings) as server:
        yield server


@pytest.mark.parametrize(
    "target",
    [
        "{origin}/pic.png",  # loopback literal
        "http://localhost:{port}/pic.png",  # a name that resolves to loopback
        "http://[::ffff:127.0.0.1]:{port}/pic.png",  # loopback wrapped in IPv6
        "http://intranet.example/pic.png",  # a name that resolves to 10/8
        "http://mixed.example/pic.png",  # one public answer, one private: refused
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://[fe80::1]/x.png",
        "http://0.0.0.0:{port}/pic.png",
        "http://224.0.0.1/x.png",
    ],
)
async def test_private_targets_are_refused_before_any_connection(
    guarded_server: BackgroundEmulator, origin: Origin, target: str
) -> None:
    url = target.format(origin=origin.url, port=origin.url.rsplit(":", 1)[1])
    message = assert_error(await _ingest(guarded_server, url), 400, 5400)
    assert "does not fetch" in message and "--allow-private-urls" in message
    assert origin.seen == []


def test_the_default_follows_the_bind_address(tmp_path: pathlib.Path) -> None:
    assert ServeSettings(host="127.0.0.1").private_urls_allowed
    assert ServeSettings(host="::1").private_urls_allowed
    assert not ServeSettings(host="0.0.0.0").private_urls_allowed
    assert not ServeSettings(host="192.0.2.7").private_urls_allowed
    assert ServeSettings(host="0.0.0.0", allow_private_urls=True).private_urls_allowed


def test_the_flag_reaches_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    from imgtui.emulator import cli

    seen: list[ServeSettings] = []

    async def fake_serve(settings: ServeSettings, on_ready: object) -> None:
        seen.append(settings)

    monkeypatch.setattr(cli, "serve_forever", fake_serve)
    args = ["--library", str(tmp_path / "lib"), "--api-token", "t", "--host", "0.0.0.0"]
    assert cli.main(args) == 0 and cli.main([*args, "--allow-private-urls"]) == 0
    assert [s.private_urls_allowed for s in seen] == [False, True]


# -- the fetcher itself: each redirect target checked, requests pinned -----------------------


def _only(address: str):
    return lambda candidate: candidate == ipaddress.ip_address(address)


async def test_every_redirect_target_is_checked_again(origin: Origin) -> None:
    """The first hop passes (127.0.0.1 is allowed here), its redirect to 127.0.0.2 must not."""
    async with httpx.AsyncClient() as client:
        with pytest.raises(ImagesError) as refused:
            await fetch_capped(
                client,
                f"{origin.url}/to/http://127.0.0.2:9/pic.png",
                cap=1 << 20,
                codes=CODES,
                describe=lambda failure, detail, error: f"{failure}:{detail}",
                max_redirects=3,
                allow_address=_only("127.0.0.1"),
            )
    assert refused.value.message == "blocked:127.0.0.2"
    assert [path for path, _ in origin.seen] == ["/to/http://127.0.0.2:9/pic.png"]


async def test_a_name_is_fetched_from_the_address_that_was_checked(origin: Origin) -> None:
    """A second DNS answer cannot swap the address: the request goes to the checked one,
    with the name kept in Host."""
    port = origin.url.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a rebinding resolver: second answer differs

    async def rebinding(host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(address) for address in next(answers)]

    async with httpx.AsyncClient() as client:
        fetched = await fetch_capped(
            client,
            f"http://images.example:{port}/pic.png",
            cap=1 << 20,
            codes=CODES,
            describe=lambda failure, detail, error: f"{failure}:{detail}",
            max_redirects=0,
            allow_address=_only("127.0.0.1"),
            resolve=rebinding,
        )
    assert fetched.data == make_png() and fetched.final_url == f"http://images.example:{port}/pic.png"
    assert origin.seen == [("/pic.png", f"images.example:{port}")]


async def test_every_address_of_a_name_is_checked(origin: Origin) -> None:
    async def two_answers(host: str, _port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("10.0.0.1")]

    async with httpx.AsyncClient() as client:
        with pytest.raises(ImagesError) as refused:
            await fetch_capped(
                client,
                f"http://images.example:{origin.url.rsplit(':', 1)[1]}/pic.png",
                cap=1 << 20,
                codes=CODES,
                describe=lambda failure, detail, error: f"{failure}:{detail}",
                allow_address=_only("127.0.0.1"),
                resolve=two_answers,
            )
    assert refused.value.message == "blocked:10.0.0.1" and origin.seen == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public
