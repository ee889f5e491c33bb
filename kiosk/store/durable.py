"""A TinyDB storage that survives power cuts: ``AtomicJSONStorage``.

TinyDB's own ``JSONStorage`` rewrites its file in place (seek, write, truncate), so a power cut
in the middle leaves half a file. This storage never touches the live file: it writes a temporary
file in the same folder, fsyncs it, renames it over the old one (``os.replace`` is atomic on
POSIX) and fsyncs the folder so that the rename itself is on disk. After a crash the file holds
either the old content or the new, never a mix.

It also keeps what it last read or wrote in memory and re-parses the file only when the file was
replaced. The check is exact, not a guess from timestamps: the storage keeps the version it knows
open, so that version's inode number cannot be reused, and the file is unchanged exactly when the
path still names that inode (every write makes a new inode; nothing writes in place).

    >>> from tinydb import TinyDB                                          # doctest: +SKIP
    >>> db = TinyDB("data/state/example.json", storage=AtomicJSONStorage)  # doctest: +SKIP
    >>> db.insert({"greeting_name": "Sam"})                                # doctest: +SKIP
    1

Not thread-safe on its own; ``LocalStore`` serialises access and holds the folder's file lock
around every write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tinydb.storages import Storage

from kiosk.domain.errors import KioskError
from kiosk.store.atomic import atomic_write, fsync_dir
from kiosk.store.errors import CorruptFileError, StoreError

if TYPE_CHECKING:
    from kiosk.store.overlay import Overlay

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

Tables = dict[str, dict[str, Any]]


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def dump_json(value: Any) -> str:
    return _ENCODE(value)


def _dump_key(key: str) -> str:
    return f'"{key}"' if key.isdigit() else _ENCODE(key)


def _copy_tree(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), much faster than ``deepcopy``."""
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_tree(v) for v in value]
    return value


