"""List-page pagination rules found on municipal portals."""
from __future__ import annotations

import re
from urllib.parse import urljoin

# TRS WCM: createPageHTML(countPage, currentPage, "index", "html"); page 0 is index.html,
# page i is index_i.html. Variables may stand in for the numbers (var countPage = N).
_CREATE = re.compile(
    r"""createPageHTML\(\s*['"]?(\w+)['"]?\s*,\s*['"]?(\w+)['"]?\s*,\s*['"]([\w.-]+)['"]\s*,"""
    r"""\s*['"](\w+)['"]""")
_VAR = r"""var\s+{name}\s*=\s*['"]?(\d+)['"]?"""


def _number(token: str, html: str) -> int | None:
    if token.isdigit():
        return int(token)
    m = re.search(_VAR.format(name=re.escape(token)), html)
    return int(m.group(1)) if m else None


def trs_next_page(html: str, url: str) -> str | None:
    """The next list page of a TRS-paginated list, or None on the last page / no pagination."""
    m = _CREATE.search(html)
    if not m:
        return None
    count, current = _number(m.group(1), html), _number(m.group(2), html)
    if count is None or current is None or current + 1 >= count:
        return None
    return urljoin(url, f"{m.group(3)}_{current + 1}.{m.group(4)}")
