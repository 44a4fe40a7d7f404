"""Traditional-Chinese gateway mirrors and Simplified forms.

Portals publish machine-converted Traditional copies of their Simplified pages through gateways:
``http://<gateway>/gate/big5/<host>/<path>`` (also ``/gate/gb/`` for the reverse direction) or a
``big5.<host>`` host serving the same paths. The Simplified page is the canonical one; storage keys use
its URL so a capture is found from either URL.

OpenCC (``t2s``/``s2t``) is loaded on first use and cached.
"""
from __future__ import annotations

import functools
import math
import re
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

#: ``/gate/<variant>/<host>[:port]/<rest>``; the variant names the conversion the gateway applies.
_GATEWAY = re.compile(r"^/gate/(big5|gb|gb2312|b5)/([A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?)(/.*)?$", re.I)
_GATEWAY_VARIANTS = {"big5": "big5-gateway", "b5": "big5-gateway", "gb": "gb-gateway", "gb2312": "gb-gateway"}
#: What every mirror URL holds (a cheap screen before parsing the URL).
_MAYBE_MIRROR = re.compile(r"/gate/|big5\.|b5\.|fanti\.", re.I)
#: ``big5.<host>``: a mirror host in front of the Simplified site.
_MIRROR_HOST = re.compile(r"^(big5|b5|fanti)\.(.+\..+)$", re.I)


def canonical_mirror_url(url: str) -> tuple[str, str | None]:
    """Map a gateway mirror URL to the Simplified page's URL.

    Returns (canonical_url, variant); variant is None for a URL that is not a mirror, which comes back
    unchanged. Gateway URLs become ``http://<host>/<path>`` (the gateway does not say the scheme);
    mirror hosts keep their scheme and port. Query strings are kept, fragments dropped.

    >>> canonical_mirror_url("http://www.gd.gov.cn/gate/big5/www.zs.gov.cn/zwgk/index.html?p=2")
    ('http://www.zs.gov.cn/zwgk/index.html?p=2', 'big5-gateway')
    >>> canonical_mirror_url("https://big5.zs.gov.cn/zwgk/")
    ('https://zs.gov.cn/zwgk/', 'big5-host')
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    gateway = _GATEWAY.match(parts.path)
    if gateway:
        variant, host, rest = gateway.groups()
        canonical = urlunsplit(("http", host.lower(), rest or "/", parts.query, ""))
        return canonical, _GATEWAY_VARIANTS[variant.lower()]
    host = parts.hostname or ""
    mirror = _MIRROR_HOST.match(host)
    if mirror:
        netloc = mirror.group(2) + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), "big5-host"
    return url, None


@functools.cache
def _opencc(config: str) -> object:
    import opencc  # loaded on first use

    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=8)
def _convert(config: str, text: str) -> str:
    """OpenCC conversion, the last few kept: ``is_traditional`` and ``to_simplified`` of a short text
    convert the same string.

    OpenCC reads UTF-8, which cannot hold a lone surrogate (a page's text never has one: parsers and
    decoders make U+FFFD; a caller's string may): the text between them is converted, they stay."""
    convert = _opencc(config).convert  # type: ignore[attr-defined]
    try:
        return str(convert(text))
    except UnicodeEncodeError:
        pieces = _SURROGATES.split(text)  # text, surrogates, text, ...
        return "".join(piece if n % 2 else str(convert(piece)) for n, piece in enumerate(pieces))


_SURROGATES = re.compile("([\ud800-\udfff]+)")


#: How much of a text ``is_traditional`` looks at.
_SAMPLE = 2000
#: Share of the CJK characters (U+3400-U+9FFF, U+F900-U+FAFF: ``_han_count``) OpenCC t2s must change
#: for a text to count as Traditional.
_TRADITIONAL_SHARE = 0.05
_SLICE = 64


@functools.cache
def _changeable_chars() -> tuple[re.Pattern[str], frozenset[str]]:
    """The characters OpenCC t2s can change (``t2s_chars.txt``, built by ``_build_t2s_chars``): those
    of the Basic Multilingual Plane as a character class (the regex engine tests it with a bitmap) and
    the others as a set (a class holding them would be tested one range at a time)."""
    chars = resources.files(__package__).joinpath("t2s_chars.txt").read_text("utf-8").strip()
    return (re.compile("[" + re.escape("".join(c for c in chars if c <= "\uffff")) + "]"),
            frozenset(c for c in chars if c > "\uffff"))


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _changeable(text: str, enough: int | None = None) -> int:
    """How many characters of *text* OpenCC t2s can change (at least as many as it changes), counting
    no further than *enough*."""
    basic, astral = _changeable_chars()
    count = 0
    for _ in basic.finditer(text):
        count += 1
        if count == enough:
            return count
    if _has_astral(text):
        count += sum(1 for c in _ASTRAL.findall(text) if c in astral)
    return count


def _has_astral(text: str) -> bool:
    """Whether *text* holds a character beyond the Basic Multilingual Plane: one that UTF-16 writes as
    two code units (an encode in C, 2 us on 2,000 characters, where a regex scan took 10)."""
    return len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text)


