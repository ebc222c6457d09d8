"""How a text is split into SMS segments, as carriers count it.

GSM-7 (3GPP TS 23.038's basic set; a character of its extension table costs two
septets) fits 160 septets in one segment and 153 per segment once split (the
rest carries the header that joins them). A text with any other character goes
as UCS-2: 70 UTF-16 code units in one segment, 67 per segment once split (an
emoji outside the BMP takes two units).

The console's reply box counts the same way in JavaScript (chalicelib/console/sms.js);
tests/unit/test_segments.py holds the two to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = frozenset("^{}\\[~]|€\f")
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class Segments:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int  # 0 for an empty text
    limit: int  # units that fit in `count` segments (one segment's when empty)
    because: tuple[str, ...] = ()  # UCS-2: up to three of the characters that forced it


def segments(text: str) -> Segments:
    septets = 0
    for ch in text:
        if ch in BASIC:
            septets += 1
        elif ch in EXTENDED:
            septets += 2
        else:
            return _ucs2(text)
    count = 0 if septets == 0 else 1 if septets <= GSM_SINGLE else -(-septets // GSM_PART)
    return Segments(Encoding.GSM7, septets, count, GSM_SINGLE if count <= 1 else count * GSM_PART)


def _ucs2(text: str) -> Segments:
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2  # a lone surrogate is one unit, as in JS
    count = 1 if units <= UCS2_SINGLE else -(-units // UCS2_PART)
    odd = dict.fromkeys(ch for ch in text if ch not in BASIC and ch not in EXTENDED)  # first seen first
    return Segments(Encoding.UCS2, units, count, UCS2_SINGLE if count <= 1 else count * UCS2_PART, tuple(odd)[:3])
