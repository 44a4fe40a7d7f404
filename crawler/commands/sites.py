"""`scrapy sites`: list the site files and validate them all (exit 1 on any error).

    scrapy sites [--enabled]
    scrapy sites check SLUG [--pages N]

`check` fetches a site's start pages the way the spider would (its User-Agent, robots.txt, the
encoding decision, the site file's link pattern and pagination rule) and prints what the spider
would follow and what it would extract from the first article of each page, to verify a site file
before enabling it. It needs the network, never writes to the archive, and exits 1 when a start page
cannot be read or shows no article link.
"""
from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
import urllib.robotparser
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor

from crawler.spiders.portal import next_page
from pipelines.decoding.charset import decide_encoding, decode_page
from pipelines.decoding.repair import repair_document
from pipelines.extraction import extract_document
from settings.sites import Site, SiteFileError, load_all, load_site


def _fetch(url: str, agent: str, timeout: float) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, dict(reply.headers.items()), reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--enabled] | check SLUG [--pages N]"

    def short_desc(self) -> str:
        return "List the portals in settings/sites/ and validate every site file"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--enabled", action="store_true", help="only the enabled sites")
        parser.add_argument("--pages", type=int, default=1, metavar="N",
                            help="check: list pages to walk per start page (default 1)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args and args[0] == "check":
            if len(args) != 2:
                raise UsageError("expected: sites check SLUG", print_help=True)
            self._check(args[1], max(1, opts.pages))
            return
        if args:
            raise UsageError(f"unknown verb {args[0]!r}: expected check SLUG", print_help=True)
        sites, errors = load_all(self.settings.get("SITES_DIR"))
        print(f"{'slug':<14} {'enabled':<8} {'verified':<9} {'cms':<10} name / start URL")
        for site in sites:
            if opts.enabled and not site.enabled:
                continue
            print(f"{site.slug:<14} {'yes' if site.enabled else 'no':<8} "
                  f"{'yes' if site.verified else 'no':<9} {site.cms:<10} {site.name}  "
                  f"{site.start_urls[0]}")
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"{len(sites)} valid site file(s), {len(errors)} with errors", file=sys.stderr)
        if errors:
            self.exitcode = 1

    # -- check -------------------------------------------------------------------------------------
    def _check(self, slug: str, pages: int) -> None:
        assert self.settings is not None
        try:
            site = load_site(slug, self.settings.get("SITES_DIR"))
        except SiteFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        agent = self.settings.get("USER_AGENT")
        timeout = self.settings.getfloat("DOWNLOAD_TIMEOUT", 30)
        links = LinkExtractor(allow=site.article.url_pattern,
                              restrict_xpaths=site.listing.link_area or (), unique=True)
        columns = {str(c.url): c.name for c in site.columns}
        starts = [str(u) for u in site.start_urls]
        starts += [u for u in columns if u not in starts]
        robots = self._robots(starts, agent, timeout)
        problems = 0
        print(f"{site.slug}: {site.name} ({site.cms}, {len(starts)} start page(s))")
        for start in starts:
            url: str | None = start
            for n in range(pages):
                if url is None:
                    break
                print(f"\nlist {columns.get(start, '')} page {n + 1}: {url}")
                response = self._page(url, agent, timeout, robots)
                if response is None:
                    problems += 1
                    break
                found = [link.url for link in links.extract_links(response)]
                print(f"  {len(found)} article link(s) match [article].url_pattern")
                for link in found[:10]:
                    print(f"    {link}")
                if len(found) > 10:
                    print(f"    … {len(found) - 10} more")
                url = next_page(site, response)
                print(f"  next page ({site.listing.pagination}): {url or 'none'}")
                if not found:
                    problems += 1
                elif n == 0:
                    problems += self._article(site, found[0], agent, timeout, robots)
        print(f"\n{site.slug}: {'looks usable' if not problems else f'{problems} problem(s)'}")
        if problems:
            self.exitcode = 1

    @staticmethod
    def _robots(urls: list[str], agent: str, timeout: float) -> dict[str, urllib.robotparser.RobotFileParser]:
        out = {}
        for url in urls:
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin in out:
                continue
            parser = urllib.robotparser.RobotFileParser()
            try:
                status, _, body = _fetch(origin + "/robots.txt", agent, timeout)
                parser.parse(body.decode("utf-8", "replace").splitlines() if status == 200 else [])
            except (OSError, ValueError):
                parser.parse([])
            out[origin] = parser
        return out

    @staticmethod
    def _page(url: str, agent: str, timeout: float,
              robots: dict[str, urllib.robotparser.RobotFileParser]) -> HtmlResponse | None:
        parts = urlsplit(url)
        rules = robots.get(f"{parts.scheme}://{parts.netloc}")
        if rules is not None and not rules.can_fetch(agent, url):
            print(f"  robots.txt forbids {url}")
            return None
        try:
            status, headers, body = _fetch(url, agent, timeout)
        except (OSError, ValueError) as exc:
            print(f"  cannot fetch: {exc}")
            return None
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        decision = decide_encoding(body, content_type)
        print(f"  HTTP {status}, {len(body)} bytes, {content_type or 'no Content-Type'}; "
              f"decoded as {decision.encoding} ({decision.rule})")
        if status != 200:
            return None
        return HtmlResponse(url, status=status, body=body, encoding=decision.encoding,
                            headers={"Content-Type": content_type} if content_type else None)

    def _article(self, site: Site, url: str, agent: str, timeout: float,
                 robots: dict[str, urllib.robotparser.RobotFileParser]) -> int:
        print(f"  first article: {url}")
        response = self._page(url, agent, timeout, robots)
        if response is None:
            return 1
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        html, decision = decode_page(response.body, content_type or None)
        try:
            doc = extract_document(html, url, site.article.overrides())
        except Exception as exc:  # what the spider would archive as an extraction error
            print(f"    extraction failed: {exc}")
            return 1
        repair_document(doc, url, decision.encoding)
        text = doc.get("text") or ""
        print(f"    title:     {doc.get('title')}")
        print(f"    published: {doc.get('published_at')}   source: {doc.get('source')}")
        print(f"    text:      {len(text)} chars: {text[:160].replace(chr(10), ' ')}…")
        return 0 if text else 1
