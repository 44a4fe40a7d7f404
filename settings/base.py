"""Scrapy settings for govarchive. Every project setting is documented in README.md (Settings)."""
import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

BOT_NAME = "govarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- where captures go -------------------------------------------------------------------------
# file:///abs/path (default: ./archive in the project) or s3://bucket/prefix. AWS_* settings
# (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …) are Scrapy's own and reach the S3 backend; credentials
# belong in the environment, never in this file.
ARCHIVE_URI = os.environ.get("ARCHIVE_URI") or (PROJECT_DIR / "archive").as_uri()
# Gzip level (0-9) of the raw WARCs: 1-3 made by ISA-L (python-isal), 0 and 4-9 by zlib. 2: the gzip
# costs ~0.03 ms per 50 KB page (zlib's 3: 0.35 ms; warcio's own, zlib's 9: 0.87 ms) for ~8% more
# bytes than zlib's 9 on the bench's pages, ~14% on real ones (../shared/eval/zh-dev); see
# bench/bench_gzip.py.
ARCHIVE_WARC_GZIP_LEVEL = 2
AWS_ENDPOINT_URL = os.environ.get("AWS_ENDPOINT_URL")
AWS_REGION_NAME = os.environ.get("AWS_REGION_NAME") or os.environ.get("AWS_DEFAULT_REGION")
ARCHIVE_S3_MAX_ATTEMPTS = 3

# --- which portals -----------------------------------------------------------------------------
SITES_DIR = os.environ.get("SITES_DIR") or str(PROJECT_DIR / "settings" / "sites")

# --- politeness (per-site values in the site file override delay and concurrency) ---------------
ROBOTSTXT_OBEY = True
USER_AGENT = "govarchive/0.1 (public-records archiver; +https://github.com/govarchive/govarchive)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False

# --- multi-page articles (crawler/multipage.py) --------------------------------------------------
# An article page announcing more pages (TRS createPageHTML, a pager of …_2.html links) has them
# fetched and archived each as its own capture; the first page's document holds the merged text.
# Pages beyond this number are not fetched (listed as `over_limit` in its `incomplete`); 0: no limit.
ARTICLE_MAX_PAGES = 50

# --- the pipeline ------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Runs after HttpCompressionMiddleware (590) has un-gzipped the body, before the spider.
    "crawler.middlewares.EncodingDecisionMiddleware": 580,
    # Scrapy's meta-refresh redirects (METAREFRESH_* settings), without decoding every page to look
    # for one; after the encoding decision (580), as Scrapy's own ran.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefreshMiddleware": 579,
    "crawler.failures.FailureLedger": 610,  # final failures by reason → failed/* stats (issue 8)
    # Challenges and JS-only shells → the browser (issue 6): one sees decompressed bodies, the other
    # a 302-to-itself that sets a cookie before RedirectMiddleware (600) turns it into a duplicate.
    "crawler.browser.BrowserMiddleware": 585,
    "crawler.browser.CookieRedirectMiddleware": 650,
}
# Extraction pool (pipelines/extract.py): EXTRACT_WORKERS processes (default: 2, at most the CPU
# count), EXTRACT_QUEUE pages handed to it at once per worker, EXTRACT_TIMEOUT seconds per page
# (counted from when a worker takes the page: waiting behind the others handed over does not count).
EXTRACT_QUEUE = 16
# Workers run at this niceness (0-19): when the cores are all busy, the crawler's reactor (the crawl's
# one serial stage) goes first. bench_e2e: 0.29x -> 0.34x the do-nothing crawl with inline writes.
EXTRACT_NICE = 10
ITEM_PIPELINES = {
    "pipelines.encoding.EncodingPipeline": 100,
    "pipelines.extract.ExtractPipeline": 200,
    "pipelines.repair.RepairPipeline": 300,
    "pipelines.attachments.AttachmentsPipeline": 800,
    "pipelines.archive.ArchivePipeline": 900,
}
EXTENSIONS = {
    "crawler.extensions.RunSummary": 500,
}
# Scrapy's MemoryStatsCollector without its per-attribute Python hook (crawler/stats.py).
STATS_CLASS = "crawler.stats.StatsCollector"
RUN_SUMMARY_FILE = None

# `scrapy crawl` raises the root and `scrapy` loggers to the lowest level a log handler wants (this
# one, unless another handler wants less), so records no handler emits are not built at all.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGSTATS_INTERVAL = 30.0
FEED_EXPORT_ENCODING = "utf-8"

# --- attachments (pipelines/attachments.py) ---------------------------------------------------------
# [attachments] owned by the attachments work (issue 4, "Attachments").
# The pdf/doc/docx/xls/xlsx/wps/ofd/zip/rar files an article's body links to are fetched (within the
# site's allowed_domains, once per run per URL, by conditional GET when already archived) and
# archived raw under their own URLs (kind `attachment`), beside the article, whose document records
# what became of each. A file over ATTACHMENT_MAX_BYTES (Scrapy's per-request download_maxsize) is
# not archived: recorded as skipped, too_large.
ATTACHMENTS_ENABLED = True
ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024
# [/attachments]

# --- component settings, each group in its own module --------------------------------------------
from settings.browser import *  # noqa: E402, F403
from settings.operations import *  # noqa: E402, F403
