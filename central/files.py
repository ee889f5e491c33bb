"""The central server's files are its owner's alone, whatever the umask.

The SQLite database holds every family's data, and so do its ``-wal`` and ``-shm``, its backups
and the ``pre-restore-*`` copies ``kiosk-central restore`` keeps. They are created ``0600``
(folders the server creates: ``0700``) with an explicit ``chmod``, since a umask of ``022`` would
otherwise leave them readable by every account on the machine. SQLite gives a database's
``-wal``, ``-shm`` and ``-journal`` the mode of the database file itself, so making the
database file ``0600`` before SQLite first opens it is what keeps those private too.

A folder that already exists is left as it is (it may be shared, e.g. ``/var/backups``): the
files in it are private either way.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("central.files")

FILE_MODE = 0o600
DIR_MODE = 0o700
#: What SQLite keeps beside a database file.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents, each new one ``0700``."""
    path = Path(path).expanduser()
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made by another process meanwhile
        os.chmod(folder, DIR_MODE)


def private_file(path: Path) -> None:
    """Make sure ``path`` exists and is ``0600``: created empty if missing (an empty file is
    an empty SQLite database), tightened if it is more open."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def tighten(path: Path) -> None:
    """``chmod 600`` an existing file if others (or its group) may read or write it."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if mode & 0o077:
        try:
            os.chmod(path, FILE_MODE)
        except PermissionError as exc:  # not ours: say so, but do not stop the server
            log.warning("%s is readable by others and cannot be made private: %s", path, exc)


def private_sqlite(path: Path) -> None:
    """A SQLite database file, its folder and the files beside it, before SQLite opens it."""
    path = Path(path).expanduser()
    private_dir(path.parent)
    private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        tighten(Path(f"{path}{suffix}"))
