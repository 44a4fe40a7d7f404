#!/bin/sh
# The nightly run: every enabled site, one crawl process each, a report per site in the archive.
# Exit status 1 when a site failed (cron mails its output). Credentials come from the environment
# (ARCHIVE_URI, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), e.g. an EnvironmentFile.
#   deploy/nightly.sh [--site SLUG ...] [--budget SECONDS]
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
LOCK="${NIGHTLY_LOCK:-/tmp/govarchive-nightly.lock}"
# One night at a time: a run still going when the next starts makes the next one exit 1 at once.
exec flock -n -E 1 "$LOCK" "$PYTHON" -m scrapy nightly "$@"
