"""`CloudflareBackend`: the service contract over Cloudflare's Images REST API (httpx).

One `httpx.AsyncClient`, created on first use and closed by `aclose()`. Requests are repeated
only when repeating cannot do harm (see `_Repeat`); everything that goes wrong ends as an
`ImagesError` whose text never contains the API token.

Nothing a server does can hold a call or fill memory: each call, retries included, ends by its
deadline (deadline.py), and every body is read with a cap on its decompressed size (body.py).
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import functools
import os
import random
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from imgtui.service.backend import DirectUpload, DirectUploadRequest, UpdateRequest, UploadRequest
from imgtui.service.config import ACCOUNT_ENV, TOKEN_ENV
from imgtui.service.errors import ErrorCode, ImagesError
from imgtui.service.filters import MetadataFilter
from imgtui.service.models import FileInfo, ImageList, ImageMetadata
from imgtui.service.rules import MAX_LIST_LIMIT, SortOrder, metadata_json
from imgtui.service.signing import sign_url

from .account import CloudflareAccount
from .auth import BearerToken
from .body import ACCEPT_ENCODING, MAX_BLOB_BYTES, decoded_chunks, json_cap, read_capped
from .deadline import DEADLINE_ENV, Deadline, resolve_deadline
from .envelope import error_code, host_and_port, parse_image, result_of, unexpected
from .paging import MIN_PAGE_SIZE, SmallPages
from .retry import RETRY_STATUSES, RetryPolicy, retry_after_seconds

CLOUDFLARE_HOST = "api.cloudflare.com"

_Chunks = AsyncIterator[bytes]  # named here: inside the class, `bytes` is the method

# The request provably never reached the server: always safe to repeat.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

MAYBE_STORED_HINT = (
    "the upload may or may not have been stored. List your images before uploading it again "
    "(an upload with a custom id is safe to repeat)"
)


class _Repeat(enum.Enum):
    """Which failed attempts a request may repeat."""

    # GET, PATCH with the same body, DELETE: repeating cannot change the outcome.
    IDEMPOTENT = "idempotent"
    # An upload without an id creates a new image each time it lands: repeat only attempts the
    # server provably did not process (connection never made, or 429 "slow down").
    UNPROCESSED_ONLY = "unprocessed-only"


@dataclass(slots=True)
class _Outcome:
    response: httpx.Response
    # An earlier attempt may have been processed by the server although we got no answer
    # (dropped connection, read timeout, 5xx): a 404 or 5409 now may be our own doing.
    maybe_processed_before: bool


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _record_fields(request: UploadRequest | DirectUploadRequest) -> dict[str, str]:
    """The optional form fields an upload and a direct-upload request share."""
    fields: dict[str, str] = {}
    if request.id is not None:
        fields["id"] = request.id
    if request.metadata is not None:
        fields["metadata"] = metadata_json(request.metadata)
    if request.creator is not None:
        fields["creator"] = request.creator
    return fields


def _transport_failure(exc: httpx.HTTPError, host: str) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"{host} did not answer in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {host} ({exc or 'connection failed'})"
    if not isinstance(exc, httpx.TransportError):  # e.g. a body that does not decompress
        return f"the answer from {host} could not be read ({type(exc).__name__}: {exc or 'no detail'})"
    return f"the connection to {host} broke ({type(exc).__name__}: {exc or 'no answer'})"


class CloudflareBackend:
    """Cloudflare Images for one account. Build it with `from_credentials` (or `Images.cloudflare`)."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        base_url: str = f"https://{CLOUDFLARE_HOST}/client/v4",
        max_retries: int = 3,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        max_retry_after: float = 30.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        write_timeout: float = 60.0,
        deadline: float | None = None,
        signing_key_name: str = "default",
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: dict[str, list[Any]] | None = None,
        random_seed: int | None = None,
    ) -> None:
        if not isinstance(account_id, str) or not account_id.strip() or "/" in account_id:
            raise ImagesError(ErrorCode.AUTHENTICATION, "The Cloudflare account id is empty or malformed")
        self._account_id = account_id.strip()
        self._auth = BearerToken(api_token)
        try:
            self._base_url = httpx.URL(base_url.rstrip("/"))
        except (httpx.InvalidURL, TypeError) as exc:
            raise ImagesError(ErrorCode.BAD_REQUEST, f"Invalid API base URL: {exc}") from None
        if self._base_url.scheme not in ("http", "https") or not self._base_url.host:
            raise ImagesError(ErrorCode.BAD_REQUEST, "The API base URL must be an http(s) URL")
        self._retry = RetryPolicy(max_retries, backoff_base, backoff_cap, max_retry_after)
        self._timeout = httpx.Timeout(
            read_timeout, connect=connect_timeout, write=write_timeout, pool=connect_timeout
        )
        # Seconds one call may take in all (None: $IMGTUI_CLOUDFLARE_DEADLINE, else 120).
        self._deadline = resolve_deadline(deadline)
        self._signing_key_name = signing_key_name
        self._transport = transport
        self._event_hooks = event_hooks
        self._rng = random.Random(random_seed)
        self._client: httpx.AsyncClient | None = None
        self._signing_key: str | None = None
        self._small_pages = SmallPages()
        self._images_path = f"/accounts/{quote(self._account_id, safe='')}/images"

    @classmethod
    def from_credentials(
        cls, account_id: str | None = None, api_token: str | None = None, **options: Any
    ) -> CloudflareBackend:
        """Credentials from the arguments, else from CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN."""
        account_id = account_id or os.environ.get(ACCOUNT_ENV) or None
        api_token = api_token or os.environ.get(TOKEN_ENV) or None
        if not account_id or not api_token:
            missing = [
                name for name, value in ((ACCOUNT_ENV, account_id), (TOKEN_ENV, api_token)) if not value
            ]
            raise ImagesError(
                ErrorCode.AUTHENTICATION,
                f"Missing Cloudflare credentials: set {' and '.join(missing)} (or pass them explicitly)",
            )
        return cls(account_id, api_token, **options)

    # -- presentation: never a credential -------------------------------------------------

    @property
    def label(self) -> str:
        account = self._account_id[:8] + ("…" if len(self._account_id) > 8 else "")
        label = f"Cloudflare account {account}"
        if self._base_url.host != CLOUDFLARE_HOST:
            port = f":{self._base_url.port}" if self._base_url.port else ""
            label += f" at {self._base_url.host}{port}"
        return label

    @property
    def cache_key(self) -> str:
        # The whole account id (the label cuts it to 8) and the whole API URL: the same
        # account behind another host or path (a proxy, imgtui serve) is another cache.
        # No userinfo: a key is a file name's source, and a URL's user:password is a secret.
        url = self._base_url
        port = f":{url.port}" if url.port else ""
        return f"cloudflare {self._account_id} {url.scheme}://{url.host}{port}{url.path}"

    def __repr__(self) -> str:
        return f"CloudflareBackend({self.label!r})"

    @property
    def account(self) -> CloudflareAccount:
        return CloudflareAccount(self)

    @property
    def images_path(self) -> str:
        """`/accounts/<id>/images`, relative to the base URL."""
        return self._images_path

    def new_deadline(self) -> Deadline:
        return Deadline.start(self._deadline)

    async def request(self, method: str, path: str, *, deadline: Deadline, **kwargs: Any) -> _Outcome:
        """One idempotent call with this backend's retries, deadline and caps (for account.py)."""
        return await self._request(method, path, deadline=deadline, **kwargs)

    __str__ = __repr__

    # -- HTTP plumbing ---------------------------------------------------------------------

    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # Loading the CA bundle reads files (~20 ms): off the event loop.
            verify = await asyncio.to_thread(_tls_context) if self._base_url.scheme == "https" else False
            self._client = httpx.AsyncClient(
                base_url=self._base_url,
                # Plain http (a local `imgtui serve`) needs no TLS; loading the CA bundle costs
                # ~30 ms, so https clients share one context per process.
                verify=verify,
                auth=self._auth,
                timeout=self._timeout,
                transport=self._transport,
                event_hooks=self._event_hooks,
                # Only what body.py can inflate with a cap; httpx would add br/zstd if installed.
                headers={
                    "User-Agent": "imgtui",
                    "Accept": "application/json",
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
                follow_redirects=False,
            )
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        deadline: Deadline,
        repeat: _Repeat = _Repeat.IDEMPOTENT,
        stream: bool = False,
        cap: int | None = None,
        **kwargs: Any,
    ) -> _Outcome:
        """Send with retries, all within `deadline`; the final response is returned whatever its
        status, read in full (at most `cap` decoded bytes) unless `stream` and it succeeded."""
        timer = asyncio.timeout_at(deadline.at)
        try:
            async with timer:
                return await self._attempts(method, path, deadline, repeat, stream, cap or json_cap(), kwargs)
        except TimeoutError:
            if not timer.expired():
                raise
            raise self._deadline_error(deadline, repeat) from None

    async def _attempts(
        self,
        method: str,
        path: str,
        deadline: Deadline,
        repeat: _Repeat,
        stream: bool,
        cap: int,
        kwargs: dict[str, Any],
    ) -> _Outcome:
        client = await self._http()
        maybe_processed = False
        attempt = 0
        while True:
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            try:
                request = client.build_request(method, path, **kwargs)
                response = await client.send(request, stream=True)
                if not (stream and response.is_success):
                    response = await read_capped(response, cap)
            except httpx.TransportError as exc:
                failure, response = exc, None
            except httpx.InvalidURL as exc:
                raise ImagesError(ErrorCode.BAD_REQUEST, f"Invalid request URL: {exc}") from None
            except httpx.HTTPError as exc:  # not a transport failure: repeating would not help
                raise ImagesError(
                    ErrorCode.NETWORK, _transport_failure(exc, host_and_port(self._base_url))
                ) from None

            if response is not None and response.status_code not in RETRY_STATUSES:
                return _Outcome(response, maybe_processed)

            unprocessed = isinstance(failure, _NOT_SENT) or (
                response is not None and response.status_code == 429
            )
            may_repeat = repeat is _Repeat.IDEMPOTENT or unprocessed
            if attempt < self._retry.max_retries and may_repeat:
                left = deadline.remaining()
                after = None if response is None else retry_after_seconds(response)
                if response is not None and after is not None and after > left:
                    # Waiting as asked cannot end in time: say so now rather than sleep.
                    raise self._wait_refused(response, after, left, deadline)
                delay = self._retry.delay(attempt, response, self._rng)
                if delay < left:  # else a retry could not finish in time: stop here
                    if not unprocessed:
                        maybe_processed = True
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
            # No (further) repeat: the last answer, or the last failure, is the outcome.
            if response is not None:
                return _Outcome(response, maybe_processed)
            assert failure is not None
            raise self._network_error(failure, maybe_processed, repeat, tries=attempt + 1) from None

    def _network_error(
        self, failure: httpx.TransportError, maybe_processed: bool, repeat: _Repeat, *, tries: int
    ) -> ImagesError:
        reason = _transport_failure(failure, host_and_port(self._base_url))
        if repeat is _Repeat.UNPROCESSED_ONLY and not isinstance(failure, _NOT_SENT):
            return ImagesError(ErrorCode.NETWORK, f"{reason}; {MAYBE_STORED_HINT}")
        return ImagesError(
            ErrorCode.NETWORK, f"{reason} (tried {'once' if tries == 1 else f'{tries} times'})"
        )

    def _deadline_error(self, deadline: Deadline, repeat: _Repeat) -> ImagesError:
        reason = (
            f"{host_and_port(self._base_url)} did not answer in time: the call took longer than its "
            f"deadline of {deadline.seconds:g} s, retries included (set {DEADLINE_ENV} to allow more)"
        )
        if repeat is _Repeat.UNPROCESSED_ONLY:
            reason += f"; {MAYBE_STORED_HINT}"
        return ImagesError(ErrorCode.NETWORK, reason)

    def _wait_refused(
        self, response: httpx.Response, after: float, left: float, deadline: Deadline
    ) -> ImagesError:
        # The answer's own code (971 for Cloudflare's rate limit) when it has one.
        code = error_code(response) or ErrorCode.NETWORK
        return ImagesError(
            code,
            f"HTTP {response.status_code} from {host_and_port(self._base_url)}: the server asks to "
            f"wait {after:.0f} s before trying again, more than the {max(left, 0):.1f} s left of this "
            f"call's {deadline.seconds:g} s deadline; try again later",
        )

    def _image_path(self, image_id: str, suffix: str = "") -> str:
        # Custom ids contain '/', so the id is one fully encoded path segment; "." and ".."
        # are encoded too, or URL normalisation would walk up the path.
        segment = quote(image_id, safe="")
        if segment in (".", ".."):
            segment = segment.replace(".", "%2E")
        return f"{self._images_path}/v1/{segment}{suffix}"

    # -- the contract ------------------------------------------------------------------------

    async def upload(self, request: UploadRequest) -> ImageMetadata:
        form = {
            "requireSignedURLs": "true" if request.require_signed_urls else "false",
            **_record_fields(request),
        }
        files = {"file": (request.filename or "image", request.data, request.content_type)}
        # With a custom id a repeat cannot duplicate: the second landing answers 5409.
        repeat = _Repeat.IDEMPOTENT if request.id is not None else _Repeat.UNPROCESSED_ONLY
        deadline = Deadline.start(self._deadline)
        outcome = await self._request(
            "POST", f"{self._images_path}/v1", deadline=deadline, data=form, files=files, repeat=repeat
        )
        response = outcome.response
        if response.is_success:
            return parse_image(response, result_of(response))
        code = error_code(response)
        if code == ErrorCode.ALREADY_EXISTS and outcome.maybe_processed_before and request.id is not None:
            landed = await self._details(request.id, deadline)
            if landed is not None and await self._is_our_upload(landed, request, deadline):
                return landed
        try:
            result_of(response)
        except ImagesError as exc:
            if request.id is None and response.status_code >= 500:
                raise ImagesError(exc.code, f"{exc.message}; {MAYBE_STORED_HINT}") from None
            raise
        raise unexpected(response, "an error status with a successful envelope")

    async def _is_our_upload(self, landed: ImageMetadata, request: UploadRequest, deadline: Deadline) -> bool:
        """Is the image holding our custom id the upload we sent (or indistinguishable from it)?

        Only asked after an attempt whose answer was lost, so the extra reads are rare.
        """
        if (
            landed.filename != request.filename
            or (landed.meta or None) != (request.metadata or None)
            or landed.creator != request.creator
            or landed.require_signed_urls != request.require_signed_urls
        ):
            return False
        stream = await self._bytes(landed.id, deadline)
        if stream is None:
            return False
        return b"".join([chunk async for chunk in stream]) == request.data

    async def list(
        self,
        *,
        limit: int,
        cursor: str | None,
        sort_order: SortOrder,
        creator: str | None,
        metadata_filter: MetadataFilter | None = None,
    ) -> ImageList:
        filter_params = [] if metadata_filter is None else metadata_filter.query_params()
        if limit >= MIN_PAGE_SIZE and not self._small_pages.owns(cursor):
            return await self._list_page(limit, cursor, sort_order, creator, filter_params)
        # Below Cloudflare's minimum page size: read a full page and hand out part of it; the
        # cursor stands for where in that page to go on (see paging.py).
        scope = creator if metadata_filter is None else f"{creator!r}\x1f{metadata_filter.canonical}"
        start = self._small_pages.start(cursor, sort_order, scope)
        size = min(max(MIN_PAGE_SIZE, len(start.handed_out) + limit), MAX_LIST_LIMIT)
        page = await self._list_page(size, start.token, sort_order, creator, filter_params)
        return self._small_pages.cut(page, start, limit)

    async def _list_page(
        self,
        limit: int,
        cursor: str | None,
        sort_order: SortOrder,
        creator: str | None,
        filter_params: builtins.list[tuple[str, str]],
    ) -> ImageList:
        params: builtins.list[tuple[str, str | int]] = [("per_page", limit), ("sort_order", sort_order)]
        if cursor is not None:
            params.append(("continuation_token", cursor))
        if creator is not None:
            params.append(("creator", creator))
        params += filter_params
        outcome = await self._request(
            "GET",
            f"{self._images_path}/v2",
            deadline=Deadline.start(self._deadline),
            cap=json_cap(limit),
            params=params,
        )
        response = outcome.response
        result = result_of(response)
        if not isinstance(result, dict) or not isinstance(result.get("images", []), list):
            raise unexpected(response, "the list has no images array")
        images = [parse_image(response, record) for record in result.get("images") or []]
        token = result.get("continuation_token") or None
        if token is not None and not isinstance(token, str):
            raise unexpected(response, "the continuation token is not a string")
        return ImageList(images=images, cursor=token, list_complete=token is None)

    async def create_direct_upload(self, request: DirectUploadRequest) -> DirectUpload:
        form: dict[str, str] = {
            "requireSignedURLs": "true" if request.require_signed_urls else "false",
            "expiry": request.expiry.isoformat(timespec="seconds").replace("+00:00", "Z"),
            **_record_fields(request),
        }
        # Multipart, as Cloudflare's reference sends it; a repeat can only make another draft.
        repeat = _Repeat.IDEMPOTENT if request.id is not None else _Repeat.UNPROCESSED_ONLY
        outcome = await self._request(
            "POST",
            f"{self._images_path}/v2/direct_upload",
            deadline=Deadline.start(self._deadline),
            files={name: (None, value) for name, value in form.items()},
            repeat=repeat,
        )
        result = result_of(outcome.response)
        if (
            not isinstance(result, dict)
            or not isinstance(result.get("id"), str)
            or not isinstance(result.get("uploadURL"), str)
        ):
            raise unexpected(outcome.response, "the direct upload answer has no id and uploadURL")
        return DirectUpload(result["id"], result["uploadURL"])

    async def details(self, image_id: str) -> ImageMetadata | None:
        return await self._details(image_id, Deadline.start(self._deadline))

    async def _details(self, image_id: str, deadline: Deadline) -> ImageMetadata | None:
        response = (await self._request("GET", self._image_path(image_id), deadline=deadline)).response
        if _is_not_found(response):
            return None
        return parse_image(response, result_of(response))

    async def file_info(self, image_id: str) -> tuple[ImageMetadata, FileInfo | None] | None:
        """The API's image record says nothing of the stored file: (details, None)."""
        record = await self.details(image_id)
        return None if record is None else (record, None)

    async def bytes(self, image_id: str) -> AsyncIterator[bytes] | None:
        """The stored file, streamed; reading it counts against the call's deadline too."""
        return await self._bytes(image_id, Deadline.start(self._deadline))

    async def _bytes(self, image_id: str, deadline: Deadline) -> _Chunks | None:
        outcome = await self._request(
            "GET",
            self._image_path(image_id, "/blob"),
            deadline=deadline,
            stream=True,
            headers={"Accept": "image/*"},
        )
        response = outcome.response
        if not response.is_success:  # already read in full by _request
            if _is_not_found(response):
                return None
            result_of(response)  # raises the envelope's error
            raise unexpected(response, "an error status with a successful envelope")
        return _stream_body(response, host_and_port(self._base_url), deadline)

    async def update(self, image_id: str, request: UpdateRequest) -> ImageMetadata:
        body: dict[str, Any] = {}
        if request.require_signed_urls is not None:
            body["requireSignedURLs"] = request.require_signed_urls
        if request.metadata is not None:
            body["metadata"] = request.metadata
        if request.creator is not None:
            body["creator"] = request.creator
        deadline = Deadline.start(self._deadline)
        response = (
            await self._request("PATCH", self._image_path(image_id), deadline=deadline, json=body)
        ).response
        return parse_image(response, result_of(response))

    async def delete(self, image_id: str) -> bool:
        outcome = await self._request(
            "DELETE", self._image_path(image_id), deadline=Deadline.start(self._deadline)
        )
        if _is_not_found(outcome.response):
            # After an attempt that may have landed, "not found" means that attempt deleted it.
            return outcome.maybe_processed_before
        result_of(outcome.response)
        return True

    async def signed_url(self, image_id: str, variant: str, expires_in: int | None) -> str:
        deadline = Deadline.start(self._deadline)
        key = await self._account_signing_key(deadline)
        record = await self._details(image_id, deadline)
        if record is None:
            raise ImagesError(ErrorCode.NOT_FOUND, "Image not found")
        url = variant_url(record, variant)
        expires_at = None if expires_in is None else int(time.time()) + expires_in
        return sign_url(url, key, expires_at=expires_at)

    async def _account_signing_key(self, deadline: Deadline) -> str:
        if self._signing_key is None:
            path = f"{self._images_path}/v1/keys"
            response = (await self._request("GET", path, deadline=deadline)).response
            result = result_of(response)
            keys = result.get("keys") if isinstance(result, dict) else None
            if not isinstance(keys, list):
                raise unexpected(response, "the signing keys answer has no keys array")
            for key in keys:
                if isinstance(key, dict) and key.get("name") == self._signing_key_name:
                    value = key.get("value")
                    if isinstance(value, str) and value:
                        self._signing_key = value
                        break
            else:
                raise ImagesError(
                    ErrorCode.NOT_FOUND,
                    f"The account has no image signing key named {self._signing_key_name!r}",
                )
        return self._signing_key


