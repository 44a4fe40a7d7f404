"""Settings for pages fetched through a browser (scrapy-playwright). Documented in README.md.

The download handler is installed for http/https in every crawl, but it starts Playwright and
Chromium only when a request asks for the browser (`crawler.browser.LazyPlaywrightDownloadHandler`):
a site that is neither `render = "browser"` nor ever answers with a challenge never starts one.
"""
import os

DOWNLOAD_HANDLERS = {
    "http": "crawler.browser.LazyPlaywrightDownloadHandler",
    "https": "crawler.browser.LazyPlaywrightDownloadHandler",
}
# Debian's chromium; `playwright install` cannot download browsers here. The flags are always
# added to whatever PLAYWRIGHT_LAUNCH_OPTIONS says (no background networking from the browser).
BROWSER_EXECUTABLE = os.environ.get("BROWSER_EXECUTABLE") or "/usr/bin/chromium"
BROWSER_REQUIRED_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# Memory (issue 6; `python -m bench.bench_browser`, RSS summed over the crawl's process tree): the
# sum is dominated by how many Chromium processes there are, each counting the shared binary and
# snapshot again. So: one context at a time, its pages in one renderer (process per site, no site
# isolation, a one-renderer limit), no zygotes, the GPU thread inside the browser process. Measured
# on 500 pages: peak 1815 MB with 2 contexts and zygote/GPU/renderer-per-page processes, 1334 MB like
# this. `--single-process` measured 906 MB but is unsupported by Chromium: not used.
# No `--disable-features=`/`--enable-features=` here: they would replace Playwright's own lists.
BROWSER_MEMORY_ARGS = ["--renderer-process-limit=1", "--process-per-site",
                       "--disable-site-isolation-trials", "--no-zygote", "--in-process-gpu",
                       "--disable-extensions", "--disable-dev-shm-usage"]
PLAYWRIGHT_LAUNCH_OPTIONS = {"headless": True, "executable_path": BROWSER_EXECUTABLE,
                             "args": [*BROWSER_REQUIRED_ARGS, *BROWSER_MEMORY_ARGS], "timeout": 30_000}
# One context at a time: a recycled context is closed before the next one opens.
PLAYWRIGHT_MAX_CONTEXTS = 1
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# The browser sends its own headers (a real browser's); Scrapy's are not copied onto it.
PLAYWRIGHT_PROCESS_REQUEST_HEADERS = None
# Images, fonts and media are never fetched by the browser: memory and the portal's bandwidth.
PLAYWRIGHT_ABORT_REQUEST = "crawler.browser.abort_heavy_request"
BROWSER_ABORT_RESOURCE_TYPES = ["image", "font", "media"]

# A browser's User-Agent that still says who we are (some portals 403 anything else).
BROWSER_USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/120.0.0.0 Safari/537.36 govarchive/0.1 (public-records archiver)")
# A context (cookies, cache, JS heap) is closed after this many pages and a fresh one opened.
BROWSER_CONTEXT_MAX_PAGES = 40
# Seconds between two browser requests to one site, unless its site file says otherwise.
BROWSER_DOWNLOAD_DELAY = 3.0
# How long a challenge page may take to clear itself in the browser, and a JS list to appear.
BROWSER_CHALLENGE_TIMEOUT = 15.0
BROWSER_LIST_WAIT = 5.0
# Retry challenges and JS-only shells through the browser (per site: [fetch].fallback).
BROWSER_FALLBACK = True
