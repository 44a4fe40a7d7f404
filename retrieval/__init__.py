"""Retrieval over HTTP: a read-only JSON API and server-rendered pages over the archive.

No Scrapy import anywhere in this package: it runs on the storage layer (`pipelines.storage`) alone.

    retrieval/query.py    input validation: URLs, timestamps, limits, cursors (pure)
    retrieval/reader.py   listing and reading captures for the API and the pages (blocking calls)
    retrieval/diff.py     text comparison of two versions (pure)
    retrieval/api.py      the JSON API handlers
    retrieval/pages.py    the HTML pages
    retrieval/openapi.py  the OpenAPI description served at /openapi.json
    retrieval/app.py      the aiohttp application: routes, security headers, errors, `serve()`
"""
