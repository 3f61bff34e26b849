"""CRC-32C (Castagnoli): what snapshot transfers are checked with."""
from __future__ import annotations

import importlib
from typing import Any

_native: Any
try:
    _native = importlib.import_module("google_crc32c")    # optional: native speed when installed
except ImportError:
    _native = None


def _table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of `data`, continuing from `crc`. Pure Python (a few MB/s); with the optional
    `google-crc32c` package installed, native speed."""
    if _native is not None:
        return int(_native.extend(crc, bytes(data)))
    crc ^= 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF
