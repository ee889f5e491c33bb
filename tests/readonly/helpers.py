"""Kiosk data folders in the states that used to make reading commands write, and a way to see
whether anything on disk changed."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import timedelta
from pathlib import Path

from kiosk.audit import KioskAudit
from kiosk.domain.desk import DoorDesk
from kiosk.store import LocalStore, projections
from kiosk.store.errors import StoreError
from kiosk.store.volunteers import VolunteerBook
from tests.appliance.helpers import DEVICE, MONDAY, make_kiosk, write_config

#: A temporary file left by a write that was killed half-way (the store removes such files).
STRAY_TEMP = ".seq.json.4242.deadbeef.tmp"


def interrupted_kiosk(data: Path) -> Path:
    """A kiosk whose disk filled up while a family was registered: the family's events are in
    the day file, but ``state/families.json`` could not be written, so ``seq.json`` still holds
    the intent (the next writer finishes it). Plus a temporary file left by a killed write."""
    make_kiosk(data)
    real = projections.Projection.write

    def disk_full(self: projections.Projection, *args: object, **kwargs: object) -> None:
        raise StoreError(f"could not write {self.path}: {os.strerror(errno.ENOSPC)}")

    projections.Projection.write = disk_full  # type: ignore[method-assign]
    try:
        with LocalStore(data) as store:
            desk = DoorDesk(store, DEVICE, clock_synced=lambda: True)
            try:
                desk.register_family(
                    "Latecomer",
                    "WS7 1AA",
                    [("Zed", None)],
                    MONDAY + timedelta(hours=2),
                    card_uid="04FFFF01",
                )
            except StoreError:
                pass
            else:  # pragma: no cover - the set-up itself is wrong
                raise AssertionError("the registration should have hit the full disk")
    finally:
        projections.Projection.write = real  # type: ignore[method-assign]
    assert '"pending":{' in (data / "seq.json").read_text()
    (data / STRAY_TEMP).write_text("{}")
    return data


def damaged_kiosk(data: Path) -> Path:
    """A kiosk with files a power cut spoiled: a day file and the timetable cut short, and the
    risk list pointer unreadable (a writer moves each to quarantine/ and repairs)."""
    kiosk = make_kiosk(data)
    kiosk.visit(MONDAY + timedelta(days=7), name="NextWeek")
    first_day = data / "events" / "2026-11-23.json"
    first_day.write_bytes(first_day.read_bytes()[:-40])
    timetable = data / "state" / "timetable.json"
    timetable.write_bytes(timetable.read_bytes()[:-5])
    (data / "risk" / "current.json").write_text("not json")
    return data


def kiosk_with_config(root: Path, state: str) -> tuple[Path, Path]:
    """``root/data`` in ``state`` ("interrupted" or "damaged"), an empty backup folder, and
    ``root/kiosk.toml`` naming both; returns (data, config)."""
    data = root / "data"
    backups = root / "backups"
    if state == "interrupted":
        interrupted_kiosk(data)
    else:
        damaged_kiosk(data)
    backups.mkdir()
    KioskAudit(data).record("admin", "session.add", "stay-play")
    VolunteerBook(data).add("Jo", "4821")
    config = write_config(root / "kiosk.toml", data, backups)
    return data, config


def snapshot(*folders: Path) -> dict[str, tuple]:
    """Every file's bytes, size, mode, inode and mtime, and every folder's listing, mode and
    mtime: what any write, rename, removal or creation would change."""
    out: dict[str, tuple] = {}
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            st = os.stat(dirpath)
            names = sorted(dirnames + filenames)
            out[dirpath] = ("dir", tuple(names), st.st_mode, st.st_mtime_ns)
            for name in filenames:
                path = os.path.join(dirpath, name)
                st = os.stat(path)
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                out[path] = ("file", digest, st.st_size, st.st_mode, st.st_ino, st.st_mtime_ns)
    return out
