"""Gzip for the archive's files: ISA-L (python-isal) at levels 1-3, zlib at 0 and 4-9.

ISA-L's deflate makes standard gzip members (any gzip reader reads them) at a fraction of zlib's CPU.
A raw WARC of one of the bench's ~50 KB portal pages costs 0.21 ms at ISA-L's level 2 (1.11x the
bytes of the page by `gzip -9`), against 0.53 ms at zlib's level 3 (1.08x), of which 0.18 ms is not
the gzip (bench/bench_gzip.py; real pages of ../shared/eval/zh-dev: 0.34 against 1.04 ms, 1.16x
against 1.11x). Level 0 stays zlib's "stored", and 4-9 stay zlib's, for whoever wants fewer bytes at
any CPU (ARCHIVE_WARC_GZIP_LEVEL).
"""
from __future__ import annotations

import zlib
from typing import Protocol

from isal import isal_zlib

#: The levels ISA-L compresses at (its own 1-3); the others are zlib's.
ISAL_LEVELS = range(1, 4)
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...

    def flush(self, mode: int = ..., /) -> bytes: ...


def compressor(level: int) -> Compressor:
    """A compressor writing one gzip member at `level` (0-9)."""
    if level in ISAL_LEVELS:
        return isal_zlib.compressobj(level, isal_zlib.DEFLATED, _GZIP_WBITS)
    return zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)


def gzip_member(data: bytes, level: int) -> bytes:
    """`data` as one gzip member at `level` (no file name, no time stamp: the same bytes every time)."""
    packer = compressor(level)
    return packer.compress(data) + packer.flush()
