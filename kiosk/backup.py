"""Backups of the kiosk's data folder, and restoring one without losing newer check-ins.

A backup is one ``.tar.gz`` file in the backup folder (``/var/backups/doorstep``)::

    doorstep-kiosk-hall-1-20261123T023000Z.tar.gz
      manifest.json        when, which device, highest seq, event count, sha256 of every file
      data/...             the data folder's files (seq.json, events/, state/, risk/, ...)

**Consistent.** The files are copied while holding the store's own lock (``<data>/.lock``, the
lock ``LocalStore`` takes for every call, see ``kiosk.store.lock``), so the copy never catches
a tap half written. Only the plain file copy happens under the lock (milliseconds for a data
folder of a few MB); reading the copy, hashing and compressing happen after it is released, so
the door never waits for a backup.

**Restore never loses newer events.** If the data folder holds events the backup lacks (a tap
after the backup was taken), a restore refuses and says how many, which seqs and which days,
and how many of them the server has not yet received. With ``force=True`` it goes ahead but
*merges*: those events are recorded into the restored store (``LocalStore.record`` skips
events it already holds, by ``event_id``), so they are kept and still sent. The data as it was
before is saved as a ``-pre-restore`` backup first, so a restore can itself be undone.

    >>> data, folder = Path("/var/lib/doorstep"), Path("/var/backups/doorstep")
    >>> info = create_backup(data, folder)                          # doctest: +SKIP
    >>> report = restore_backup(data, folder, info.name)            # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from kiosk.domain.errors import KioskError
from kiosk.domain.events import Event
from kiosk.identity import IDENTITY_FILE
from kiosk.store.atomic import atomic_write, fsync_dir, is_temp_name
from kiosk.store.layout import DEFAULT_TZ, LOCK_POLL_SECONDS, LOCK_TIMEOUT_SECONDS, Layout
from kiosk.store.lock import FolderLock

MANIFEST = "manifest.json"
DATA_PREFIX = "data/"
FORMAT = 1
SUFFIX = ".tar.gz"
PRE_RESTORE = "-pre-restore"
#: Work folders this module makes inside the data folder (same file system, so a restore is a
#: few renames); never copied into a backup.
WORK_PREFIX = ".restore-"
#: Units that must be stopped before a restore (kiosk-admin cannot stop them: it is not root).
KIOSK_UNITS = ("doorstep-kiosk.service", "doorstep-sync.service")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class BackupError(KioskError):
    """A backup could not be made, read or restored; the message says what to do."""


class RestoreRefused(BackupError):
    """The restore would lose something (newer events, another kiosk's data) or is unsafe now."""


@dataclass(frozen=True)
class BackupInfo:
    """What a backup's manifest says about it."""

    name: str
    path: Path
    created_at: datetime
    device_id: str
    site_id: str
    highest_seq: int
    events: int
    waiting: int
    first_day: date | None
    last_day: date | None
    files: dict[str, dict[str, Any]] = field(repr=False)
    size: int = 0

    def describe(self) -> str:
        days = f", {self.first_day} to {self.last_day}" if self.first_day else ""
        return (
            f"{self.events} event(s) (seq up to {self.highest_seq}{days}), "
            f"{self.waiting} not yet sent"
        )


@dataclass
class RestoreReport:
    """What a restore did, in lines for the admin."""

    backup: BackupInfo
    merged: list[Event] = field(default_factory=list)
    pre_restore: BackupInfo | None = None
    replaced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- helpers --------------------------------------------------------------------------------------
def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _day(event: Event) -> date:
    return event.at.astimezone(DEFAULT_TZ).date()


def span_text(events: list[Event]) -> str:
    """``seq 4 to 6, recorded 2026-11-30``: which events, for a person."""
    seqs = [e.seq for e in events if e.seq is not None]
    days = sorted(_day(e) for e in events)
    seq_text = f"seq {min(seqs)} to {max(seqs)}" if seqs else "no seq"
    day_text = str(days[0]) if days[0] == days[-1] else f"{days[0]} to {days[-1]}"
    return f"{seq_text}, recorded {day_text}"


def _data_files(root: Path) -> Iterator[Path]:
    """The data folder's files worth keeping (not locks, temporary files or our work folders)."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if not d.startswith(WORK_PREFIX)]
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".lock") or is_temp_name(name):
                continue
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _store_summary(folder: Path) -> dict[str, Any]:
    """Highest seq, kept events, waiting count and days of a store folder (opened read-only in
    spirit: a consistent copy needs no repair, so opening it writes nothing that matters)."""
    from kiosk.store import LocalStore

    with LocalStore(folder) as store:
        events = list(store.events())
        highest = store.highest_seq()
        waiting = store.waiting_count()
    days = sorted(_day(e) for e in events)
    return {
        "highest_seq": highest,
        "events": len(events),
        "waiting": waiting,
        "first_day": days[0].isoformat() if days else None,
        "last_day": days[-1].isoformat() if days else None,
    }


def _read_identity(folder: Path) -> tuple[str, str]:
    try:
        raw = json.loads((folder / IDENTITY_FILE).read_text(encoding="utf-8"))
        return str(raw["device_id"]), str(raw["site_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", ""


def _info_from_manifest(path: Path, manifest: dict[str, Any]) -> BackupInfo:
    try:
        first = manifest.get("first_day")
        last = manifest.get("last_day")
        return BackupInfo(
            name=path.name[: -len(SUFFIX)],
            path=path,
            created_at=datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00")),
            device_id=str(manifest.get("device_id") or ""),
            site_id=str(manifest.get("site_id") or ""),
            highest_seq=int(manifest["highest_seq"]),
            events=int(manifest["events"]),
            waiting=int(manifest.get("waiting", 0)),
            first_day=date.fromisoformat(first) if first else None,
            last_day=date.fromisoformat(last) if last else None,
            files=dict(manifest["files"]),
            size=path.stat().st_size,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BackupError(f"{path}: its manifest cannot be read ({exc})") from None


def read_backup(path: Path) -> BackupInfo:
    """The manifest of one backup file (without unpacking the data)."""
    if not path.is_file():
        raise BackupError(f"no backup file {path}")
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read().decode("utf-8"))
    except (OSError, tarfile.TarError, KeyError, ValueError, EOFError) as exc:
        raise BackupError(f"{path} is not a readable Doorstep backup ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r} is not known here")
    return _info_from_manifest(path, manifest)


# -- create ---------------------------------------------------------------------------------------
def _copy_under_lock(data: Path, stage: Path, lock_timeout: float) -> int:
    """Copy the data folder's files into ``stage`` while holding the store's lock."""
    layout = Layout(data)
    lock = FolderLock(layout.lock, lock_timeout, LOCK_POLL_SECONDS)
    count = 0
    try:
        lock.acquire()
        try:
            for source in _data_files(data):
                target = stage / source.relative_to(data)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                count += 1
        finally:
            lock.release()
    finally:
        lock.close()
    return count


def _unique_name(folder: Path, base: str) -> str:
    name, n = base, 2
    while (folder / (name + SUFFIX)).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def create_backup(
    data: Path,
    folder: Path,
    now: datetime | None = None,
    *,
    suffix: str = "",
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> BackupInfo:
    """Back the data folder up into ``folder``; returns the new backup's manifest."""
    now = now or datetime.now(UTC)
    data = Path(data)
    folder = Path(folder)
    if not data.is_dir() or not any(_data_files(data)):
        raise BackupError(f"{data} holds no kiosk data to back up (is the data folder right?)")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        work = Path(tempfile.mkdtemp(prefix=".incoming-", dir=folder))
    except OSError as exc:
        raise BackupError(f"cannot write to the backup folder {folder}: {exc.strerror}") from None
    try:
        stage = work / "data"
        stage.mkdir()
        _copy_under_lock(data, stage, lock_timeout)
        summary = _store_summary(stage)
        device_id, site_id = _read_identity(stage)
        files = {}
        for path in _data_files(stage):
            rel = path.relative_to(stage).as_posix()
            files[rel] = {"sha256": _sha256(path), "size": path.stat().st_size}
        manifest = {
            "format": FORMAT,
            "kind": "doorstep-kiosk-backup",
            "created_at": _iso(now),
            "device_id": device_id,
            "site_id": site_id,
            **summary,
            "software": _software_version(),
            "files": files,
        }
        name = _unique_name(folder, f"doorstep-{device_id or 'kiosk'}-{_stamp(now)}{suffix}")
        final = folder / (name + SUFFIX)
        atomic_write(final, lambda raw: _write_archive(raw, stage, manifest, files), mode=0o640)
        return _info_from_manifest(final, manifest)
    except KioskError:
        raise  # e.g. StoreBusyError (also an OSError): its own message says what to do
    except OSError as exc:
        raise BackupError(f"the backup could not be written to {folder}: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _software_version() -> str:
    try:
        from importlib.metadata import version

        return version("doorstep-kiosk")
    except Exception:  # not installed (a checkout): the manifest says so
        return "unknown"


def _tarinfo(name: str, size: int, mode: int, mtime: float, kind: bytes = tarfile.REGTYPE) -> Any:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = int(mtime)
    info.type = kind
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_archive(
    raw: BinaryIO, stage: Path, manifest: dict[str, Any], files: dict[str, Any]
) -> None:
    """The backup archive (manifest first, then the data files) into the open file ``raw``."""
    os.fchmod(raw.fileno(), 0o640)  # whatever the umask
    body = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    mtime = datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00")).timestamp()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        tar.addfile(_tarinfo(MANIFEST, len(body), 0o640, mtime), io.BytesIO(body))
        for rel in files:
            path = stage / rel
            with open(path, "rb") as fh:
                tar.addfile(_tarinfo(DATA_PREFIX + rel, path.stat().st_size, 0o640, mtime), fh)


# -- list and prune -------------------------------------------------------------------------------
def list_backups(folder: Path) -> tuple[list[BackupInfo], list[str]]:
    """Backups in ``folder``, oldest first, and lines about files that are not readable."""
    found: list[BackupInfo] = []
    problems: list[str] = []
    if not Path(folder).is_dir():
        return found, problems
    for path in sorted(Path(folder).glob("*" + SUFFIX)):
        if path.name.startswith("."):
            continue
        try:
            found.append(read_backup(path))
        except BackupError as exc:
            problems.append(str(exc))
    found.sort(key=lambda b: (b.created_at, b.name))
    return found, problems


def prune_backups(folder: Path, keep_days: int, now: datetime | None = None) -> list[BackupInfo]:
    """Delete backups older than ``keep_days``; the newest is always kept. Returns the deleted."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=keep_days)
    backups, _ = list_backups(folder)
    doomed = [b for b in backups[:-1] if b.created_at < cutoff]
    for backup in doomed:
        backup.path.unlink(missing_ok=True)
    for stale in Path(folder).glob(".*"):  # left by a backup that was killed
        if not (stale.name.startswith(".incoming-") or is_temp_name(stale.name)):
            continue
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < (now - timedelta(days=1)).timestamp():
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink()
    if doomed:
        fsync_dir(folder)
    return doomed


def find_backup(folder: Path, name: str) -> Path:
    """A backup by name (``doorstep-...Z``), file name, or path."""
    candidates = [Path(name)] if "/" in name else []
    if _NAME.match(name):
        candidates += [Path(folder) / name, Path(folder) / (name + SUFFIX)]
    for path in candidates:
        if path.is_file() and path.name.endswith(SUFFIX):
            return path
    raise BackupError(f"no backup {name!r} in {folder} (kiosk-admin backup list shows the names)")


# -- restore --------------------------------------------------------------------------------------
def units_running(units: Iterable[str] = KIOSK_UNITS) -> list[str]:
    """Which of the kiosk's units systemd says are running (none when not under systemd)."""
    import subprocess

    if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
        return []
    running = []
    for unit in units:
        result = subprocess.run(
            ["systemctl", "is-active", "--quiet", unit], check=False, capture_output=True
        )
        if result.returncode == 0:
            running.append(unit)
    return running


def _unpack(archive: Path, info: BackupInfo, stage: Path) -> None:
    """Unpack the data files into ``stage`` and check every hash against the manifest."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if not member.name.startswith(DATA_PREFIX):
                    continue
                rel = member.name[len(DATA_PREFIX) :]
                if rel not in info.files or not member.isfile():
                    raise BackupError(f"{archive}: unexpected entry {member.name} in the backup")
                tar.extract(member, stage.parent / "unpack", filter="data")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{archive} cannot be unpacked ({exc}): the file is damaged") from None
    unpacked = stage.parent / "unpack" / "data"
    for rel, expected in info.files.items():
        path = unpacked / rel
        if not path.is_file():
            raise BackupError(f"{archive}: {rel} is missing from the backup: the file is damaged")
        if _sha256(path) != expected["sha256"]:
            raise BackupError(
                f"{archive}: {rel} does not match its checksum: the backup is damaged, "
                "use another one"
            )
    if unpacked.exists():
        os.replace(unpacked, stage)
    else:
        stage.mkdir()


def _live_events(data: Path) -> tuple[list[Event], set[str], int] | None:
    """Kept events of the live store, the ids still waiting to be sent, and the highest seq;
    None if there is no store in ``data``."""
    from kiosk.store import LocalStore

    if not (data / "seq.json").exists() and not (data / "events").is_dir():
        return None
    with LocalStore(data) as store:
        events = list(store.events())
        waiting = {e.event_id for e in store.pending(max(1, store.waiting_count()))}
        return events, waiting, store.highest_seq()


def _live_history(data: Path) -> Any:
    """What the live store knows of seqs it no longer keeps (``kiosk.store.history``)."""
    from kiosk.store import LocalStore

    with LocalStore(data) as store:
        return store.seq_history() if hasattr(store, "seq_history") else None


def _differing_files(live: Path, restored: Path) -> list[str]:
    """Files other than events and projections that differ (timetable, risk, volunteers...)."""
    out = []
    names = {p.relative_to(live).as_posix() for p in _data_files(live)}
    names |= {p.relative_to(restored).as_posix() for p in _data_files(restored)}
    for rel in sorted(names):
        if rel.startswith(("events/", "quarantine/")) or rel in (
            "seq.json",
            "sync.json",
            "history.json",  # merged, not replaced (kiosk.store.history)
            "state/families.json",
            "state/cards.json",
        ):
            continue
        a, b = live / rel, restored / rel
        if not (a.exists() and b.exists() and _sha256(a) == _sha256(b)):
            out.append(rel)
    return out


def restore_backup(
    data: Path,
    folder: Path,
    name: str,
    force: bool = False,
    now: datetime | None = None,
    *,
    running: Callable[[], list[str]] = units_running,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> RestoreReport:
    """Put a backup back in place of the data folder's contents (see the module's docstring).

    Raises :class:`RestoreRefused` when events recorded after the backup would be lost (unless
    ``force``, which merges them), when the backup is another kiosk's (unless ``force``), or
    while the kiosk app or the sync daemon is running.
    """
    from kiosk.store import LocalStore

    data = Path(data)
    archive = find_backup(folder, name)
    info = read_backup(archive)
    busy = running()
    if busy:
        raise RestoreRefused(
            f"{' and '.join(busy)} running: stop them first "
            f"(sudo systemctl stop {' '.join(u.removesuffix('.service') for u in busy)}), "
            "restore, then start them again"
        )
    data.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=data))
    try:
        stage = work / "data"
        _unpack(archive, info, stage)
        report = RestoreReport(info)
        live_device, _ = _read_identity(data)
        if live_device and info.device_id and live_device != info.device_id and not force:
            raise RestoreRefused(
                f"backup {info.name} is of device {info.device_id}, but this kiosk is "
                f"{live_device}; use --force to restore it here anyway"
            )
        live = _live_events(data)
        if live is not None:
            events, waiting, live_highest = live
            with LocalStore(stage) as restored:
                held = {e.event_id for e in restored.events()}
                missing = [e for e in events if e.event_id not in held]
                if missing:
                    unsent = sum(1 for e in missing if e.event_id in waiting)
                    what = (
                        f"{len(missing)} event(s) that backup {info.name} lacks "
                        f"({span_text(missing)}; {unsent} not yet sent to the server)"
                    )
                    if not force:
                        raise RestoreRefused(
                            f"restore refused: this kiosk holds {what}. Restoring would lose "
                            "them. Use --force to restore and keep them: they are merged into "
                            "the restored store."
                        )
                # Merged under the seq numbers they already have (the server may hold them
                # under those), never renumbered; what the live store knew of pruned seqs too.
                history = _live_history(data)
                if history is not None:
                    restored.merge_seq_history(history)
                if missing:
                    adopted, refused = restored.adopt_events(missing)
                    if refused:
                        raise RestoreRefused(
                            f"restore refused: {len(refused)} event(s) recorded here "
                            f"({span_text(refused)}) have seq numbers that backup {info.name} "
                            "gives to other events, so neither copy can be kept whole: it is "
                            "not a backup of this kiosk's history. Nothing was changed."
                        )
                    report.merged = adopted
                highest = restored.highest_seq()
                if highest < live_highest:
                    # Seqs this kiosk gave out are never given again: the server may hold them.
                    restored.raise_seq_floor(
                        live_highest,
                        f"restored from backup {info.name}; this kiosk had given seq up to "
                        f"{live_highest}",
                    )
                    report.notes.append(
                        f"this kiosk had given seq numbers up to {live_highest}; new events "
                        f"continue from {live_highest + 1} (none is used twice)"
                    )
            report.replaced = _differing_files(data, stage)
            if any(_data_files(data)):
                report.pre_restore = create_backup(
                    data, Path(folder), now, suffix=PRE_RESTORE, lock_timeout=lock_timeout
                )
        else:
            report.notes.append(
                "the data folder was empty: on its first sync the kiosk continues above the "
                "seq numbers the server already knows; start doorstep-sync before the door opens"
            )
        _swap_in(data, stage, work, lock_timeout)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _swap_in(data: Path, stage: Path, work: Path, lock_timeout: float) -> None:
    """Replace the data folder's contents with ``stage``'s, under the store's lock."""
    (stage / ".lock").unlink(missing_ok=True)
    old = work / "old"
    old.mkdir()
    lock = FolderLock(Layout(data).lock, lock_timeout, LOCK_POLL_SECONDS)
    try:
        lock.acquire()
        try:
            for entry in sorted(os.listdir(data)):
                if entry == ".lock" or entry.startswith(WORK_PREFIX):
                    continue
                os.replace(data / entry, old / entry)
            for entry in sorted(os.listdir(stage)):
                os.replace(stage / entry, data / entry)
            for path in _data_files(data):
                _fsync_file(path)
            for folder, _, _ in os.walk(data):
                fsync_dir(folder)
        finally:
            lock.release()
    finally:
        lock.close()
