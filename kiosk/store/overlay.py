"""What a read-only store's repairs would have written, kept in memory: ``Overlay``.

A store opened for reading (``LocalStore(..., read_only=True)``: ``kiosk-admin status``,
``doctor``, ``export``, the lists) runs the same repairs as a writer (finishing a write cut
short, setting an unreadable file aside, rebuilding a projection), so it reads what the next
writer will see; but each repair's files land here instead of on the disk. The disk is left
exactly as it was (it may be full, or mounted read-only), and the kiosk app or ``kiosk-sync``
makes the same repairs for real the next time it uses the store.

Every ``AtomicJSONStorage`` of one read-only store shares one overlay, so a file written by
one repair is what every later reader of that path sees, and a file "moved to quarantine"
reads as missing.
"""

from __future__ import annotations

import os
from typing import Any

Tables = dict[str, dict[str, Any]]


class Overlay:
    """In-memory replacements for files: ``path -> tables``, or None for a file set aside."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[int, Tables | None]] = {}
        self._version = 0

    def get(self, path: str | os.PathLike[str]) -> tuple[int, Tables | None] | None:
        """``(version, tables or None)`` when the overlay replaces ``path``, else None.

        ``version`` changes at every ``put`` so storages can tell that the content changed.
        """
        return self._files.get(os.path.abspath(os.fspath(path)))

    def put(self, path: str | os.PathLike[str], tables: Tables | None) -> int:
        """Replace ``path`` (None: the file reads as missing); returns the new version."""
        self._version += 1
        self._files[os.path.abspath(os.fspath(path))] = (self._version, tables)
        return self._version

    def hides(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` exists on disk but reads as missing here (set aside)."""
        entry = self.get(path)
        return entry is not None and entry[1] is None
