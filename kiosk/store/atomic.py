"""One way to replace a file so that a power cut leaves it whole: ``atomic_write``.

The new content goes to a temporary file in the same folder, named
``.<name>.<pid>.<random>.tmp``; the file is flushed and fsync'd, renamed over the old one
(``os.replace`` is atomic on POSIX) and the folder is fsync'd so that the rename itself is on
disk. After a crash the file holds the old content or the new, never a mix, and the only thing
left behind is a temporary file whose name says what it was for and which process wrote it:
``is_temp_name``, ``temp_target`` and ``temp_writer`` let the store's start-up clean-up
(``LocalStore``) and the backup pruning recognise and remove it.

    >>> atomic_write(folder / "device.json", b'{"device_id": "kiosk-1"}\\n')  # doctest: +SKIP

Every module that replaces a file calls this; none renames a temporary file of its own
(``tests/store/test_atomic.py`` checks both).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from typing import BinaryIO

#: Temporary files are named ``.<name>.<pid>.<random>.tmp`` next to the file they replace.
TEMP_SUFFIX = ".tmp"

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

#: What ``atomic_write`` accepts: the bytes, or a function that writes them to the open file.
Content = bytes | Callable[[BinaryIO], object]


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or unlink inside folder ``path`` durable."""
    fd = os.open(os.fspath(path), os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(name: str) -> str:
    """A fresh temporary name for a new version of the file ``name``, in the same folder."""
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary file a write may have left behind after a crash."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _temp_parts(name: str) -> list[str] | None:
    if not is_temp_name(name):
        return None
    parts = name[1 : -len(TEMP_SUFFIX)].rsplit(".", 2)
    return parts if len(parts) == 3 and parts[1].isdigit() else None


def temp_target(name: str) -> str | None:
    """The file a temporary file was to replace: ``.a.json.12.ab12cd34.tmp`` -> ``a.json``."""
    parts = _temp_parts(name)
    return parts[0] if parts else None


def temp_writer(name: str) -> int | None:
    """The process id that wrote a temporary file: ``.a.json.12.ab12cd34.tmp`` -> ``12``."""
    parts = _temp_parts(name)
    return int(parts[1]) if parts else None


def writer_gone(name: str) -> bool:
    """Whether the process that wrote temporary file ``name`` has ended (so it is debris).

    This process and any process still running count as not gone: they may be writing it now.
    """
    pid = temp_writer(name)
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it runs, as another user
        return False
    return False


def atomic_write(
    path: str | os.PathLike[str], data: Content, *, mode: int = 0o644, keep_open: bool = False
) -> int | None:
    """Replace ``path`` with ``data``, durably: a temporary file, fsync, rename, folder fsync.

    ``data`` is the bytes, or a function given the open temporary file to write them (for
    content streamed out, such as an archive). ``mode`` is the new file's permission bits (the
    umask applies). On any failure the temporary file is removed, the old file is untouched, and
    the error is raised as it came. With ``keep_open`` the open descriptor of the new file is
    returned (the caller closes it); otherwise None.
    """
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    tmp = os.path.join(folder, temp_name(os.path.basename(target)))
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, mode)
    try:
        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        else:
            with os.fdopen(fd, "wb", closefd=False) as fh:
                data(fh)
        os.fsync(fd)
        os.replace(tmp, target)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if not keep_open:
        os.close(fd)
        fsync_dir(folder)
        return None
    try:
        fsync_dir(folder)
    except BaseException:
        os.close(fd)
        raise
    return fd
