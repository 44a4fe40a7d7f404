"""What the spider hands to the pipelines: one fetched page, raw, with where it came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PageCapture:
    url: str
    site: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    column: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    # Filled in by the pipelines, stage by stage.
    decoding: dict[str, Any] | None = None
    html: str | None = None
    document: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value
        return None
