"""Settings for nightly operation: incremental crawls, re-checks, run reports, spool, scale-out."""

# --- incremental crawls and re-checks (crawler/spiders/portal.py, pipelines/storage/index.py) ----
# Articles published (or first archived) in the last RECHECK_DAYS days are fetched again, with a
# conditional GET, once their last check is RECHECK_EVERY_DAYS old: 304 or the same clean text → a
# revisit record, changed text → a new version, 404/410 → a removal record.
RECHECK_DAYS = 30
RECHECK_EVERY_DAYS = 7.0
RECHECK_MAX = 500  # re-checks per run at most (newest first); 0: no limit
# The per-site index (index/<site>.json.gz) is rebuilt from the captures' listing when older.
INDEX_MAX_AGE_DAYS = 30.0

# --- run reports (crawler/extensions.py): runs/<site>/<RUN_ID>.json in the archive ---------------
RUN_REPORTS = True
RUN_ID = None  # default: the run's start time, YYYYMMDDhhmmssffffff

# --- the nightly runner (scrapy nightly, deploy/nightly.sh) ----------------------------------------
NIGHTLY_BUDGET = 3600  # seconds per site: CLOSESPIDER_TIMEOUT, then a hard kill after the grace
NIGHTLY_KILL_GRACE = 120
NIGHTLY_HISTORY = 7  # previous reports per site the health verdict compares with

# --- crash safety and archive outages (pipelines/archive.py, pipelines/storage/spool.py) ---------
# [archive-spool] owned by the crash-safety / scale-out work (issue 5, part 2).
# Every archive write is kept in a local spool (one folder per archive) until it is complete; a
# write that fails is retried ARCHIVE_WRITE_ATTEMPTS times with backoff ARCHIVE_RETRY_BACKOFF,
# twice that, … seconds, then stays spooled: the run retries the spool every
# ARCHIVE_SPOOL_RETRY_INTERVAL seconds and for up to ARCHIVE_SPOOL_CLOSE_WAIT seconds at its end;
# what is left is written by the next run against the same archive before it crawls.
import os as _os  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

ARCHIVE_SPOOL_DIR = _os.environ.get("ARCHIVE_SPOOL_DIR") or str(
    _Path(__file__).resolve().parent.parent / "var" / "spool")
ARCHIVE_WRITE_ATTEMPTS = 3
ARCHIVE_RETRY_BACKOFF = 1.0
ARCHIVE_SPOOL_RETRY_INTERVAL = 10.0
ARCHIVE_SPOOL_CLOSE_WAIT = 60.0
# [/archive-spool]

# --- scale-out on scrapy-redis (crawler/distributed.py) -------------------------------------------
# [distributed] owned by the crash-safety / scale-out work (issue 5, part 2).
# Inert unless DISTRIBUTED names a Redis server (redis://host:6379/0): then the workers started
# with the same site and DISTRIBUTED_RUN share one request queue and dupefilter. Each worker takes
# 1/DISTRIBUTED_WORKERS of the site's politeness budget (delay and AutoThrottle are per process).
ADDONS = {"crawler.distributed.Distributed": 0}
DISTRIBUTED = _os.environ.get("DISTRIBUTED") or None  # a redis:// URL, or true to use REDIS_URL
REDIS_URL = _os.environ.get("REDIS_URL") or None  # scrapy-redis's own setting
DISTRIBUTED_RUN = None  # default: the UTC date, YYYYMMDD (one shared run a day)
DISTRIBUTED_WORKERS = 1
DISTRIBUTED_IDLE_CLOSE = 30.0  # seconds a worker stays open after the shared queue was last non-empty
DISTRIBUTED_KEEP_DAYS = 2.0  # the run's queue and dupefilter expire this long after the last worker
# [/distributed]
