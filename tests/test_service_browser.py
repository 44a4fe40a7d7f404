"""The reader's web pages in headless Chromium (Playwright driving Debian's chromium).

Search a demo URL at `/`, see its captures, open the text of one, compare two versions; and a page
in the archive that carries `<script>` never runs it on the service's origin. Screenshots go to
test-artifacts/ (gitignored).
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from retrieval.app import Background
from tests.conftest import PROJECT, DemoArchive

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = PROJECT / "test-artifacts"
EVIL_PATH = "/evil/script.html"
# Every way an archived page might try to act on the page that shows it.
EVIL = b"""<!doctype html><html><head><meta charset="utf-8"><title>archived</title>
<script>document.title = 'PWNED';
try { top.document.body.setAttribute('data-pwned', '1'); } catch (e) {}
try { localStorage.setItem('pwned', '1'); } catch (e) {}
document.write('<p id="ran">RAN</p>');</script></head>
<body><p id="content">archived body</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onerror="document.body.id='ran-onerror'">
<img src="x.png" onerror="document.title='PWNED'">
<form action="/api/v1/captures"><input name="url" value="http://pwned/"></form></body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Debian's chromium is not installed ({CHROMIUM})")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the runtime lock installs playwright
        pytest.skip(f"playwright is not installed: {exc}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def service(demo_archive: DemoArchive) -> Iterator[tuple[DemoArchive, str]]:
    archive = demo_archive.open()
    archive.write_capture(url=demo_archive.url(EVIL_PATH), status=200,
                          headers=[("Content-Type", "text/html; charset=utf-8")], body=EVIL,
                          fetched_at=datetime.now(UTC), document={"title": "archived", "text": "archived body"})
    with Background(archive) as running:
        yield demo_archive, running.base


@pytest.mark.parametrize("demo_archive", ["local"], indirect=True)
def test_search_read_and_compare_in_the_browser(browser: Any, service: tuple[DemoArchive, str]) -> None:
    demo, base = service
    url = demo.url(demo.changed_path)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    try:
        page.goto(base + "/")
        page.fill("input[name=url]", url)
        page.click("header button[type=submit]")
        page.wait_for_selector("tr.capture")
        assert page.locator("tr.capture").count() == 2
        assert page.locator("svg.timeline circle").count() == 2
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "service-captures.png"), full_page=True)

        # the text of the newest capture, with its metadata
        page.locator("tr.capture a.text-link").first.click()
        page.wait_for_selector(".text")
        assert demo.added in page.inner_text(".text")
        assert "信息来源" in page.inner_text("table.meta")
        page.screenshot(path=str(ARTIFACTS / "service-text.png"), full_page=True)

        # the two versions compared (A = older, B = newer, as the form preselects)
        page.go_back()
        page.click("#compare")
        page.wait_for_selector("table.diff")
        assert demo.added in page.inner_text("table.diff tr.ins")
        assert page.locator("table.diff tr.del").count() == 0
        page.screenshot(path=str(ARTIFACTS / "service-diff.png"), full_page=True)

        # the raw page: a sandboxed frame; its download is a download
        page.goto(base + "/page?" + _q(url))
        frame = page.frame_locator("iframe.archived")
        assert frame.locator("h1").first.inner_text()  # the archived article renders
        with page.expect_download() as download:
            page.click("text=download as served")
        assert download.value.suggested_filename.endswith(".html")
    finally:
        context.close()


@pytest.mark.parametrize("demo_archive", ["local"], indirect=True)
def test_archived_script_does_not_run_on_the_service_origin(browser: Any,
                                                            service: tuple[DemoArchive, str]) -> None:
    demo, base = service
    evil = demo.url(EVIL_PATH)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    try:
        # shown in the reader: the frame renders, nothing in it runs
        page.goto(base + "/page?" + _q(evil))
        frame = page.frame_locator("iframe.archived")
        assert frame.locator("#content").inner_text() == "archived body"
        assert frame.locator("#ran").count() == 0
        assert page.locator("body[data-pwned]").count() == 0
        assert "PWNED" not in page.title()
        assert page.evaluate("() => localStorage.getItem('pwned')") is None
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "service-sandboxed-page.png"), full_page=True)

        # opened on its own (top level, the service's origin in the address bar): still inert
        page.goto(base + "/frame?" + _q(evil))
        assert page.locator("#content").inner_text() == "archived body"
        assert page.locator("#ran").count() == 0 and page.locator("#ran-onerror").count() == 0
        assert "PWNED" not in page.title()
        page.goto(base + "/")
        assert page.evaluate("() => localStorage.getItem('pwned')") is None
    finally:
        context.close()
    assert not any("PWNED" in m for m in messages)


def _q(url: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"url": url})
