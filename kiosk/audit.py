"""The kiosk's audit log: who unlocked volunteer mode, who changed what, in ``DATA/audit.jsonl``.

One JSON object a line, each chained to the one before by the chain the server's log uses too
(``kiosk.domain.auditchain``): ``hash = sha256(prev + content)``, so an edited, removed or
inserted line breaks the chain at that line (``kiosk-admin audit verify``). The file is only
ever opened for appending (``O_APPEND``), one line per write, fsync'd before ``record``
returns; a lock file keeps the app and ``kiosk-admin`` from interleaving.

What is recorded: volunteer PINs accepted and refused (``kiosk.store.volunteers``); families
registered or changed, cards given or taken, and families signed in by a volunteer on the
touchscreen (:class:`AuditedStore`, which the app puts between ``DoorDesk`` and the store);
every ``kiosk-admin`` command that changes something (:func:`record_admin_command`). Card taps
are not: they are events already, and the door must stay quick.

A damaged file (a line cut short by a power cut, or one that does not follow the chain) is
moved to ``quarantine/`` with a note, the way the store moves its own unreadable files, and a
new chain starts with an ``audit.restarted`` line naming the old file and its last good hash.
Recording never stops the door: if the log cannot be written, the reason is logged and the
kiosk carries on.

    >>> log = KioskAudit(tmp_path)                                      # doctest: +SKIP
    >>> log.record("Jo", "volunteer.pin_ok")                             # doctest: +SKIP
    >>> log.verify().ok                                                  # doctest: +SKIP
    True
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from filelock import FileLock, Timeout

from kiosk.cli_io import os_actor
from kiosk.domain.auditchain import GENESIS, Break, ChainWalk, link_hash, secret_in
from kiosk.domain.auditchain import canonical as _canonical
from kiosk.store.durable import fsync_dir
from kiosk.store.layout import QUARANTINE_DIR, REASON_SUFFIX

log = logging.getLogger("kiosk.audit")

AUDIT_FILE = "audit.jsonl"
#: How much of the file's end is read to find the last line (lines are far shorter).
_TAIL_BYTES = 64 * 1024
_MAX_TEXT = 200


class AuditDamaged(Exception):
    """The audit file's last line cannot be chained onto (the message says why)."""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: int
    head: str
    broken_line: int | None = None
    problem: str = ""


def _fields(entry: Mapping[str, Any]) -> list[Any]:
    """What a line's hash covers: everything on it but ``prev`` and ``hash``."""
    return [
        entry["n"],
        entry["at"],
        entry["actor"],
        entry["action"],
        entry["subject"],
        entry["detail"],
    ]


def line_hash(
    prev: str, n: int, at: str, actor: str, action: str, subject: str, detail: Any
) -> str:
    """A line's hash, chained onto ``prev``."""
    return link_hash(prev, [n, at, actor, action, subject, detail])


def _expected(entry: Mapping[str, Any]) -> str:
    return link_hash(entry["prev"], _fields(entry))


def _parse(line: bytes) -> dict[str, Any]:
    entry = json.loads(line.decode("utf-8"))
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    for key, kind in (("n", int), ("prev", str), ("hash", str), ("at", str)):
        if not isinstance(entry.get(key), kind):
            raise ValueError(f"no {key!r}")
    return entry


def _clean_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(detail or {})
    secret = secret_in(out)
    if secret:
        raise ValueError(f"{secret}: secrets are never written to the audit log")
    return out


