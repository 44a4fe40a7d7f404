"""Site files: one declarative TOML file per portal in `settings/sites/`, validated at start-up.

A bad file is refused with an error naming the file and the field, e.g.
`settings/sites/yixiu.toml: [list].next_page: invalid XPath: …`.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from lxml import etree
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
)

SITES_DIR = Path(__file__).parent / "sites"
SLUG = re.compile(r"[a-z0-9_]+")


class SiteFileError(ValueError):
    """A site file that cannot be used; the message names the file and the field."""


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return value


def _xpath(value: str) -> str:
    try:
        etree.XPath(value)
    except etree.XPathSyntaxError as exc:
        raise ValueError(f"invalid XPath: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(_regex)]
XPath = Annotated[str, AfterValidator(_xpath)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListRules(_Strict):
    """How list pages are walked."""

    pagination: Literal["auto", "trs", "next_link", "none"] = "auto"
    next_page: XPath = "//a[normalize-space(.)='下一页' or normalize-space(.)='下页']/@href"
    max_pages: int = Field(50, ge=1, le=10_000)
    link_area: XPath | None = None
    # Incremental runs stop walking a column after this many already-archived articles in a row
    # (lists are newest first); 0 walks every page every night.
    stop_after_known: int = Field(10, ge=0, le=10_000)


class ArticleRules(_Strict):
    """Which links are articles, and optional XPath overrides for extraction."""

    url_pattern: Regex
    title_xpath: XPath | None = None
    body_xpath: XPath | None = None
    date_xpath: XPath | None = None
    source_xpath: XPath | None = None

    def overrides(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if k.endswith("_xpath") and v}


class Politeness(_Strict):
    """Per-site request rate; the defaults are deliberately gentle."""

    download_delay: float = Field(1.0, ge=0, le=60)
    concurrency: int = Field(1, ge=1, le=2)


class Fetch(_Strict):
    """How pages are fetched: plain HTTP with a browser fallback, or every page through a browser."""

    render: Literal["http", "browser"] = "http"
    fallback: bool = True
    sticky: bool = True
    browser_delay: float | None = Field(None, ge=0, le=120)


class Hanweb(_Strict):
    """Hanweb 大汉 lists read from `dataproxy.jsp` directly (crawler/hanweb.py), no browser."""

    endpoint: str = "/module/web/jpage/dataproxy.jsp"
    perpage: int = Field(15, ge=1, le=500)
    pages_per_call: int = Field(3, ge=1, le=50)
    params: dict[str, str]
    column_params: dict[str, dict[str, str]] = {}


class Column(_Strict):
    name: str
    url: HttpUrl


class Site(_Strict):
    """One portal."""

    slug: str
    name: str
    enabled: bool = True
    verified: bool = False
    cms: str = "generic"
    allowed_domains: list[str] = Field(min_length=1)
    start_urls: list[HttpUrl] = Field(min_length=1)
    columns: list[Column] = []
    listing: ListRules = Field(ListRules(), alias="list")
    article: ArticleRules
    politeness: Politeness = Politeness()
    fetch: Fetch = Fetch()
    hanweb: Hanweb | None = None
    notes: str = ""


def _field_path(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "(file)"
    head, *rest = loc
    if rest and isinstance(head, str) and head in {"list", "article", "politeness", "fetch", "hanweb"}:
        return f"[{head}].{'.'.join(str(p) for p in rest)}"
    return ".".join(str(p) for p in loc)


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key missing"
    return str(error["msg"]).removeprefix("Value error, ")


def load_site_file(path: Path) -> Site:
    """Parse and validate one site file; raise SiteFileError naming the file and the field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteFileError(f"{path}: no such site file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteFileError(f"{path}: not valid TOML: {exc}") from None
    if "slug" in data:
        raise SiteFileError(f"{path}: slug: not allowed; the slug is the file name")
    if not SLUG.fullmatch(path.stem):
        raise SiteFileError(f"{path}: file name must be a slug of [a-z0-9_]")
    try:
        return Site.model_validate({"slug": path.stem, **data})
    except ValidationError as exc:
        lines = [f"{path}: {_field_path(e['loc'])}: {_message(e)}" for e in exc.errors()]
        raise SiteFileError("\n".join(lines)) from None


def load_site(slug: str, sites_dir: Path | str = SITES_DIR) -> Site:
    if not SLUG.fullmatch(slug):
        raise SiteFileError(f"site {slug!r}: a site slug is [a-z0-9_]+")
    path = Path(sites_dir) / f"{slug}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in Path(sites_dir).glob("*.toml"))) or "none"
        raise SiteFileError(f"{path}: no such site (known: {known})")
    return load_site_file(path)


def load_all(sites_dir: Path | str = SITES_DIR) -> tuple[list[Site], list[str]]:
    """Every site file in the folder: the valid sites and one error line per bad file."""
    sites, errors = [], []
    for path in sorted(Path(sites_dir).glob("*.toml")):
        try:
            sites.append(load_site_file(path))
        except SiteFileError as exc:
            errors.append(str(exc))
    return sites, errors