#: The high bytes of the UTF-16 code units of the CJK characters counted: U+3400-U+9FFF and
#: U+F900-U+FAFF (surrogates, which make the astral characters, are not among them).
_HAN_HIGH = bytes([*range(0x34, 0xA0), 0xF9, 0xFA])
_NOT_HAN_HIGH = bytes(b for b in range(256) if b not in _HAN_HIGH)


def _han_count(text: str) -> int:
    """How many characters of *text* are in U+3400-U+9FFF or U+F900-U+FAFF: the high bytes of its UTF-16
    code units in those ranges, counted in C (5 us on 2,000 characters, where removing the other
    characters with a regex took 40)."""
    return len(text.encode("utf-16-be", "surrogatepass")[0::2].translate(None, _NOT_HAN_HIGH))


def _can_change_enough(sample: str) -> bool:
    """False when t2s cannot change as many characters of *sample* as ``_changed_enough`` requires: two,
    and 5% of its CJK characters (t2s changes no more characters than it can change, and no length;
    ``simplified_form`` judges the first characters of a whole conversion, which changes no more).

    A long Simplified text often holds a few characters t2s can change (``乾隆``, ``著``, ``於``); the
    share rules it out without a conversion. The count stops at 5% of the whole sample (Traditional text:
    about a hundred matches); only a text short of that has its CJK characters counted."""
    within = max(2, math.ceil(_TRADITIONAL_SHARE * len(sample)))
    found = _changeable(sample, within)
    return found >= within or found >= max(2, math.ceil(_TRADITIONAL_SHARE * _han_count(sample)))


def is_traditional(text: str) -> bool:
    """True when OpenCC t2s changes at least 5% (and two) of the CJK characters of *text* (its first
    2,000 characters). Simplified text with a Traditional name or two stays Simplified.

    A text with too few characters t2s can change (most Simplified pages) is not converted."""
    sample = text[:_SAMPLE]
    if not _can_change_enough(sample):
        return False
    return _changed_enough(sample, _convert("t2s", sample))


def simplified_form(text: str) -> tuple[bool, str]:
    """``(is_traditional, to_simplified)`` of *text* from one conversion of the whole text, for a text
    that is probably Traditional (a mirror or Big5 page): the judgement reads the conversion's first
    2,000 characters (a phrase across that boundary may count differently than in ``is_traditional``)."""
    sample = text[:_SAMPLE]
    if not _can_change_enough(sample):
        return False, text
    simplified = _convert("t2s", text)
    if len(simplified) != len(text):  # OpenCC's dictionaries never change a length; if one did
        traditional = is_traditional(text)
    else:
        traditional = _changed_enough(sample, simplified[:len(sample)])
    return traditional, simplified if traditional else text


def _changed_enough(sample: str, simplified: str) -> bool:
    """Whether *simplified* (t2s of *sample*) changed 5% (and two) of the CJK characters of *sample*."""
    if simplified == sample:
        return False
    if len(simplified) != len(sample):
        return True  # t2s replaced a phrase by one of another length: it found Traditional text
    # Count changed characters a slice at a time (unchanged slices compare in C), and stop as soon as
    # they are 5% of the whole sample: there are no more CJK characters than that.
    enough = max(2.0, _TRADITIONAL_SHARE * len(sample))
    changed = 0
    for at in range(0, len(sample), _SLICE):
        before, after = sample[at:at + _SLICE], simplified[at:at + _SLICE]
        if before != after:
            changed += sum(map(str.__ne__, before, after))
            if changed >= enough:
                return True
    return changed >= 2 and changed >= _TRADITIONAL_SHARE * _han_count(sample)


def to_simplified(text: str, traditional: bool | None = None) -> str:
    """The Simplified form of a text (OpenCC t2s); Simplified text is returned unchanged.

    Only a text that is Traditional (``is_traditional``, unless the caller already knows) is
    converted, so a Simplified text keeping a character OpenCC would fold (``乾隆``) is not touched.
    """
    if not text or not (is_traditional(text) if traditional is None else traditional):
        return text
    return _convert("t2s", text)


def is_big5_mirror(url: str | None) -> bool:
    """True for a Traditional gateway mirror URL (``/gate/big5/<host>/…``, ``big5.<host>``)."""
    if not url or not _MAYBE_MIRROR.search(url):
        return False
    return canonical_mirror_url(url)[1] in ("big5-gateway", "big5-host")
