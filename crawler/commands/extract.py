"""`scrapy extract`: run decoding and extraction on saved pages, offline, for checking and debugging.

    scrapy extract FILE [FILE ...] [--url URL] [--content-type 'text/html; charset=…']
    scrapy extract --manifest M.jsonl      # lines {"id", "path", "url", "headers"}

One JSON line per input, in input order; a page that fails gives {"id", "error"} and the run goes on.
A page whose bytes were decoded but in which no article was found (only page chrome, say) also
gives the encoding decision, as its archived record does.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.decoding.charset import decode_page
from pipelines.decoding.repair import repair_document
from pipelines.extraction import extract_document
from pipelines.extraction.document import ExtractionError


def extract_page(body: bytes, url: str, content_type: str | None = None,
                 overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The same stages the crawl runs (decode, extract, repair), on one page's bytes. A page without an
    article gives its ``error`` next to the encoding decision."""
    html, decision = decode_page(body, content_type)
    try:
        doc = extract_document(html, url, overrides)
    except ExtractionError as exc:
        return {"url": url, "error": f"{type(exc).__name__}: {exc}", "encoding": decision.as_dict()}
    repair_document(doc, url, decision.encoding)
    return {"url": url, **doc, "encoding": decision.as_dict()}


def _content_type(headers: Any) -> str | None:
    if isinstance(headers, dict):
        for name, value in headers.items():
            if name.lower() == "content-type":
                return str(value)
    return None


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "FILE [FILE ...] [--url URL] [--content-type CT] | --manifest M.jsonl"

    def short_desc(self) -> str:
        return "Decode and extract saved pages offline; one JSON line per page"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", help="the page's URL (default: file:// URL of the file)")
        parser.add_argument("--content-type", help="the Content-Type header it was served with")
        parser.add_argument("--manifest", help='JSON lines {"id", "path", "url", "headers"}')

    def _inputs(self, args: list[str], opts: argparse.Namespace) -> Iterator[dict[str, Any]]:
        if opts.manifest:
            base = Path(opts.manifest).parent
            with open(opts.manifest, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        path = Path(entry["path"])
                    except (ValueError, KeyError, TypeError) as exc:
                        yield {"id": f"line {n}", "error": f"bad manifest line: {exc}"}
                        continue
                    yield {"id": entry.get("id"), "path": path if path.is_absolute() else base / path,
                           "url": entry.get("url"), "content_type": _content_type(entry.get("headers"))}
        for name in args:
            yield {"id": None, "path": Path(name), "url": opts.url,
                   "content_type": opts.content_type}

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args and not opts.manifest:
            raise UsageError("give page files or --manifest", print_help=True)
        failed = 0
        for entry in self._inputs(args, opts):
            ident = {"id": entry["id"]} if entry["id"] is not None else {}
            if "error" in entry:
                out: dict[str, Any] = {**ident, "error": entry["error"]}
            else:
                path: Path = entry["path"]
                url = entry["url"] or path.resolve().as_uri()
                try:
                    out = {**ident, **extract_page(path.read_bytes(), url, entry["content_type"])}
                except Exception as exc:  # report and go on: one bad page must not stop the batch
                    out = {**ident, "url": url, "error": f"{type(exc).__name__}: {exc}"}
            failed += "error" in out
            print(json.dumps(out, ensure_ascii=False), flush=True)
        if failed:
            print(f"{failed} page(s) failed", file=sys.stderr)
