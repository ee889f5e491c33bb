"""The kiosk's store: JSON-file journals in one data folder, written through TinyDB's Storage seam.

Events are kept in day journals, families and cards in projections of them, and the outbox and
seq history in small state files; every file is a TinyDB-shaped JSON document written through
``AtomicJSONStorage`` (a TinyDB ``Storage``: atomic replace, fsync). TinyDB's query engine is
not used. ``LocalStore`` (``kiosk.store.local``) is the one public gate; its pieces share the
internal API of ``kiosk.store.core``.

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
