"""atomic_write: the one way a file is replaced, and every module that replaces one uses it."""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.backup import create_backup
from kiosk.domain.erasure import Erasure
from kiosk.domain.events import DeviceIdentity
from kiosk.identity import save_identity
from kiosk.store import LocalStore, atomic
from kiosk.store.atomic import atomic_write, is_temp_name, temp_target, writer_gone
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.erasure import redact_quarantine
from kiosk.store.volunteers import write_json_atomically

ROOT = Path(__file__).resolve().parents[2]


def test_atomic_write_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"old")
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["a.json"]


def test_atomic_write_can_stream_its_content(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.bin", lambda fh: fh.write(b"streamed"))
    assert (tmp_path / "a.bin").read_bytes() == b"streamed"


def test_a_failed_atomic_write_keeps_the_old_file_and_removes_its_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.json"]


def test_the_temporary_name_says_what_it_was_for_and_who_wrote_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write(tmp_path / "volunteers.json", b"{}")
    [name] = seen
    assert is_temp_name(name)
    assert temp_target(name) == "volunteers.json"
    assert not writer_gone(name)  # this process: it may be writing it now


def test_a_temporary_file_whose_writer_has_ended_is_debris() -> None:
    assert writer_gone(".device.json.999999999.ab12cd34.tmp")
    assert not writer_gone(".device.json.1.ab12cd34.tmp")  # init runs
    assert not writer_gone("device.json")


# -- every caller ---------------------------------------------------------------------------------
def _storage(data: Path) -> Path:
    AtomicJSONStorage(data / "db.json").write({"t": {}})
    return data


def _volunteers(data: Path) -> Path:
    write_json_atomically(data / "volunteers.json", {"format": 1})
    return data


def _identity(data: Path) -> Path:
    save_identity(data, DeviceIdentity("kiosk-1", "site-1"))
    return data


def _quarantine_note(data: Path) -> Path:
    store = LocalStore(data)
    store.close()
    store.layout.seq.write_text("{broken")
    LocalStore(data).close()  # moves it to quarantine/ and writes the note beside it
    return data / "quarantine"


def _quarantine_redacted(data: Path) -> Path:
    store = LocalStore(data)
    try:
        store.layout.quarantine.mkdir(exist_ok=True)
        (store.layout.quarantine / "x.json").write_text('{"family_id": "F-1", "name": "Sam"}')
        erasure = Erasure("F-1", "erased-1", "salt")
        redact_quarantine(store, {"Sam"}, erasure)  # needs only .layout
        assert "Sam" not in (store.layout.quarantine / "x.json").read_text()
    finally:
        store.close()
    return data / "quarantine"


def _backup(data: Path) -> Path:
    save_identity(data, DeviceIdentity("kiosk-1", "site-1"))
    create_backup(data, data.parent / "backups")
    return data.parent / "backups"


WRITERS: dict[str, Callable[[Path], Path]] = {
    "AtomicJSONStorage.write (every store file)": _storage,
    "kiosk.store.volunteers.write_json_atomically": _volunteers,
    "kiosk.identity.save_identity": _identity,
    "LocalStore's quarantine note": _quarantine_note,
    "kiosk.store.erasure: a quarantined file redacted": _quarantine_redacted,
    "kiosk.backup.create_backup": _backup,
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=list(WRITERS))
def test_every_file_replaced_is_fsynced_renamed_by_the_helper_and_its_folder_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Callable[[Path], Path]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    steps: list[tuple[str, str]] = []  # (what, the folder it happened in)
    real_fsync, real_replace = os.fsync, os.replace

    def fsync_spy(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        where = os.readlink(f"/proc/self/fd/{fd}")
        if stat.S_ISDIR(mode):
            steps.append(("fsync folder", where))
        else:
            steps.append(("fsync file", os.path.dirname(where)))
        real_fsync(fd)

    def replace_spy(src: str, dst: str) -> None:
        caller = sys._getframe(1).f_globals["__name__"]
        if is_temp_name(os.path.basename(src)):
            assert caller == atomic.__name__, f"{caller} renames a temporary file of its own"
            steps.append(("replace", os.path.dirname(os.path.abspath(dst))))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync_spy)
    monkeypatch.setattr(os, "replace", replace_spy)
    folder = str(write(data).resolve())
    monkeypatch.undo()
    here = [what for what, where in steps if where == folder]
    replaces = [i for i, what in enumerate(here) if what == "replace"]
    assert replaces, f"nothing was replaced in {folder}: {steps}"
    for i in replaces:
        assert here[i - 1] == "fsync file" and here[i + 1] == "fsync folder", here
    assert not [n for n in os.listdir(folder) if is_temp_name(n)]


#: The only renames outside the helper: moves of whole files or folders, not new content.
MOVES = {
    "kiosk/backup.py": 3,  # a checked backup unpacked into place; the swap of the data folder
    "kiosk/store/quarantine.py": 1,  # an unreadable file moved to quarantine/
    "kiosk/audit.py": 1,  # a damaged audit log moved to quarantine/
    "central/backup.py": 4,  # SQLite copies (the online backup API, not bytes) put in place
    "central/backup_folder.py": 1,  # a finished pg_dump archive put in place
}


def test_no_module_but_the_helper_replaces_a_file_itself() -> None:
    found: dict[str, int] = {}
    for package in ("kiosk", "sync", "central"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            count = len(re.findall(r"\bos\.replace\(", path.read_text(encoding="utf-8")))
            if count and rel != "kiosk/store/atomic.py":
                found[rel] = count
    assert found == MOVES, "write new content with kiosk.store.atomic.atomic_write"


def test_the_store_removes_what_interrupted_writes_left_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    LocalStore(data).close()
    quarantine = data / "quarantine"
    quarantine.mkdir(exist_ok=True)
    debris = [
        quarantine / ".x.json.reason.txt.999999999.ab12cd34.tmp",  # a note cut short
        data / ".device.json.999999999.ab12cd34.tmp",  # its writer has ended
        data / "state" / ".families.json.1.ab12cd34.tmp",  # the store's own
    ]
    running = data / f".volunteers.json.{os.getpid()}.ab12cd34.tmp"  # may be being written
    for path in [*debris, running]:
        path.write_text("{")
    LocalStore(data).close()
    assert [p for p in debris if p.exists()] == []
    assert running.exists()
