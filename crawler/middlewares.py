"""Downloader middlewares: our encoding decision, not Scrapy's, decodes every text response; Scrapy's
meta-refresh redirects without decoding every page to look for one."""
from __future__ import annotations

import codecs
from dataclasses import fields

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse, Response, TextResponse

from pipelines.decoding.charset import decide_encoding

# Codecs in which an ASCII character of the text is always that one byte of the body, so an ASCII
# string is in the decoded page only if its bytes are in the body (a GBK or Big5 trail byte may look
# like ASCII: that only makes a byte test say "maybe", and the text decides).
_ASCII_SAFE = {"utf_8", "utf_8_sig", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950",
               "iso8859_1", "cp1252", "ascii", "euc_jp", "euc_kr"}
# Byte order marks that make Scrapy decode a body as UTF-16 or UTF-32 whatever its encoding says
# (the UTF-32-LE mark begins with the UTF-16-LE one).
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
# Scrapy looks for a refresh in the first 4096 characters of the text: in an ASCII-safe codec a
# character is at most 4 bytes (an undecodable byte, replaced, is one), plus a UTF-8 BOM.
_REFRESH_SCAN = 4 * 4096 + 3


def ascii_safe(encoding: str) -> bool:
    """Whether an ASCII string is in text decoded with `encoding` only if its bytes are in the body
    (see `_ASCII_SAFE`); False for an unknown codec."""
    try:
        return codecs.lookup(encoding).name.replace("-", "_") in _ASCII_SAFE
    except LookupError:
        return False


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


class MetaRefreshMiddleware(ScrapyMetaRefresh):
    """Scrapy's MetaRefreshMiddleware (it replaces it in DOWNLOADER_MIDDLEWARES, same settings),
    except that a page whose bytes cannot hold a `refresh` is passed on without being decoded: Scrapy
    decodes the whole body of every HTML response to read its first 4096 characters, and that was
    the costliest thing this process did for an article page on its own core. A page that may hold
    one (or whose codec or byte order mark leaves doubt) goes to Scrapy's, which decides."""

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        # (`spider`: Scrapy's signature, deprecated; Scrapy passes none to a method that has a default)
        if isinstance(response, HtmlResponse) and not may_declare_refresh(response):
            return response
        return super().process_response(request, response)


def may_declare_refresh(response: TextResponse) -> bool:
    """False only when the first 4096 characters of the response's text surely do not contain
    `refresh` in any letter case (w3lib's meta-refresh scan needs that word in the tag as is)."""
    body = response.body
    if body.startswith(_WIDE_BOMS) or not ascii_safe(response.encoding):
        return True
    return b"refresh" in body[:_REFRESH_SCAN].lower()
