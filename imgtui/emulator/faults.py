"""`--faults`: make the API misbehave the way real networks and overloaded servers do.

A share (`rate`) of API requests gets one fault, chosen at random:

- `429`: "slow down" with `Retry-After`, before the request is handled;
- `500`: an error envelope, before the request is handled;
- `503`: a plain-text answer from an "overloaded proxy", before the request is handled;
- `drop-before`: the connection closes without an answer; nothing was done;
- `drop-after`: the request IS handled (an upload is stored), then the connection closes
  without an answer: the case where only a duplicate-safe client stays correct;
- `latency`: the request is handled after a delay.

Spec: `0.2` or `rate=0.2,latency=50ms,retry_after=1,seed=1,kinds=429+drop-after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .responses import INTERNAL_ERROR, RATE_LIMITED, fail

KINDS = ("429", "500", "503", "drop-before", "drop-after", "latency")


class ConnectionDropped(Exception):
    """Raised to the ASGI server after a deliberate drop, so it closes the connection."""


class _QuietDrops(logging.Filter):
    """Keep deliberate drops out of uvicorn's error log (they are not bugs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_quiet_filter_installed = False


def quiet_dropped_connections() -> None:
    global _quiet_filter_installed
    if not _quiet_filter_installed:
        logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
        _quiet_filter_installed = True


def _seconds(text: str) -> float:
    text = text.strip().lower()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    return float(text)


class _FaultFields(TypedDict, total=False):
    """What a `--faults` spec set; the rest keep FaultSpec's defaults."""

    rate: float
    latency: float
    retry_after: int
    seed: int
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FaultSpec:
    rate: float
    latency: float = 0.1  # seconds added by a `latency` fault
    retry_after: int = 1  # seconds announced by a 429
    seed: int | None = None
    kinds: tuple[str, ...] = KINDS

    def describe(self) -> str:
        """For the banner: what a user asked for, in words (not a dataclass repr)."""
        return (
            f"{self.rate:.0%} of API requests: {', '.join(self.kinds)}"
            f" (latency {self.latency * 1000:.0f} ms, Retry-After {self.retry_after} s)"
        )

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        if self.latency < 0 or self.retry_after < 0:
            raise ValueError("latency and retry_after must not be negative")
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be among {', '.join(KINDS)}")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse `0.2` or `rate=0.2,latency=50ms,retry_after=0,seed=1,kinds=429+503`."""
        text = text.strip()
        try:
            if "=" not in text:
                return cls(rate=float(text))
            fields: _FaultFields = {}
            for item in text.split(","):
                name, _, value = item.partition("=")
                name = name.strip().replace("-", "_")
                if name == "rate":
                    fields["rate"] = float(value)
                elif name == "latency":
                    fields["latency"] = _seconds(value)
                elif name == "retry_after":
                    fields["retry_after"] = int(_seconds(value))
                elif name == "seed":
                    fields["seed"] = int(value)
                elif name == "kinds":
                    fields["kinds"] = tuple(kind.strip() for kind in value.split("+") if kind.strip())
                else:
                    raise ValueError(f"unknown fault setting {name!r}")
            if "rate" not in fields:
                raise ValueError("the fault spec needs a rate")
            return cls(**fields)
        except ValueError as exc:
            raise ValueError(f"invalid --faults {text!r}: {exc}") from None


class FaultInjector:
    """ASGI middleware: applies a FaultSpec to the requests `applies(scope)` selects."""

    def __init__(self, app: ASGIApp, spec: FaultSpec, applies: Callable[[Scope], bool]) -> None:
        self.app = app
        self.spec = spec
        self.applies = applies
        self.rng = random.Random(spec.seed)
        self.counts: Counter[str] = Counter()  # faults injected so far, per kind
        self.requests = 0  # API requests seen, faulty or not
        self._scripted: deque[str | None] = deque()
        quiet_dropped_connections()

    def script(self, *kinds: str | None) -> None:
        """Force the next API requests' fate, in order (None: no fault), then back to random.

        Tests use it to stage exact sequences, such as "drop the answer, then behave".
        """
        unknown = {kind for kind in kinds if kind is not None} - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self._scripted.extend(kinds)  # deque appends are thread-safe: tests call this from their own thread

    def _pick(self) -> str | None:
        if self._scripted:
            return self._scripted.popleft()
        if self.rng.random() >= self.spec.rate:
            return None
        return self.rng.choice(self.spec.kinds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        self.requests += 1
        kind = self._pick()
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.counts[kind] += 1
        if kind == "latency":
            await asyncio.sleep(self.spec.latency)
            await self.app(scope, receive, send)
        elif kind == "429":
            retry_after = {"retry-after": str(self.spec.retry_after)}
            message = "Please wait and consider throttling your request speed"
            await fail(RATE_LIMITED, message, status=429, headers=retry_after)(scope, receive, send)
        elif kind == "500":
            await fail(INTERNAL_ERROR, "Internal server error", status=500)(scope, receive, send)
        elif kind == "503":
            await PlainTextResponse("503 Service Temporarily Unavailable", 503)(scope, receive, send)
        elif kind == "drop-before":
            await _drop(send)
        else:  # drop-after: the handler runs to the end, its answer is lost
            await self.app(scope, receive, _swallow)
            await _drop(send)


async def _swallow(message: Message) -> None:
    return None


async def _drop(send: Send) -> None:
    """Close the connection without a single byte of answer.

    ASGI has no "abort" message, but every server closes the connection when the app fails
    after starting its response. A header name HTTP forbids makes the server refuse the start
    message before writing anything (h11 and httptools both do), so the client sees the
    connection close with no answer at all, as when a proxy or the network drops it.
    """
    with contextlib.suppress(Exception):
        await send({"type": "http.response.start", "status": 500, "headers": [(b"bad header", b"x")]})
    raise ConnectionDropped("fault injected: connection dropped")
