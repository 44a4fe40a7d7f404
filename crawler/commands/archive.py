"""`scrapy archive`: get archived pages back by URL.

    scrapy archive get URL [--at TIMESTAMP] [--format text|json|raw|warc]
    scrapy archive list URL [--prefix]
    scrapy archive serve [--host 127.0.0.1] [--port 8080]

`serve` runs the retrieval service (retrieval/): the JSON API under /api/v1/, its OpenAPI description
at /openapi.json, and the reader's web pages at /, read-only over the archive named by ARCHIVE_URI.
"""
from __future__ import annotations

import argparse
import json
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pipelines.archive import store_from_settings
from pipelines.storage import ArchiveError, NotFound
from pipelines.storage.archive import Archive, parse_timestamp
from pipelines.storage.keys import BadURL


class Command(ScrapyCommand):
    requires_project = True
    # Reads the archive only: no crawler process, no reactor (`serve` runs its own asyncio loop).
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return ("get URL [--at TIMESTAMP] [--format text|json|raw|warc] | list URL [--prefix] | "
                "serve [--host 127.0.0.1] [--port 8080]")

    def short_desc(self) -> str:
        return "Get archived pages back by URL (latest, or closest to a time), or serve them over HTTP"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--at", metavar="TIMESTAMP",
                            help="capture closest to this time: 20261122, 20261122043000 or ISO 8601")
        parser.add_argument("--format", choices=["text", "json", "raw", "warc"], default="text",
                            help="get: clean text (default), the JSON document, the original body "
                                 "bytes, or the WARC records")
        parser.add_argument("--prefix", action="store_true",
                            help="list: every URL under this URL prefix")
        parser.add_argument("--host", default="127.0.0.1",
                            help="serve: address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8080,
                            help="serve: port to listen on (default 8080; 0 picks a free one)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args == ["serve"]:
            self._serve(opts)
            return
        if len(args) != 2 or args[0] not in ("get", "list"):
            raise UsageError("expected: archive get URL | archive list URL | archive serve",
                             print_help=True)
        verb, url = args
        try:
            archive = Archive(store_from_settings(self.settings))
            if verb == "get":
                self._get(archive, url, opts)
            else:
                self._list(archive, url, opts.prefix)
        except NotFound:
            print(f"not archived: {url} (archive: {self.settings.get('ARCHIVE_URI')})",
                  file=sys.stderr)
            self.exitcode = 1
        except (BadURL, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 2
        except ArchiveError as exc:
            print(f"archive error: {exc}", file=sys.stderr)
            self.exitcode = 1

    def _get(self, archive: Archive, url: str, opts: argparse.Namespace) -> None:
        at = parse_timestamp(opts.at) if opts.at else None
        capture = archive.pick(url, at)
        if opts.format == "warc":
            sys.stdout.buffer.write(archive.raw_warc(capture))
        elif opts.format == "raw":
            sys.stdout.buffer.write(archive.raw_response(capture)[2])
        else:
            doc = archive.document(capture)
            if opts.format == "json":
                print(json.dumps(doc, ensure_ascii=False, indent=1))
            else:
                print(doc.get("title") or "")
                print()
                if doc.get("kind") == "attachment":  # a file an article links to (issue 4)
                    print(f"(attachment of {doc.get('attachment_of')}: {doc.get('raw_bytes')} bytes, "
                          f"{doc.get('content_type')}; the file itself: --format raw)")
                else:
                    print(doc.get("text") or f"(no text: {doc.get('errors')})")

    def _list(self, archive: Archive, url: str, prefix: bool) -> None:
        if prefix:
            listed = [c for _, c in archive.captures_by_prefix(url)]
        else:
            listed = archive.captures(url)
        if not listed:
            raise NotFound(url)
        for capture in listed:
            doc = archive.document(capture)
            print(json.dumps({"url": doc.get("url"), "timestamp": capture.timestamp[:14],
                              "captured_at": doc.get("captured_at"), "kind": capture.kind,
                              "status": doc.get("status"), "title": doc.get("title"),
                              "text_fingerprint": doc.get("text_fingerprint"),
                              "raw_key": doc.get("raw_key")}, ensure_ascii=False))

    def _serve(self, opts: argparse.Namespace) -> None:
        from retrieval.app import serve  # the service's dependencies load only for `serve`

        assert self.settings is not None
        if not 0 <= opts.port <= 65535:
            raise UsageError(f"--port: {opts.port} is not a TCP port")
        try:
            store = store_from_settings(self.settings)
            store.exists("captures/.reachable")  # a cheap read: refuse to start on an unreachable archive
        except ArchiveError as exc:
            print(f"archive error: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        serve(Archive(store), host=opts.host, port=opts.port,
              announce=lambda line: print(line, file=sys.stderr, flush=True))