def variant_url(record: ImageMetadata, variant: str) -> str:
    """The delivery URL of `variant` for this image.

    A variant the record does not list (an account variant added later, or a flexible one
    like `w=400`) shares the listed variants' path up to the last segment.
    """
    for url in record.variants:
        if url.rsplit("/", 1)[-1] == variant:
            return url
    if record.variants:
        return record.variants[0].rsplit("/", 1)[0] + "/" + variant
    raise ImagesError(ErrorCode.NOT_FOUND, "This image has no delivery URL to sign")


def _is_not_found(response: httpx.Response) -> bool:
    # Only Cloudflare's own "not found" counts: an HTML 404 means a wrong base URL, not a
    # missing image, and must not be mistaken for "no such image".
    return response.status_code == 404 and error_code(response) == ErrorCode.NOT_FOUND


async def _stream_body(response: httpx.Response, host: str, deadline: Deadline) -> AsyncIterator[bytes]:
    # Each wait for the next piece ends at the call's deadline: the timeout must not span a
    # `yield`, or it would fire in the consumer's code.
    pieces = decoded_chunks(response, MAX_BLOB_BYTES)
    try:
        while True:
            timer = asyncio.timeout_at(deadline.at)
            try:
                async with timer:
                    piece = await anext(pieces)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if not timer.expired():
                    raise
                raise ImagesError(
                    ErrorCode.NETWORK,
                    f"{host} did not send the whole image in time: the call took longer than its "
                    f"deadline of {deadline.seconds:g} s (set {DEADLINE_ENV} to allow more)",
                ) from None
            yield piece
    except httpx.HTTPError as exc:
        raise ImagesError(ErrorCode.NETWORK, _transport_failure(exc, host)) from None
    except httpx.StreamError as exc:  # the stream was closed or read twice
        raise ImagesError(ErrorCode.NETWORK, f"the image stream from {host} ended early ({exc})") from None
    finally:
        await pieces.aclose()
        await response.aclose()


__all__ = ["CloudflareBackend", "variant_url"]
