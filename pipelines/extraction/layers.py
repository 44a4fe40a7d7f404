"""Where the article body comes from, in order: the site file's XPath, a known CMS container, trafilatura.

The page is parsed once with lxml; trafilatura gets a copy of that tree (so a `<script>` before
`<!DOCTYPE>` no longer makes it reject the page), with layout tables turned into blocks and a config
that keeps short notices.
"""
from __future__ import annotations

import re
from configparser import ConfigParser
from copy import deepcopy

import lxml.etree
import lxml.html
import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import DEFAULT_CONFIG

# Body containers of the CMS families, most specific first: (layer name, XPath, the words of which the
# page's source holds one when the XPath finds something).
CONTAINERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("container:TRS_Editor", "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
     ("TRS_Editor",)),
    ("container:trs_editor_view",
     "//*[contains(concat(' ', normalize-space(@class), ' '), ' trs_editor_view ')]", ("trs_editor_view",)),
    ("container:TRS_UEDITOR", "//*[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
     ("TRS_UEDITOR",)),
    ("container:UCAP-CONTENT", "//*[@id='UCAP-CONTENT']", ("UCAP-CONTENT",)),
    ("container:zoom", "//*[@id='zoom' or @id='Zoom']", ("zoom", "Zoom")),
)
# An attribute value is the source's characters, but for character references: those of ASCII
# characters (`&#95;`, `&#x5F`) could spell a container's word, and the XPaths then all run.
_ASCII_REFERENCE = re.compile(r"&#(?:[xX]0*[0-7]?[0-9a-fA-F](?![0-9a-fA-F])"
                              r"|0*(?:1[01]\d|12[0-7]|\d{1,2})(?!\d))")
_ZJEG = re.compile(r"<!--\s*ZJEG_RSS\.content\.begin\s*-->(.*?)<!--\s*ZJEG_RSS\.content\.end\s*-->",
                   re.S | re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
          "blockquote", "pre", "ul", "ol", "dd", "dt", "center", "hr"}
_SKIP = {"script", "style", "noscript", "template", "select", "button", "iframe", "textarea", "input"}
_WS = re.compile(r"[ \t\r\f\v\xa0]+")

# trafilatura for Chinese portals: short notices (under 250 characters) are articles too.
# A precise result shorter than this is checked against the balanced one (the longer wins).
_SHORT_PRECISE = 100
_CONFIG = ConfigParser()
_CONFIG.read_dict({"DEFAULT": dict(DEFAULT_CONFIG["DEFAULT"])})
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "20")
_CONFIG.set("DEFAULT", "MIN_OUTPUT_SIZE", "5")
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_COMM_SIZE", "5")

# lxml.html's parser picks each element's class in Python (form, input, label… get their own classes),
# once per element proxy made: on a 50 KB page about a third of the time spent walking it. Nothing
# here nor in trafilatura uses those form classes, so every element is an HtmlElement, chosen in C.
_PARSER = lxml.html.HTMLParser()
_PARSER.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity))

# node_text's walk. The root template takes the first element of the document: the node itself (lxml
# gives a node that is not its document's root a document of its own), not any element the parser
# put beside the root (a second <html>).
_TEXT_XSLT = lxml.etree.XSLT(lxml.etree.XML(f"""\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="/"><xsl:apply-templates select="*[1]"/></xsl:template>
  <xsl:template match="{'|'.join(sorted(_SKIP))}"/>
  <xsl:template match="{'|'.join(sorted(_BLOCK))}">
    <xsl:text>&#10;</xsl:text><xsl:apply-templates/><xsl:text>&#10;</xsl:text>
  </xsl:template>
  <xsl:template match="td|th"><xsl:apply-templates/><xsl:text> </xsl:text></xsl:template>
</xsl:stylesheet>"""))


