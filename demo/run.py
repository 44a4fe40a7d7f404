"""`make demo`: serve the demo portal on 127.0.0.1, crawl it into the archive, show how to get a page.

The archive is ARCHIVE_URI from the environment when set, else the project's ./archive folder. The
crawl goes through the nightly runner (`scrapy nightly --site demo`), so running `make demo` twice
on one archive is a second nightly run: list first pages only, nothing archived again.
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
    # A portal with some history (90 articles, 10 a list page), as real columns have; the tests
    # use the smaller default portal.
    # Two of its articles run over three and four pages (multi-page articles, issue 4).
    portal = DemoPortal(per_column=int(os.environ.get("DEMO_PER_COLUMN", "30")), per_page=10,
                        multipage=True)
    try:
        server, base = serve(portal, port=port)
    except OSError as exc:
        print(f"demo: cannot serve the demo portal on 127.0.0.1:{port}: {exc}\n"
              f"demo: set DEMO_PORT to a free port (archived URLs name the port: use the same one "
              f"for every run on one archive)", file=sys.stderr)
        return 1
    print(f"demo portal serving {len(portal.all_articles())} articles on {base}/")
    print(f"archive: {archive}")
    with tempfile.TemporaryDirectory() as tmp:
        # The site file names port 8765; a copy names the port actually served.
        sites_dir = Path(tmp) / "sites"
        sites_dir.mkdir()
        site_file = (PROJECT / "settings/sites/demo.toml").read_text(encoding="utf-8")
        (sites_dir / "demo.toml").write_text(site_file.replace("http://127.0.0.1:8765", base),
                                             encoding="utf-8")
        reports_file = Path(tmp) / "reports.json"
        cmd = [sys.executable, "-m", "scrapy", "nightly", "--site", "demo", "--json", str(reports_file)]
        env = {**os.environ, "ARCHIVE_URI": archive, "SITES_DIR": str(sites_dir)}
        code = subprocess.call(cmd, cwd=PROJECT, env=env)
        server.shutdown()
        if not reports_file.exists():
            print(f"demo: the nightly run did not finish (exit {code})", file=sys.stderr)
            return code or 1
        report = json.loads(reports_file.read_text())[0]
    # The nightly runner printed the night's table above; what it leaves out:
    print(f"list pages fetched: {report.get('list_pages', 0)}, articles fetched: "
          f"{report.get('articles_fetched', 0)}")
    files = report.get("attachments") or {}
    if files.get("listed"):
        others = ", ".join(f"{n} {k}" for k, n in sorted(files.items())
                           if k.startswith(("skipped/", "failed/")))
        print(f"attachments: {files['listed']} listed, {files.get('archived', 0)} archived, "
              f"{files.get('unchanged', 0)} unchanged, {files.get('duplicate', 0)} linked again"
              + (f", {others}" if others else ""))
    if report.get("baseline_runs"):
        print(f"(run {report['baseline_runs'] + 1} of the demo on this archive: incremental, list pages "
              f"re-fetched until {report.get('articles_known', 0)} known articles said stop)")
    example = portal.all_articles()[0]
    prefix = "" if "ARCHIVE_URI" not in os.environ else f"ARCHIVE_URI={shlex.quote(archive)} "
    print("\nGet an archived page back by its URL (paste from the project folder):")
    print(f"  {prefix}.venv/bin/scrapy archive get {shlex.quote(base + example.path)}")
    print(f"  {prefix}.venv/bin/scrapy archive list {shlex.quote(base + example.path)}")
    if example.pages > 1:
        print(f"(it runs over {example.pages} pages, each archived under its own URL, e.g. "
              f"{base + example.page_path(1)}; the article's document holds their text merged, "
              f"and `new` counts them)")
    notice = next((a for a in portal.all_articles() if a.attachments), None)
    if notice is not None:
        print("An attachment, listed in its notice's document and archived raw under its own URL:")
        print(f"  {prefix}.venv/bin/scrapy archive get {shlex.quote(base + notice.path)} --format json")
        print(f"  {prefix}.venv/bin/scrapy archive get {shlex.quote(base + notice.attachments[0][1])} "
              f"--format raw > attachment.pdf")
    return code


if __name__ == "__main__":
    sys.exit(main())
