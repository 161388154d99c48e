"""Bytes to text: BOMs, then strict UTF-8, then cp1252, then latin-1; and binary detection."""

from __future__ import annotations

import codecs

# How much of a file the binary check looks at, and the share of control bytes it tolerates there:
# fixed properties of the test, not tuning knobs (real text has essentially none).
_BINARY_SAMPLE = 8192
_BINARY_CONTROL_SHARE = 0.05


def decode(raw: bytes) -> tuple[str, str]:
    """Decode bytes sensibly: BOMs, then strict UTF-8, then cp1252, then latin-1 (never fails)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def looks_binary(raw: bytes) -> bool:
    """NUL bytes or many control bytes in the first 8 KiB; UTF-16 text (with a BOM) is not binary."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    sample = raw[:_BINARY_SAMPLE]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > len(sample) * _BINARY_CONTROL_SHARE
