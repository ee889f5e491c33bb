"""Run ``kiosk-admin`` as if the disk under some folders were full, even as root.

    python -m tests.readonly.full_disk FOLDER[:FOLDER...] -- [kiosk-admin arguments]

A full disk answers every attempt to create, change, rename or remove a file with ``ENOSPC``;
``chmod`` cannot stand in for it when the tests run as root. This process makes every such
call under the folders raise ``OSError(ENOSPC)`` (``os.open`` and ``open`` for writing,
``os.replace``/``rename``/``unlink``/``remove``/``mkdir``/``rmdir``, ``os.truncate``,
``os.utime``, ``os.chmod``), then runs ``kiosk.admin.main`` with the arguments. Reading is
untouched, so a command that only reads works exactly as on the real box.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _under(path: Any, roots: Sequence[str]) -> bool:
    if isinstance(path, int):
        return False
    try:
        full = os.path.realpath(os.fsdecode(os.fspath(path)))
    except TypeError:
        return False
    return any(full == root or full.startswith(root + os.sep) for root in roots)


def _full(path: Any) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(os.fspath(path)))


def install(folders: Sequence[str | os.PathLike[str]]) -> Callable[[], None]:
    """From now on, writing under ``folders`` fails as on a full disk; returns the undo."""
    roots = [os.path.realpath(f) for f in folders]
    saved = [(builtins, "open", builtins.open), (io, "open", io.open)]
    real_os_open = os.open
    real_open = builtins.open

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & _WRITE_FLAGS and _under(path, roots):
            raise _full(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+") and _under(file, roots):
            raise _full(file)
        return real_open(file, mode, *args, **kwargs)

    def deny(real: Callable[..., Any], *, both: bool = False) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            paths = args[:2] if both else args[:1]
            for path in paths:
                if _under(path, roots):
                    raise _full(path)
            return real(*args, **kwargs)

        return guarded

    single = ("unlink", "remove", "mkdir", "rmdir", "truncate", "utime", "chmod")
    double = ("replace", "rename", "link", "symlink")
    saved += [(os, name, getattr(os, name)) for name in ("open", *single, *double)]
    os.open = os_open
    builtins.open = open_
    io.open = open_
    for name in single:
        setattr(os, name, deny(getattr(os, name)))
    for name in double:
        setattr(os, name, deny(getattr(os, name), both=True))

    def undo() -> None:
        for module, name, real in saved:
            setattr(module, name, real)

    return undo


@contextlib.contextmanager
def disk_full(folders: Sequence[str | os.PathLike[str]]) -> Iterator[None]:
    """Within the block (in this process), writing under ``folders`` fails with ENOSPC."""
    undo = install(folders)
    try:
        yield
    finally:
        undo()


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    cut = args.index("--")
    install(args[0].split(os.pathsep))
    from kiosk.admin import main as admin_main

    return admin_main(args[cut + 1 :])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