def parse_html(html: str) -> HtmlElement:
    html = _XML_DECL.sub("", html, count=1)
    try:
        return lxml.html.document_fromstring(html, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return lxml.html.document_fromstring(f"<html><body>{html}</body></html>", parser=_PARSER)


def node_text(node: HtmlElement) -> str:
    """Visible text with block elements on their own lines; table cells separated by a space.

    The text of `node` and its descendants and their tails (not comments' nor processing
    instructions' text), and `node`'s own tail; an element of `_SKIP` gives only its tail; a block
    element opens and closes a line; a `td` or `th` ends with a space. Then each line's runs of
    `_WS` become one space, and lines are stripped of spaces and ideographic spaces, empty ones
    dropped. The walk is `_TEXT_XSLT`, in C (tests/test_properties.py holds it in Python)."""
    raw = str(_TEXT_XSLT(node))
    if node.tail:
        raw += node.tail
    return "\n".join(filter(None, [line.strip(" \u3000") for line in _WS.sub(" ", raw).split("\n")]))


def _xpath_nodes(tree: HtmlElement, xpath: str) -> list[HtmlElement]:
    try:
        found = tree.xpath(xpath)
    except lxml.etree.XPathError:
        return []
    return [n for n in found if isinstance(n, HtmlElement)] if isinstance(found, list) else []


def xpath_text(tree: HtmlElement, xpath: str) -> str:
    """Text of an override XPath: elements' text, or strings when the XPath selects text/attributes."""
    try:
        found = tree.xpath(xpath)
    except lxml.etree.XPathError:
        return ""
    if isinstance(found, str):
        return found.strip()
    if not isinstance(found, list):
        return ""
    pieces = [node_text(n) if isinstance(n, HtmlElement) else str(n) for n in found]
    return "\n".join(p.strip() for p in pieces if p and p.strip())


def body_nodes(tree: HtmlElement, html: str, overrides: dict[str, str]) -> tuple[str, list[HtmlElement]]:
    """The first layer that finds a body: ("override", nodes) or ("container:…", nodes); else ("", [])."""
    xpath = overrides.get("body_xpath")
    if xpath:
        nodes = _xpath_nodes(tree, xpath)
        if nodes and any(node_text(n) for n in nodes):
            return "override", nodes
    every = bool(_ASCII_REFERENCE.search(html))
    for name, path, words in CONTAINERS:
        if not every and not any(word in html for word in words):
            continue  # the XPath would look at every element of the page to find nothing
        nodes = [n for n in _xpath_nodes(tree, path) if node_text(n)]
        if nodes:
            return name, nodes[:1]
    m = _ZJEG.search(html)
    if m:
        fragment = lxml.html.fragment_fromstring(m.group(1), create_parent="div")
        if node_text(fragment):
            return "container:ZJEG_RSS", [fragment]
    return "", []


_TABLE_CELLS = lxml.etree.XPath("./tr/td | ./tr/th | ./tbody/tr/td | ./tbody/tr/th")
_TABLE_ROWS = lxml.etree.XPath("./tbody | ./thead | ./tfoot | ./tr | ./tbody/tr | ./thead/tr | ./tfoot/tr")


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Tables used for page layout (nested tables, or a cell holding a long text) become plain blocks, so
    that trafilatura judges their cells like any other block; data tables stay tables."""
    for table in list(tree.iter("table")):
        cells = _TABLE_CELLS(table)
        layout = (next(table.iterdescendants("table"), None) is not None
                  or any(len(c.text_content()) > 150 for c in cells))
        if not layout:
            continue
        table.tag = "div"
        for el in _TABLE_ROWS(table):
            el.tag = "div"
        for cell in cells:
            cell.tag = "div"


def run_trafilatura(tree: HtmlElement, url: str | None) -> str:
    """trafilatura on a prepared copy of the tree: precision first, then the balanced default when the
    precise run found nothing."""
    prepared = deepcopy(tree)
    _unwrap_layout_tables(prepared)
    found = ""
    for precise in (True, False):
        text = trafilatura.extract(prepared, url=url or None, favor_precision=precise, include_comments=False,
                                   include_tables=True, config=_CONFIG, deduplicate=False) or ""
        if len(text.strip()) >= _SHORT_PRECISE:
            return text
        found = text if len(text.strip()) > len(found.strip()) else found
    return found