class KioskAudit:
    """The audit file of one data folder. ``clock`` gives the time (tests pass their own)."""

    def __init__(self, data_dir: Path | str, clock: Callable[[], datetime] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / AUDIT_FILE
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = FileLock(str(self.path) + ".lock", timeout=10)

    # -- writing ----------------------------------------------------------------------------
    def record(
        self,
        actor: str,
        action: str,
        subject: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> bool:
        """Append one line; False (and a log message) if it could not be written."""
        clean = _clean_detail(detail)
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with self._lock:
                try:
                    n, prev = self._tail()
                except AuditDamaged as exc:
                    n, prev = self._restart(str(exc))
                self._append(n + 1, prev, actor, action, subject, clean)
            return True
        except (OSError, Timeout) as exc:
            log.error("audit: could not record %s by %s: %s", action, actor, exc)
            return False

    def _append(
        self, n: int, prev: str, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> str:
        at = self.clock().astimezone(UTC).isoformat(timespec="microseconds")
        actor, subject = (actor or "unknown")[:_MAX_TEXT], (subject or "")[:_MAX_TEXT]
        entry = {
            "n": n,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail,
            "prev": prev,
        }
        entry["hash"] = _expected(entry)
        data = (_canonical(entry) + "\n").encode("utf-8")
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.data_dir)
        return str(entry["hash"])

    def _tail(self) -> tuple[int, str]:
        """The last line's number and hash (0 and GENESIS for no file); AuditDamaged if that
        line is cut short or does not hold together."""
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                if size == 0:
                    return 0, GENESIS
                fh.seek(max(0, size - _TAIL_BYTES))
                tail = fh.read()
        except FileNotFoundError:
            return 0, GENESIS
        if not tail.endswith(b"\n"):
            raise AuditDamaged("its last line was cut short (a power cut while it was written?)")
        lines = tail[:-1].split(b"\n")
        if len(lines) == 1 and size > len(tail):
            raise AuditDamaged("its last line is too long to be one of ours")
        try:
            entry = _parse(lines[-1])
            ok = _expected(entry) == entry["hash"]
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            raise AuditDamaged(f"its last line cannot be read ({exc})") from None
        if not ok:
            raise AuditDamaged(f"its last line (number {entry['n']}) was changed after writing")
        return int(entry["n"]), str(entry["hash"])

    def _restart(self, reason: str) -> tuple[int, str]:
        """Move the damaged file aside and start a new chain that says so."""
        last_n, last_hash = self._last_good()
        quarantine = self.data_dir / QUARANTINE_DIR
        quarantine.mkdir(parents=True, exist_ok=True)
        stamp = self.clock().astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        dest = quarantine / f"{stamp}--{AUDIT_FILE}"
        os.replace(self.path, dest)
        fsync_dir(self.data_dir)
        note = dest.with_name(dest.name + REASON_SUFFIX)
        note.write_text(
            f"{AUDIT_FILE} could not be added to: {reason}. It was moved to "
            f"{QUARANTINE_DIR}/{dest.name}; a new audit chain was started.\n",
            encoding="utf-8",
        )
        fsync_dir(quarantine)
        log.warning("audit: %s; moved to %s, new chain started", reason, dest)
        detail = {
            "quarantined": f"{QUARANTINE_DIR}/{dest.name}",
            "reason": reason,
            "last_good_line": last_n,
            "last_good_hash": last_hash,
        }
        head = self._append(1, GENESIS, "kiosk", "audit.restarted", AUDIT_FILE, detail)
        return 1, head

    def _last_good(self) -> tuple[int, str]:
        good = (0, GENESIS)
        for entry, problem in self._walk():
            if problem:
                break
            assert entry is not None
            good = (int(entry["n"]), str(entry["hash"]))
        return good

    # -- reading ----------------------------------------------------------------------------
    def _walk(self) -> Iterator[tuple[dict[str, Any] | None, str]]:
        """Each line as (entry, problem): problem is "" while the chain holds."""
        walk, n = ChainWalk(), 0
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 (closed below; a generator)
        except FileNotFoundError:
            return
        with fh:
            for raw in fh:
                n += 1
                if not raw.endswith(b"\n"):
                    yield None, f"line {n} was cut short"
                    return
                try:
                    entry = _parse(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    yield None, f"line {n} cannot be read ({exc})"
                    return
                try:
                    broken = (
                        Break.UNLINKED
                        if entry["n"] != n
                        else walk.step(entry["prev"], _fields(entry), entry["hash"])
                    )
                except KeyError as exc:
                    yield entry, f"line {n} lacks {exc}"
                    return
                if broken is Break.UNLINKED:
                    yield entry, f"line {n} does not follow the line before it"
                    return
                if broken is Break.CHANGED:
                    yield entry, f"line {n} ({entry.get('action')}) was changed after writing"
                    return
                yield entry, ""

    def entries(self) -> list[dict[str, Any]]:
        """The readable lines, oldest first (up to the first damaged one)."""
        return [e for e, problem in self._walk() if e is not None and not problem]

    def verify(self) -> Verdict:
        head, count = GENESIS, 0
        for entry, problem in self._walk():
            if problem:
                return Verdict(False, count, head, count + 1, problem)
            assert entry is not None
            head, count = entry["hash"], count + 1
        return Verdict(True, count, head)


# -- what the touchscreen changes --------------------------------------------------------------
_EVENT_ACTIONS = {
    "member.registered": "family.register",
    "member.updated": "family.update",
    "card.assigned": "card.assign",
    "card.revoked": "card.revoke",
    "attendance.recorded": "attendance.sign_in",
    "attendance.amended": "attendance.amend",
}


def _subject(event: Any) -> str:
    data = event.data
    family = data.get("family")
    if isinstance(family, Mapping):
        return str(family.get("family_id", ""))
    return str(data.get("family_id") or data.get("uid") or "")


class AuditedStore:
    """The store as ``DoorDesk`` sees it, recording in the audit log the events a volunteer
    made (registrations, changes, cards, sign-ins by hand). A card tap names no volunteer and
    passes straight through: one dictionary look-up, no file."""

    def __init__(self, store: Any, audit: KioskAudit) -> None:
        self._store = store
        self._audit = audit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def record(self, events: Sequence[Any]) -> list[Any]:
        saved = self._store.record(events)
        for event in saved:
            volunteer = event.data.get("volunteer")
            action = _EVENT_ACTIONS.get(event.type)
            if volunteer and action:
                detail = {"event_id": event.event_id, "seq": event.seq}
                session = event.data.get("session")
                if isinstance(session, Mapping) and session.get("key"):
                    detail["session"] = session["key"]
                self._audit.record(str(volunteer), action, _subject(event), detail)
        return saved


# -- kiosk-admin -------------------------------------------------------------------------------
#: (command, action) -> (audit action, the arguments kept as detail). Names, postcodes and PINs
#: are never kept: the family's id and the card's UID are enough to find the event.
_ADMIN: dict[tuple[str, str | None], tuple[str, tuple[str, ...]]] = {
    ("risk", "import"): ("risk.import", ("file", "skip_invalid", "allow_empty", "allow_shrink")),
    ("risk", "import-lsoa"): (
        "risk.import_lsoa",
        ("postcodes", "imd", "most_deprived", "allow_empty", "allow_shrink"),
    ),
    ("family", "add"): ("family.add", ("card",)),
    ("card", "assign"): ("card.assign", ("uid", "family_id")),
    ("card", "revoke"): ("card.revoke", ("uid",)),
    ("session", "add"): ("session.add", ("name", "weekday", "date", "start", "end")),
    ("session", "remove"): ("session.remove", ("slot_id",)),
    ("tap", None): ("attendance.tap", ("uid", "at")),
    ("sign-in", None): ("attendance.sign_in", ("family_id", "volunteer", "at")),
    ("enrol", None): ("device.enrol", ("device", "site", "endpoint")),
    ("rejected", "retry"): ("events.retry_rejected", ("event_ids", "all")),
    ("volunteer", "add"): ("volunteer.add", ("name",)),
    ("volunteer", "remove"): ("volunteer.remove", ("name",)),
    ("volunteer", "unlock"): ("volunteer.unlock", ()),
    ("backup", "restore"): ("backup.restore", ("name", "force")),
}


def record_admin_command(data_dir: Path, args: argparse.Namespace) -> None:
    """After a ``kiosk-admin`` command succeeded: log it if it changes something."""
    key = (args.command, getattr(args, "action", None))
    found = _ADMIN.get(key)
    if found is None or getattr(args, "dry_run", False):
        return
    action, keep = found
    detail: dict[str, Any] = {}
    for name in keep:
        value = getattr(args, name, None)
        if value not in (None, False):
            detail[name] = Path(value).name if name in ("file", "postcodes", "imd") else value
    subject = str(detail.get("family_id") or detail.get("uid") or detail.get("name") or "")
    KioskAudit(data_dir).record(os_actor(), action, subject, {**detail, "via": "kiosk-admin"})


def audit_show(data_dir: Path, out: TextIO) -> int:
    for e in KioskAudit(data_dir).entries():
        detail = _canonical(e["detail"]) if e["detail"] else ""
        print(
            f"{e['n']}\t{e['at'][:19]}Z\t{e['actor']}\t{e['action']}\t{e['subject']}\t{detail}",
            file=out,
        )
    return 0


def audit_verify(data_dir: Path, out: TextIO, err: TextIO) -> int:
    verdict = KioskAudit(data_dir).verify()
    if verdict.ok:
        print(f"audit log intact: {verdict.lines} lines, head {verdict.head}", file=out)
        return 0
    print(f"audit log broken at line {verdict.broken_line}: {verdict.problem}", file=err)
    return 1
