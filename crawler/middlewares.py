"""Downloader middleware: our encoding decision, not Scrapy's, decodes every text response."""
from __future__ import annotations

from dataclasses import fields

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse

from pipelines.decoding.charset import decide_encoding


class EncodingDecisionMiddleware:
    """Decide each text response's encoding from its bytes (BOM, strict UTF-8, header, meta
    anywhere in the head, restricted chardet) and re-make the response with it, so XPaths on list
    pages see the same text the archive stores. The decision travels in `request.meta["decoding"]`.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingDecisionMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or request.meta.get("raw_only"):
            return response
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        # Provisional: the worker decodes the page strictly with it and decides again if that fails.
        decision = decide_encoding(response.body, content_type, provisional=True)
        # Its fields as they are (all flat): `as_dict` (dataclasses.asdict) deep-copies each value.
        request.meta["decoding"] = {f.name: getattr(decision, f.name) for f in fields(decision)}
        if self.stats:  # the extraction stage moves a page to the worker's rule when that differs
            self.stats.inc_value(f"encoding/rule/{decision.rule}")
        return response.replace(encoding=decision.encoding)
