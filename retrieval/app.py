"""The retrieval service: an aiohttp application over an `Archive`, read-only.

    app = make_app(Archive(open_store(uri)))       # routes, security headers, error answers
    serve(archive, host="127.0.0.1", port=8080)    # blocking, until SIGINT/SIGTERM
    with Background(archive) as service: …         # on a thread, port 0: tests and benchmarks

Errors: bad input → 400, nothing archived → 404, storage failure → 503, each with a message (JSON
under /api/, an HTML page elsewhere). Every response carries a Content-Security-Policy and
`X-Content-Type-Options: nosniff`; archived bytes are only ever served under a sandbox CSP.
"""
from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType

from aiohttp import web

from pipelines.storage.archive import Archive
from pipelines.storage.base import ArchiveError, NotFound
from retrieval import api, openapi, pages
from retrieval.query import BadRequest
from retrieval.reader import Reader
from retrieval.web import PAGE_CSP, READER

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answer(request: web.Request, status: int, message: str,
            headers: dict[str, str] | None = None) -> web.Response:
    if request.path.startswith("/api/") or request.path == "/openapi.json":
        response = web.json_response({"error": message}, status=status)
    else:
        response = pages.error_page(status, message)
    response.headers.update(headers or {})
    return response


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as exc:
        return _answer(request, 400, str(exc))
    except NotFound as exc:
        uri = request.app[READER].archive.store.uri
        return _answer(request, 404, str(exc).replace(f" in {uri}", " in this archive"))
    except ArchiveError as exc:
        logger.error("archive error on %s: %s", request.path_qs, exc)
        return _answer(request, 503, "the archive cannot be read at the moment")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return _answer(request, exc.status, exc.reason if exc.status != 404 else
                       f"no such page: {request.path[:200]}", allow)
    except Exception:
        logger.exception("failed on %s", request.path_qs)
        return _answer(request, 500, "internal error (logged)")


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    """Headers every answer carries; the raw views set their own (stricter) policy first."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi.spec())


def make_app(archive: Archive, workers: int = 16) -> web.Application:
    """The application: JSON API under /api/v1/, its description at /openapi.json, pages elsewhere."""
    app = web.Application(middlewares=[_errors])
    reader = Reader(archive, workers=workers)
    app[READER] = reader
    app.on_response_prepare.append(_secure)

    async def _close(_: web.Application) -> None:
        reader.close()

    app.on_cleanup.append(_close)
    app.router.add_get("/", pages.index)
    app.router.add_get("/text", pages.text)
    app.router.add_get("/diff", pages.compare)
    app.router.add_get("/page", pages.page)
    app.router.add_get("/frame", pages.frame)
    app.router.add_get("/static/style.css", pages.stylesheet)
    app.router.add_get("/openapi.json", _openapi)
    app.router.add_get("/api/v1/captures", api.captures)
    app.router.add_get("/api/v1/document", api.document)
    app.router.add_get("/api/v1/raw", api.raw)
    app.router.add_get("/api/v1/diff", api.compare)
    return app


def serve(archive: Archive, host: str = "127.0.0.1", port: int = 8080,
          announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted (SIGINT/SIGTERM); `announce` gets one line with the address bound."""

    def _started(message: str) -> None:
        where = " ".join(re.findall(r"https?://\S+", message)) or f"http://{host}:{port}"
        announce(f"serving {archive.store.uri} on {where}/ (Ctrl-C to stop)")

    web.run_app(make_app(archive), host=host, port=port, access_log=logger, print=_started)


class Background:
    """The service on its own thread and event loop, bound to `host` and a free port (tests, bench)."""

    def __init__(self, archive: Archive, host: str = "127.0.0.1", port: int = 0,
                 timeout: float = 30) -> None:
        self.archive, self.host, self.port, self.timeout = archive, host, port, timeout
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="retrieval", daemon=True)
        self._runner: web.AppRunner | None = None
        self.base = ""

    def start(self) -> Background:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(self.timeout)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(make_app(self.archive), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://{self.host}:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(self.timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(self.timeout)
        self.loop.close()

    def __enter__(self) -> Background:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
