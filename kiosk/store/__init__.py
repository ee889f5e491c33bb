"""The kiosk's store: crash-safe TinyDB files in one data folder, and the outbox.

The only module that touches the data folder (DESIGN.md, Storage on the kiosk).
"""

from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError, StoreBusyError, StoreError, StoreReadOnlyError
from kiosk.store.local import LocalStore

__all__ = [
    "AtomicJSONStorage",
    "CorruptFileError",
    "LocalStore",
    "StoreBusyError",
    "StoreError",
    "StoreReadOnlyError",
]
