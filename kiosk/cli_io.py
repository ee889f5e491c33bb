"""Files in and text out for the command lines (``kiosk-admin``, ``kiosk-central``).

A thing every command line gets wrong the same way, done once (the other, output piped to a
command that stops reading, is :mod:`kiosk.pipes`):

* **A file that is not UTF-8** is named with the line and character of its first bad byte, so
  the admin can find it (Python's own message gives a byte offset in a buffer, which means
  nothing to anyone): ``read_text`` for a whole small file, ``utf8_error_at`` for a big one
  streamed in chunks.
* **Who runs the command**, for the audit logs of both (``os_actor``): the person behind
  ``sudo``, not ``root`` or the service account.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kiosk.domain.errors import ValidationError

__all__ = [
    "decode_error_in",
    "os_actor",
    "read_text",
    "utf8_error_at",
]


def utf8_error_at(lines: Iterable[bytes]) -> tuple[int, int, int] | None:
    """``(line, character, byte)`` of the first byte that is not UTF-8, or None.

    ``lines`` are the file's bytes split after each ``\\n`` (iterating a binary file gives
    them). Lines are counted as editors and ``csv`` count them: ``\\r\\n``, ``\\n`` or a lone
    ``\\r`` ends one; ``character`` is 1 for the first character of its line.

    >>> utf8_error_at([b"postcode\\r\\n", b"WS7 1AA,Ynys M\\xf4n\\r\\n"])
    (2, 15, 244)
    """
    before = 0
    for raw in lines:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = raw[: exc.start]  # holds no \\n: only the chunk's last byte can be one
            start = prefix.rfind(b"\r") + 1
            column = len(prefix[start:].decode("utf-8", errors="replace")) + 1
            return before + 1 + prefix.count(b"\r"), column, raw[exc.start]
        before += len(raw.splitlines())
    return None


def _decode_error(path: Path | str, lines: Iterable[bytes]) -> ValidationError:
    found = utf8_error_at(lines)
    where = f"line {found[0]}: " if found else ""
    what = f" (byte 0x{found[2]:02x}, character {found[1]})" if found else ""
    return ValidationError(
        f"{path}: {where}the file is not UTF-8 text{what}; save it as 'CSV UTF-8' (or plain "
        "UTF-8 text) and try again"
    )


def read_text(path: Path) -> str:
    """The whole of a small text file, UTF-8 (a byte-order mark is dropped).

    Raises ``ValidationError`` naming the file: what the system said when it cannot be read,
    the line and character of the first bad byte when it is not UTF-8.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _decode_error(path, data.splitlines(keepends=True)) from None


def decode_error_in(path: Path, shown: str) -> ValidationError:
    """The ``ValidationError`` for a big file found not to be UTF-8 while streaming it: the file
    is read again, line by line, to say where (only on this error path)."""
    with open(path, "rb") as binary:
        return _decode_error(shown, binary)


def os_actor(explicit: str | None = None) -> str:
    """Who runs a command: ``--as NAME``, else ``$SUDO_USER`` (the person behind sudo), else
    ``$USER``, the account's name, or ``$LOGNAME``."""
    for value in (explicit, os.environ.get("SUDO_USER"), os.environ.get("USER")):
        if value and value.strip():
            return value.strip()
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("LOGNAME") or "unknown"
