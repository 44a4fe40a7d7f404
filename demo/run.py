"""`make demo`: serve the demo portal on 127.0.0.1, crawl it into the archive, show how to get a page.

The archive is ARCHIVE_URI from the environment when set, else the project's ./archive folder.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from demo.portal import DEFAULT_PORT, DemoPortal, serve

PROJECT = Path(__file__).resolve().parent.parent


def main() -> int:
    port = int(os.environ.get("DEMO_PORT", DEFAULT_PORT))
    archive = os.environ.get("ARCHIVE_URI") or (PROJECT / "archive").as_uri()
    portal = DemoPortal()
    try:
        server, base = serve(portal, port=port)
    except OSError as exc:
        print(f"demo: cannot serve the demo portal on 127.0.0.1:{port}: {exc}\n"
              f"demo: set DEMO_PORT to a free port (the site file settings/sites/demo.toml names "
              f"{DEFAULT_PORT}; other ports need a copy of it)", file=sys.stderr)
        return 1
    print(f"demo portal serving {len(portal.all_articles())} articles on {base}/")
    print(f"archive: {archive}")
    scrapy = str(Path(sys.executable).parent / "scrapy")
    with tempfile.TemporaryDirectory() as tmp:
        summary_file = Path(tmp) / "summary.json"
        cmd = [scrapy, "crawl", "portal", "-a", "site=demo", "-s", f"RUN_SUMMARY_FILE={summary_file}",
               "-s", "LOG_LEVEL=WARNING"]
        env = {**os.environ, "ARCHIVE_URI": archive}
        code = subprocess.call(cmd, cwd=PROJECT, env=env)
        server.shutdown()
        if not summary_file.exists():
            print(f"demo: the crawl did not finish (exit {code})", file=sys.stderr)
            return code or 1
        report = json.loads(summary_file.read_text())
    print()
    print(f"{'site':<8} {'list pages':>10} {'fetched':>8} {'archived':>9} {'failed':>7} {'seconds':>8}")
    failed = report["extract_failed"] + report["archive_failed"] + report["http_errors"] + \
        report["download_errors"]
    print(f"{report['site']:<8} {report['list_pages']:>10} {report['articles_fetched']:>8} "
          f"{report['archived']:>9} {failed:>7} {report['duration_s']:>8}")
    example = portal.all_articles()[0]
    prefix = "" if "ARCHIVE_URI" not in os.environ else f"ARCHIVE_URI={shlex.quote(archive)} "
    print("\nGet an archived page back by its URL (paste from the project folder):")
    print(f"  {prefix}.venv/bin/scrapy archive get {shlex.quote(base + example.path)}")
    print(f"  {prefix}.venv/bin/scrapy archive list {shlex.quote(base + example.path)}")
    return 0 if code == 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
