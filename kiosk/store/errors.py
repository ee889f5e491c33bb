"""The store's exceptions, under the domain's root ``KioskError``."""

from __future__ import annotations

import os

from kiosk.domain.errors import KioskError


class StoreError(KioskError):
    """The kiosk's data folder could not be read or written as asked."""


class CorruptFileError(StoreError):
    """A file in the data folder is not what the store wrote: truncated, empty or not JSON.

    ``path`` names the file and ``reason`` says what is wrong with it, in plain words.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class StoreBusyError(StoreError, TimeoutError):
    """Another process held the data folder's lock for longer than the store waits."""


class StoreReadOnlyError(StoreError):
    """A change was asked of a store opened read-only (``LocalStore(..., read_only=True)``)."""
