"""``kiosk-admin doctor``: check the box and say what to fix, one line per check.

::

    ok: configuration /etc/doorstep/kiosk.toml
    ok: data folder /var/lib/doorstep: 42 events, 0 waiting to be sent
    ok: card reader answers (RC522 on /dev/spidev0.0, reset GPIO25)
    warn: clock not synchronised — check the network and `timedatectl`; check-ins are marked ...
    ok: disk: 11.2 GB free for the data folder
    fail: central server refused the token — put the token from 'kiosk-central device add' ...

Each line is ``ok|warn|fail: what — what to do``; the exit status is 1 if any check failed.
Every check takes what it touches as a parameter (:class:`Probes`): the reader opener, the
clock, disk usage, the server call, systemd's unit states. Tests swap them for fakes, and
``doctor --self-check`` (run by ``scripts/update.sh`` inside a new release before switching to
it) runs only the checks that touch nothing: the config file parses and the code imports.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from kiosk.config import ConfigError, KioskConfig, hardware_settings, load_config
from kiosk.health import assess, read_facts

Level = Literal["ok", "warn", "fail"]

#: Below this much free space for the data folder the kiosk is about to stop recording.
DISK_FAIL_BYTES = 100 * 1024 * 1024
#: Below this much, warn while there is still time.
DISK_WARN_BYTES = 500 * 1024 * 1024
#: ... and the same as a share of the file system (a big disk is "nearly full" sooner):
#: fail under 2 % free, warn under 10 %.
DISK_FAIL_FRACTION = 0.02
DISK_WARN_FRACTION = 0.10
#: Every write makes a new file (write to a temporary file, rename): with fewer free inodes
#: than this, the store cannot write even with bytes to spare.
INODES_FAIL = 1000
#: The newest backup should be younger than this (the timer runs nightly).
BACKUP_WARN = timedelta(days=2)
#: A clock before this is certainly wrong (a Pi without RTC that never saw a network).
EARLIEST_PLAUSIBLE = datetime(2025, 1, 1, tzinfo=UTC)
#: How long the server check waits (connect, read), in seconds.
SERVER_TIMEOUT = (5.0, 10.0)

#: Modules every release must import (the self-check); Kivy itself is only looked for.
SELF_CHECK_MODULES = (
    "kiosk.admin",
    "kiosk.app",
    "kiosk.store",
    "kiosk.backup",
    "kiosk.hardware.select",
    "sync.daemon",
    "sync.client",
)
SELF_CHECK_SCRIPTS = ("kiosk", "kiosk-admin", "kiosk-sync")


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    level: Level
    what: str
    todo: str = ""

    def line(self) -> str:
        return f"{self.level}: {self.what}" + (f" — {self.todo}" if self.todo else "")


def _ok(what: str) -> Finding:
    return Finding("ok", what)


def _warn(what: str, todo: str) -> Finding:
    return Finding("warn", what, todo)


def _fail(what: str, todo: str) -> Finding:
    return Finding("fail", what, todo)


def _unit_active(unit: str) -> bool | None:
    """Whether systemd runs ``unit``; None when this is not a systemd machine."""
    if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
        return None
    result = subprocess.run(
        ["systemctl", "is-active", "--quiet", unit], check=False, capture_output=True
    )
    return result.returncode == 0


def _whoami(config: KioskConfig, token: str) -> Any:
    from sync.client import SyncClient

    client = SyncClient(
        config.sync.endpoint, token, ca_file=config.sync.ca_file, timeout=SERVER_TIMEOUT
    )
    try:
        return client.whoami()
    finally:
        client.close()


def _open_reader(config: Any) -> Any:
    from kiosk.hardware.select import open_reader

    return open_reader(config)


def _clock_synced() -> bool:
    from kiosk.clock import clock_is_synchronised

    return clock_is_synchronised()


def _free_inodes(path: Path) -> tuple[int, int] | None:
    """(free, total) inodes of the file system holding ``path``; None when it has no limit."""
    st = os.statvfs(path)
    return None if st.f_files == 0 else (st.f_favail, st.f_files)


def _mounted_read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def _open_store(data: Path) -> Any:
    """Read-only: the doctor must run, and say so, on a full disk (it never writes)."""
    from kiosk.store import LocalStore

    return LocalStore(data, read_only=True)


@dataclass
class Probes:
    """Everything the checks touch outside this process, swappable in tests."""

    open_reader: Callable[[Any], Any] = _open_reader
    clock_synced: Callable[[], bool] = _clock_synced
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    disk_usage: Callable[[Path], Any] = shutil.disk_usage
    free_inodes: Callable[[Path], tuple[int, int] | None] = _free_inodes
    mounted_read_only: Callable[[Path], bool] = _mounted_read_only
    whoami: Callable[[KioskConfig, str], Any] = _whoami
    unit_active: Callable[[str], bool | None] = _unit_active
    open_store: Callable[[Path], Any] = _open_store
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)


# -- the checks -----------------------------------------------------------------------------------
def check_store(config: KioskConfig, probes: Probes) -> list[Finding]:
    data = config.store.data
    if not data.is_dir():
        return [
            _fail(
                f"data folder {data} does not exist",
                "run scripts/install-pi.sh, or fix [store] data in " + str(config.path),
            )
        ]
    out: list[Finding] = []
    # The store is opened read-only, so it is still checked when nothing can be written.
    if probes.mounted_read_only(data):
        out.append(
            _fail(
                f"data folder {data} is on a file system mounted read-only: check-ins cannot "
                "be saved",
                "the SD card may be failing (the kernel remounts it read-only after errors): "
                "dmesg | grep -i error; back it up to a USB stick (kiosk-admin backup create "
                "--to DIR), then replace the card",
            )
        )
    elif not os.access(data, os.W_OK | os.X_OK):
        out.append(
            _fail(
                f"data folder {data} is not writable by this user",
                "run kiosk-admin as the kiosk user: sudo -u kiosk kiosk-admin doctor",
            )
        )
    try:
        store = probes.open_store(data)
    except Exception as exc:  # any failure to open is what the admin needs to see
        return [
            *out,
            _fail(
                f"store in {data} cannot be read: {exc}",
                "restore the newest backup: kiosk-admin backup list, then backup restore NAME",
            ),
        ]
    try:
        waiting = store.waiting_count()
        highest = store.highest_seq()
        problems = list(store.problems())
        health = assess(read_facts(store), probes.now())
    except Exception as exc:
        return [
            *out,
            _fail(f"store in {data} cannot be read: {exc}", "restore the newest backup"),
        ]
    finally:
        store.close()
    out.append(_ok(f"store in {data} readable: seq up to {highest}, {waiting} waiting to be sent"))
    for problem in problems:
        out.append(_warn(f"store: {problem}", "see the note; kiosk-admin status lists it too"))
    # The same assessment as the volunteer's status dot and kiosk-admin status (the clock
    # has its own check below).
    out.extend(Finding(p.level, p.what, p.todo) for p in health.problems if p.code != "clock")
    return out


def check_identity(config: KioskConfig, probes: Probes) -> list[Finding]:
    from kiosk.identity import IDENTITY_FILE, load_identity

    path = config.store.data / IDENTITY_FILE
    if not path.exists():
        return [
            _warn(
                f"no {path}: this kiosk is not enrolled yet",
                f"kiosk-admin enrol --device {config.device.id} --site {config.device.site}",
            )
        ]
    try:
        held = load_identity(config.store.data)
    except Exception as exc:
        return [_fail(str(exc), "enrol again: kiosk-admin enrol --device ID --site SITE")]
    if (held.device_id, held.site_id) != (config.device.id, config.device.site):
        return [
            _warn(
                f"the data folder says device {held.device_id} at {held.site_id}, "
                f"{config.path} says {config.device.id} at {config.device.site}",
                "make them agree: fix [device] in the config, or kiosk-admin enrol",
            )
        ]
    return [_ok(f"device {held.device_id} at site {held.site_id}")]


def check_disk(config: KioskConfig, probes: Probes) -> list[Finding]:
    """Free space (and inodes) for the data and the backups: fail when nearly full.

    Fail under ``DISK_FAIL_BYTES`` or ``DISK_FAIL_FRACTION`` of the file system free, warn
    under ``DISK_WARN_BYTES`` or ``DISK_WARN_FRACTION``. The line's first part stays
    ``disk: N.N GB free for the data (FOLDER)``; the exact amount is in the advice.
    """
    out = []
    seen: set[int] = set()  # file systems already reported
    for label, folder in (("data", config.store.data), ("backups", config.backup.folder)):
        target = folder if folder.exists() else folder.parent
        if not target.exists() or target.stat().st_dev in seen:
            continue
        seen.add(target.stat().st_dev)
        try:
            usage = probes.disk_usage(target)
        except OSError as exc:
            out.append(_warn(f"cannot tell the free space for {folder}: {exc}", "df -h"))
            continue
        out.append(_disk_finding(label, folder, usage))
        try:
            inodes = probes.free_inodes(target)
        except OSError:
            inodes = None  # the byte count above is what matters most; df -i tells the rest
        if inodes is not None and inodes[0] < INODES_FAIL:
            out.append(
                _fail(
                    f"disk: {inodes[0]} of {inodes[1]} inodes free for the {label} ({folder}): "
                    "no room for new files, so check-ins cannot be saved",
                    "df -i; remove many small files (old backups, sudo journalctl "
                    "--vacuum-size=20M, sudo apt clean)",
                )
            )
    return out


_FREE_SPACE_NOW = (
    "free space now: delete old backups (kiosk-admin backup list), "
    "sudo journalctl --vacuum-size=20M, sudo apt clean"
)


def _disk_finding(label: str, folder: Path, usage: Any) -> Finding:
    free = int(usage.free)
    total = getattr(usage, "total", None)
    share = free / total if total else None  # total unknown (a probe without it): bytes only
    text = f"disk: {free / 1e9:.1f} GB free for the {label} ({folder})"
    left = _amount(free) + (f" ({share:.1%} of {_amount(int(total))})" if share is not None else "")
    if free < DISK_FAIL_BYTES or (share is not None and share < DISK_FAIL_FRACTION):
        if free < 1024 * 1024:
            return _fail(text, f"the disk is full: check-ins cannot be saved; {_FREE_SPACE_NOW}")
        return _fail(
            text,
            f"only {left} left: the kiosk stops saving check-ins when it is full; "
            + _FREE_SPACE_NOW,
        )
    if free < DISK_WARN_BYTES or (share is not None and share < DISK_WARN_FRACTION):
        return _warn(
            text, f"only {left} left: free some space soon (old backups, journalctl --vacuum-size)"
        )
    return _ok(text)


def _amount(size: int) -> str:
    """``12 MB``, ``1.5 GB``: as ``df -h`` would say it, in decimal units."""
    if size >= 10**9:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.0f} MB"


def check_clock(config: KioskConfig, probes: Probes) -> list[Finding]:
    now = probes.now()
    if now < EARLIEST_PLAUSIBLE:
        return [
            _fail(
                f"the clock says {now:%Y-%m-%d %H:%M} UTC, which cannot be right",
                'connect the network (NTP sets it), or set it: sudo date -s "YYYY-MM-DD HH:MM"; '
                "a Pi 3/4 that is often offline needs an RTC (firmware-notes, section 8)",
            )
        ]
    if probes.clock_synced():
        return [_ok("clock synchronised")]
    return [
        _warn(
            "clock not synchronised",
            "check the network and `timedatectl` (NTP); until then check-ins are recorded "
            "with clock_synced=false",
        )
    ]


def check_reader(config: KioskConfig, probes: Probes) -> list[Finding]:
    from kiosk.hardware.base import ReaderError
    from kiosk.hardware.select import describe_reader

    # The same settings the kiosk app opens (doorstep-kiosk.service passes no overrides).
    wanted, _feedback = hardware_settings(config)
    where = describe_reader(wanted)
    if wanted.kind != "fake" and probes.unit_active("doorstep-kiosk.service"):
        return [
            _warn(
                f"card reader not tested ({where}): the kiosk app is using it",
                "to test it: sudo systemctl stop doorstep-kiosk; kiosk-admin doctor; "
                "sudo systemctl start doorstep-kiosk (or look at the kiosk's screen)",
            )
        ]
    try:
        reader = probes.open_reader(wanted)
    except (ReaderError, ImportError, OSError) as exc:
        return [_fail(f"card reader cannot be opened ({where}): {exc}", _reader_todo(config))]
    try:
        if wanted.kind == "rc522":
            reader.reset()  # speaks to the chip: raises if it does not answer
        else:
            reader.read_uid(0.05)
    except ReaderError as exc:
        return [_fail(f"card reader not answering ({where}): {exc}", _reader_todo(config))]
    finally:
        reader.close()
    return [_ok(f"card reader answers ({where})")]


def _reader_todo(config: KioskConfig) -> str:
    if config.reader.kind == "usb":
        return "check the USB plug and [reader] usb_device; ls /dev/input/by-id/"
    return "check SPI is on and the wiring (firmware-notes, sections 2-4); kiosk-admin reader test"


def check_server(config: KioskConfig, probes: Probes) -> list[Finding]:
    endpoint = config.sync.endpoint
    if not endpoint:
        return [
            _warn(
                "no central server set: check-ins stay on this kiosk",
                f"set [sync] endpoint in {config.path}, then sudo systemctl restart doorstep-sync",
            )
        ]
    problem = config.token_problem()
    if problem:
        return [
            _fail(
                f"token file {problem}",
                "put the token from 'kiosk-central device add' in it (owner root, group "
                "kiosk, mode 0640), then sudo systemctl restart doorstep-sync",
            )
        ]
    token = config.sync.token_file.read_text(encoding="utf-8").strip()
    try:
        info = probes.whoami(config, token)
    except ImportError:
        return [_warn("cannot check the server: the sync extra is not installed", "update.sh")]
    except Exception as exc:
        kind = type(exc).__name__
        if kind == "AuthRefused":
            return [
                _fail(
                    f"{endpoint} refused this kiosk's token",
                    f"put the token from 'kiosk-central device add' in {config.sync.token_file}",
                )
            ]
        if kind == "ServerUnreachable":
            return [
                _warn(
                    f"{endpoint} not reachable: {exc}",
                    "check the network (ping, DNS) and [sync] endpoint; check-ins are kept "
                    "and sent when it is back",
                )
            ]
        return [
            _fail(
                f"{endpoint} answered something unexpected: {exc}",
                f"check [sync] endpoint in {config.path} (the server's base URL)",
            )
        ]
    if info.device_id != config.device.id:
        return [
            _fail(
                f"{endpoint}: the token belongs to device {info.device_id}, not {config.device.id}",
                "put this kiosk's own token in the token file, or fix [device] id",
            )
        ]
    return [_ok(f"central server {endpoint} answers; the token is device {info.device_id}'s")]


def check_services(config: KioskConfig, probes: Probes) -> list[Finding]:
    out = []
    for unit, todo in (
        (
            "doorstep-kiosk.service",
            "sudo systemctl start doorstep-kiosk; journalctl -u doorstep-kiosk",
        ),
        (
            "doorstep-sync.service",
            "sudo systemctl start doorstep-sync; journalctl -u doorstep-sync",
        ),
        ("doorstep-backup.timer", "sudo systemctl enable --now doorstep-backup.timer"),
    ):
        state = probes.unit_active(unit)
        if state is None:
            return []  # not a systemd machine (a laptop, a container): nothing to say
        out.append(_ok(f"{unit} running") if state else _warn(f"{unit} not running", todo))
    return out


def check_backups(config: KioskConfig, probes: Probes) -> list[Finding]:
    from kiosk.backup import list_backups

    backups, problems = list_backups(config.backup.folder)
    out = [_warn(p, "delete the damaged file") for p in problems]
    if not backups:
        out.append(_warn(f"no backup in {config.backup.folder}", "kiosk-admin backup create"))
        return out
    newest = backups[-1]
    age = probes.now() - newest.created_at
    if age > BACKUP_WARN:
        out.append(
            _warn(
                f"newest backup is {age.days} days old ({newest.name})",
                "systemctl status doorstep-backup.timer; kiosk-admin backup create",
            )
        )
    else:
        out.append(_ok(f"newest backup {newest.name}"))
    return out


CHECKS: tuple[Callable[[KioskConfig, Probes], list[Finding]], ...] = (
    check_store,
    check_identity,
    check_disk,
    check_clock,
    check_reader,
    check_server,
    check_services,
    check_backups,
)


# -- the self-check (a new release, before switching to it) ---------------------------------------
def self_check(config_file: Path | None, probes: Probes) -> list[Finding]:
    out: list[Finding] = []
    for module in SELF_CHECK_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:
            out.append(_fail(f"cannot import {module}: {exc}", "the release is broken: rebuild"))
    if importlib.util.find_spec("kivy") is None:  # fine on a box without the touchscreen app
        out.append(
            _warn("Kivy is not installed: the kiosk app cannot start", "install the ui extra")
        )
    missing = [s for s in SELF_CHECK_SCRIPTS if not (probes.bin_dir / s).exists()]
    if missing:
        out.append(
            _fail(
                f"commands missing from {probes.bin_dir}: {', '.join(missing)}",
                "the release is broken: rebuild",
            )
        )
    if not any(f.level == "fail" for f in out):
        out.insert(0, _ok("code imports and commands are in place"))
    if config_file is not None:
        out.extend(_config_finding(config_file)[0])
    return out


def _config_finding(path: Path) -> tuple[list[Finding], KioskConfig | None]:
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [_fail(str(exc), "fix that line; kiosk-admin config check checks it again")], None
    return [_ok(f"configuration {path}")], config


def run_doctor(
    config_file: Path | None,
    probes: Probes | None = None,
    checks: Iterable[Callable[[KioskConfig, Probes], list[Finding]]] = CHECKS,
    self_check_only: bool = False,
) -> list[Finding]:
    """Every check's findings, in order (the config first)."""
    probes = probes or Probes()
    if self_check_only:
        return self_check(config_file, probes)
    if config_file is None:
        return [_fail("no configuration file", "scripts/install-pi.sh writes one")]
    found, config = _config_finding(config_file)
    if config is None:
        return found
    for check in checks:
        try:
            found.extend(check(config, probes))
        except Exception as exc:  # a check that breaks must not hide the others
            found.append(
                _fail(f"{check.__name__.removeprefix('check_')} check failed: {exc}", "report it")
            )
    return found


def exit_status(findings: Iterable[Finding]) -> int:
    return 1 if any(f.level == "fail" for f in findings) else 0