def _ends_unfinished(text: str) -> bool:
    """Whether JSON ``text`` stops inside a string or with brackets still open (cut short)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
    return in_string or depth > 0


def parse_tables(raw: bytes, path: str) -> Tables:
    if not raw.strip():
        raise CorruptFileError(
            path,
            f"the file is empty ({len(raw)} bytes): its content was lost, maybe in a power cut",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(
            path, f"the file is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if "\x00" in text:
            nul = text.index("\x00")
            raise CorruptFileError(
                path,
                f"the file contains zero bytes from offset {nul} of {len(raw)}: a write was cut "
                "off, maybe by a power cut",
            ) from None
        if exc.pos >= len(text.rstrip()) or _ends_unfinished(text):
            raise CorruptFileError(
                path, f"the file is truncated: its JSON stops unfinished after {len(raw)} bytes"
            ) from None
        raise CorruptFileError(
            path, f"the file is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(data, dict):
        raise CorruptFileError(
            path, f"the file is not a TinyDB database: it holds a {type(data).__name__}, not tables"
        )
    for name, table in data.items():
        if not isinstance(table, dict):
            raise CorruptFileError(path, f"table {name!r} is a {type(table).__name__}, not a table")
        for doc_id, doc in table.items():
            if not isinstance(doc, dict):
                raise CorruptFileError(
                    path, f"document {doc_id} of table {name!r} is not an object"
                )
    return data


class AtomicJSONStorage(Storage):
    """TinyDB storage: atomic, fsync'd replacement on write; exact, cheap change detection on read.

    ``read()`` and ``write()`` are TinyDB's interface. ``peek()`` gives the store the parsed
    content without copying (callers must not change it), and ``generation`` changes whenever
    the content this object sees changes, so callers can key their own caches on it.

    With an ``overlay`` (a read-only store's, ``kiosk.store.overlay``) nothing is ever written
    to the disk: ``write`` and ``remove`` change the overlay, and reads see the overlay's
    version of the file when it has one.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        create_dirs: bool = True,
        overlay: Overlay | None = None,
    ) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.folder = os.path.dirname(os.path.abspath(self.path))
        self.overlay = overlay
        self._overlay_seen: int | None = None  # the overlay version _data holds
        if create_dirs and overlay is None:
            os.makedirs(self.folder, exist_ok=True)
        self._fd: int | None = None  # keeps the known version's inode from being reused
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of that version
        self._data: Tables | None = None
        # (table, doc id) -> (the document object written, its JSON): unchanged documents are
        # not serialised again. Identity is safe because we keep a reference to the object.
        self._memo: dict[tuple[str, str], tuple[object, str]] = {}
        # table -> ((doc id, document) pairs, their JSON joined) as last written
        self._joined: dict[str, tuple[list[tuple[str, object]], str]] = {}
        #: Changes whenever the content seen through this object changes.
        self.generation = 0

    # -- TinyDB's interface --------------------------------------------------------------------
    def read(self) -> Tables | None:
        """A private copy of the content (TinyDB changes what it reads before writing it back)."""
        data = self.peek()
        return None if data is None else _copy_tree(data)

    def write(self, data: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the file with ``data``, durably. Do not change ``data`` in place afterwards."""
        tables: Tables = {str(k): dict(v) for k, v in data.items()}
        if self.overlay is not None:
            self._unpin()
            self._overlay_seen = self.overlay.put(self.path, tables)
        else:
            self.replace_file(self._serialise(tables))
        self._data = tables
        self.generation += 1

    def close(self) -> None:
        """Forget the cached content and release the file handle; safe to call twice."""
        self._unpin()
        self._data = None
        self._overlay_seen = None
        self._memo = {}
        self._joined = {}

    # -- for the store -------------------------------------------------------------------------
    def peek(self) -> Tables | None:
        """The current content (None when there is no file), shared: do not change it.

        Costs one ``stat`` when the file has not been replaced since it was last seen.
        """
        if self.overlay is not None:
            entry = self.overlay.get(self.path)
            if entry is not None:
                version, data = entry
                if self._overlay_seen != version:
                    self._unpin()
                    self._data, self._overlay_seen = data, version
                    self._memo, self._joined = {}, {}
                    self.generation += 1
                return self._data
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._data is not None or self._fd is not None:
                self.close()
                self.generation += 1
            return None
        if self._identity == (st.st_dev, st.st_ino):
            return self._data
        self._load()
        return self._data

    def exists(self) -> bool:
        entry = self.overlay.get(self.path) if self.overlay is not None else None
        if entry is not None:
            return entry[1] is not None
        return os.path.exists(self.path)

    def remove(self) -> None:
        """Delete the file durably (unlink, then fsync the folder)."""
        self.close()
        if self.overlay is not None:
            self.overlay.put(self.path, None)
            self.generation += 1
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return
        self.generation += 1
        fsync_dir(self.folder)

    def forget(self) -> None:
        """Drop the cache so that the next read parses the file again (after it was moved)."""
        self.close()
        self.generation += 1

    # -- internals -----------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | _O_CLOEXEC)
        except FileNotFoundError:
            self.close()
            self.generation += 1
            return
        try:
            st = os.fstat(fd)
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            data = parse_tables(b"".join(chunks), self.path)
        except BaseException:
            os.close(fd)
            raise
        self._pin(fd, st)
        self._data = data
        self._memo = {}
        self._joined = {}
        self.generation += 1

    def _serialise(self, tables: Tables) -> bytes:
        """The JSON of ``tables``, reusing what the last write already serialised.

        A table whose documents are the last write's (the same objects, in the same order)
        followed by new ones (an append: the common case) costs only the new documents.
        """
        out: list[str] = []
        joined_now: dict[str, tuple[list[tuple[str, object]], str]] = {}
        for name, table in tables.items():
            items = [(str(k), v) for k, v in table.items()]
            joined: str | None = None
            previous = self._joined.get(name)
            if previous is not None:
                old_items, old_joined = previous
                count = len(old_items)
                if len(items) >= count and all(
                    a[0] == b[0] and a[1] is b[1] for a, b in zip(items, old_items, strict=False)
                ):
                    extra = [self._doc_text(name, k, v) for k, v in items[count:]]
                    joined = ",".join([old_joined, *extra]) if old_joined else ",".join(extra)
            if joined is None:
                live = {k for k, _ in items}
                for key in [key for key in self._memo if key[0] == name and key[1] not in live]:
                    del self._memo[key]
                joined = ",".join(self._doc_text(name, k, v) for k, v in items)
            joined_now[name] = (items, joined)
            out.append(f"{_dump_key(name)}:{{{joined}}}")
        self._joined = joined_now
        return f"{{{','.join(out)}}}".encode()

    def _doc_text(self, table: str, doc_id: str, doc: object) -> str:
        key = (table, doc_id)
        known = self._memo.get(key)
        if known is not None and known[0] is doc:
            text = known[1]
        else:
            text = dump_json(doc)
            self._memo[key] = (doc, text)
        return f"{_dump_key(doc_id)}:{text}"

    def replace_file(self, payload: bytes) -> None:
        try:
            try:
                fd = atomic_write(self.path, payload, keep_open=True)
            except FileNotFoundError:
                os.makedirs(self.folder, exist_ok=True)
                fd = atomic_write(self.path, payload, keep_open=True)
        except OSError as exc:
            if isinstance(exc, KioskError):
                raise
            raise StoreError(f"could not write {self.path}: {exc.strerror or exc}") from exc
        assert fd is not None
        # The new file's descriptor names the live version: keep it as the pin.
        self._pin(fd, os.fstat(fd))

    def _pin(self, fd: int, st: os.stat_result) -> None:
        old = self._fd
        self._fd = fd
        self._identity = (st.st_dev, st.st_ino)
        if old is not None:
            os.close(old)

    def _unpin(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._identity = None

    def __del__(self, _close: Any = os.close) -> None:  # pragma: no cover - at exit
        # Close the pinned descriptor of a storage dropped without close(). os.close is bound
        # as a default because module globals may already be gone at interpreter exit.
        fd, self._fd = self._fd, None
        if fd is not None:
            try:  # noqa: SIM105
                _close(fd)
            except OSError:
                pass
