"""Card UIDs in one form whichever reader read them: upper-case hex, no separators.

RC522 readers give bytes, USB readers type hex (or decimal, converted by the USB reader), admins
paste ``04:a2:3b:1c``. ISO/IEC 14443 cards have 4-, 7- or 10-byte UIDs; 125 kHz readers often
give 4 or 5 bytes, so any length from 4 to 10 bytes is a card number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kiosk.domain.errors import ValidationError

UID_MIN_BYTES = 4
UID_MAX_BYTES = 10

_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX_DIGITS = re.compile(r"[0-9A-F]*")


class UidError(ValidationError):
    """Text or bytes that are not a card UID."""


def normalise_uid(raw: str | bytes | Sequence[int]) -> str:
    """``04:a2:3b:1c`` or ``b"\\x04\\xa2\\x3b\\x1c"`` to ``04A23B1C``.

    >>> normalise_uid("04-a2-3b-1c-5d-6e-80")
    '04A23B1C5D6E80'
    >>> normalise_uid([0x04, 0xA2, 0x3B, 0x1C])
    '04A23B1C'
    """
    if isinstance(raw, bytes | bytearray):
        data = bytes(raw)
    elif isinstance(raw, str):
        text = _SEPARATORS.sub("", raw).upper()
        if text.startswith("0X"):
            text = text[2:]
        if not text:
            raise UidError("The card number is empty.")
        if not _HEX_DIGITS.fullmatch(text):
            raise UidError(
                f"{raw!r} is not a card number: a card number is made of the digits 0-9 and "
                "the letters A-F (hexadecimal)."
            )
        if len(text) % 2:
            raise UidError(
                f"{raw!r} is not a card number: it has an odd number of hex digits "
                f"({len(text)}), so part of it is missing."
            )
        data = bytes.fromhex(text)
    elif isinstance(raw, int):  # bytes(5) would quietly make five zero bytes
        raise UidError(
            f"{raw!r} is not a card number: give the UID as hex text or as a list of bytes."
        )
    else:
        try:
            data = bytes(raw)
        except (TypeError, ValueError) as exc:
            raise UidError(
                f"{raw!r} is not a card number: expected byte values from 0 to 255."
            ) from exc
    if not UID_MIN_BYTES <= len(data) <= UID_MAX_BYTES:
        raise UidError(
            f"{raw!r} is not a card number: it is {len(data)} bytes long, and card numbers are "
            f"{UID_MIN_BYTES} to {UID_MAX_BYTES} bytes."
        )
    return data.hex().upper()
