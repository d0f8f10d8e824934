"""The binding's data types as pydantic models.

Python names are snake_case; `model_dump(by_alias=True)` (and `mode="json"`) gives the
binding's JSON shape (`requireSignedURLs`, `listComplete`, ISO `uploaded` with a `Z`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator


def format_uploaded(value: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a `Z`, as Cloudflare writes it."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ImageMetadata(BaseModel):
    """One hosted image's record: what `details()`, `upload()` and `update()` answer."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore", defer_build=True)

    id: str
    filename: str | None = None
    uploaded: datetime
    require_signed_urls: bool = Field(default=False, alias="requireSignedURLs")
    meta: dict[str, Any] | None = None
    variants: list[str] = Field(default_factory=list)
    draft: bool = False
    creator: str | None = None

    @field_validator("uploaded")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        # Naive datetimes are taken as UTC (Cloudflare always means UTC).
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_serializer("uploaded", when_used="json")
    def _serialize_uploaded(self, value: datetime) -> str:
        return format_uploaded(value)


class ImageList(BaseModel):
    """One page of `list()`: the images, and the cursor of the next page if there is one."""

    model_config = ConfigDict(populate_by_name=True, frozen=True, defer_build=True)

    images: list[ImageMetadata]
    cursor: str | None = None
    list_complete: bool = Field(alias="listComplete")


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What a backend knows of a stored file beyond the record (a local library knows it)."""

    content_type: str  # e.g. "image/png", sniffed at upload
    size: int  # bytes
    width: int | None  # None for SVG
    height: int | None


@dataclass(frozen=True, slots=True)
class Blob:
    """An image's whole original bytes and their content type."""

    data: bytes
    content_type: str
