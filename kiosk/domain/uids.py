"""Card UIDs in one form whichever reader read them: upper-case hex, no separators.

RC522 readers give bytes, USB readers type hex or decimal text, admins paste ``04:a2:...``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kiosk.domain.errors import ValidationError

_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"^[0-9A-F]+$")
#: 4-, 7- and 10-byte UIDs (ISO 14443A single, double and triple size).
UID_BYTE_LENGTHS = (4, 7, 10)


class UidError(ValidationError):
    """Text or bytes that are not a card UID."""


def normalise_uid(raw: str | bytes | Sequence[int]) -> str:
    """``04:a2:3b:1c`` or ``b"\\x04\\xa2\\x3b\\x1c"`` to ``04A23B1C``.

    >>> normalise_uid("04:a2:3b:1c")
    '04A23B1C'
    """
    if isinstance(raw, str):
        text = _SEPARATORS.sub("", raw).upper()
        if text.startswith("0X"):
            text = text[2:]
        if not text:
            raise UidError("card UID is empty")
        if not _HEX.match(text):
            raise UidError(f"card UID {raw!r} must be hexadecimal (0-9, A-F)")
        if len(text) % 2 or len(text) // 2 not in UID_BYTE_LENGTHS:
            raise UidError(
                f"card UID {raw!r} has {len(text)} hex digits; a card UID has 8, 14 or 20"
            )
        return text
    data = bytes(raw)
    if len(data) not in UID_BYTE_LENGTHS:
        raise UidError(f"card UID of {len(data)} bytes; a card UID has 4, 7 or 10 bytes")
    return data.hex().upper()
