"""Applying a batch of events from a kiosk (:meth:`CentralDB.ingest`), and the helpers it uses."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update

from central.claims import DateWindow, conflict_reason, differences, implausible_date
from central.db import batch_rows
from central.db.batch_rows import (
    CHILD_COPIES,
    CHUNK,
    InLookup,
    attendance_child_rows,
    erased_families,
    insert_rows,
    insert_tables,
    kept_copy,
)
from central.db.records import Device, dumps, event_subject
from central.db.schema import (
    attendance_children,
    attendances,
    cards,
    children,
    devices,
    erasures,
    event_conflicts,
    events,
    families,
    rejections,
)
from kiosk.domain.erasure import event_family, is_erased, scrub_event
from sync.protocol import (
    MAX_SEQ,
    AttendanceAmendedData,
    AttendanceRecordedData,
    CardData,
    Checked,
    EventResult,
    MemberData,
    validate_event,
)

# -- the lookups of every batch, each built once (batch_rows.InLookup) ---------------------------
#: Events held by id (a retry, or the same id with other content) or by this device's seq (a
#: seq already used by another event): one statement for the two questions every batch asks.
_HELD_OR_SEQ = InLookup(
    select(events.c.event_id, events.c.subject_id, events.c.raw, events.c.device_id, events.c.seq),
    events.c.event_id,
    (events.c.seq, events.c.device_id == bindparam("device")),
)
#: Families held, each with its children (one row per child; a family without any has one
#: row whose ``child_id`` is None): the organisation check, the attendance check and the member
#: updates all ask about the same families, and the attendance check about their children.
_FAMILIES = InLookup(
    select(
        families.c.family_id,
        families.c.org_id,
        families.c.updated_at,
        families.c.registered_at,
        children.c.child_id,
    ).select_from(families.outerjoin(children, children.c.family_id == families.c.family_id)),
    families.c.family_id,
)
_FOREIGN_ATTENDANCES = InLookup(
    select(attendances.c.attendance_id).where(attendances.c.org_id != bindparam("org")),
    attendances.c.attendance_id,
)
_ERASED_TOKENS = InLookup(
    select(erasures.c.token).where(erasures.c.org_id == bindparam("org")),
    erasures.c.token,
    scalars=True,
)
_MEMBER_EVENTS = InLookup(
    select(events.c.subject_id, events.c.raw).where(
        events.c.org_id == bindparam("org"),
        events.c.type.in_(("member.registered", "member.updated")),
    ),
    events.c.subject_id,
)
_REFUSED_SEQS = InLookup(
    select(rejections.c.seq).where(rejections.c.device_id == bindparam("device")),
    rejections.c.seq,
    scalars=True,
)
_REFUSED_DIGESTS = InLookup(
    select(rejections.c.digest).where(rejections.c.device_id == bindparam("device")),
    rejections.c.digest,
    scalars=True,
)
_CONFLICTS_HELD = InLookup(
    select(event_conflicts.c.event_id, event_conflicts.c.digest).where(
        event_conflicts.c.device_id == bindparam("device")
    ),
    event_conflicts.c.event_id,
)
_CARDS = InLookup(
    select(cards.c.uid, cards.c.updated_at).where(cards.c.org_id == bindparam("org")), cards.c.uid
)
_EARLIER_ATTENDANCES = InLookup(
    select(
        attendances.c.attendance_id,
        attendances.c.children_at,
        *(attendances.c[name] for name in CHILD_COPIES),
    ),
    attendances.c.attendance_id,
)
_AMENDMENTS = InLookup(
    select(events.c.subject_id, events.c.at, events.c.seq, events.c.raw).where(
        events.c.type == "attendance.amended"
    ),
    events.c.subject_id,
)


class Batch:
    """One batch being applied inside a transaction (see :meth:`CentralDB.ingest`)."""

    def __init__(
        self,
        conn: Connection,
        device: Device,
        checked: Sequence[Checked],
        now: datetime,
        window: DateWindow | None = None,
    ) -> None:
        self.conn = conn
        self.device = device
        self.checked = list(checked)
        self.now = now
        self.results: list[EventResult | None] = [None] * len(checked)
        #: Member and card events of erased families: kept scrubbed, never applied.
        self.erased_subjects: dict[int, str] = {}
        #: Events whose id is held with other content, and the fields that differ.
        self.conflicts: dict[int, list[str]] = {}
        #: Rows of ``families`` read so far in this batch, every id asked about, and the
        #: children held of each family read.
        self._families_found: dict[str, Any] = {}
        self._families_read: set[str] = set()
        self._children_held: dict[str, set[str]] = {}
        #: Rows to insert, by table, written together once the batch is worked out
        #: (``_write_inserts``): one statement on PostgreSQL where there were six.
        self._inserts: dict[Table, list[dict[str, Any]]] = {}
        if window is None:
            # Read with the token (central.app); a Device made by hand is looked up.
            enrolled = (
                device.enrolled_at
                or conn.execute(
                    select(devices.c.created_at).where(devices.c.device_id == device.device_id)
                ).scalar()
            )
            window = DateWindow.for_device(enrolled or now, now)
        self.window = window

    def _reject(self, index: int, reason: str) -> None:
        self.results[index] = EventResult(
            event_id=self.checked[index].event_id, status="rejected", reason=reason
        )

    def _conflict(self, index: int, paths: list[str]) -> None:
        event_id = self.checked[index].event_id
        self.results[index] = EventResult(
            event_id=event_id, status="conflict", reason=conflict_reason(event_id, paths)
        )
        self.conflicts[index] = paths

    def apply(self) -> list[EventResult]:
        conn, device = self.conn, self.device
        for i, item in enumerate(self.checked):
            if not item.ok:
                self._reject(i, item.reason or "invalid event")
        valid = [i for i, item in enumerate(self.checked) if item.ok]

        # Duplicates: already held (a retry), or sent twice within this batch. The same id
        # with different content is a conflict: the copy held stays.
        ids = sorted({self.checked[i].event.event_id for i in valid})  # type: ignore[union-attr]
        seqs = sorted({self.checked[i].event.seq for i in valid})  # type: ignore[union-attr]
        found = list(_HELD_OR_SEQ.rows(conn, ids, seqs, device=device.device_id))
        asked = set(ids)
        held = {r.event_id: r for r in found if r.event_id in asked}
        seen: dict[str, Mapping[str, Any]] = {}
        fresh: list[int] = []
        for i in valid:
            ev = self.checked[i].event
            assert ev is not None
            if ev.event_id in held or ev.event_id in seen:
                row = held.get(ev.event_id)
                first = json.loads(row.raw) if row is not None else seen[ev.event_id]
                # A copy the server scrubbed (an erased family) cannot be compared.
                scrubbed = row is not None and (
                    is_erased(row.subject_id) or is_erased(event_family(first))
                )
                paths = [] if scrubbed else differences(first, self.checked[i].raw)
                if paths:
                    self._conflict(i, paths)
                else:
                    self.results[i] = EventResult(
                        event_id=self.checked[i].event_id, status="duplicate"
                    )
            else:
                seen[ev.event_id] = self.checked[i].raw
                fresh.append(i)

        # A seq already used by a different event of this device is a kiosk fault: set aside.
        fresh_seqs = {self.checked[i].event.seq for i in fresh}  # type: ignore[union-attr]
        used = {
            r.seq: r.event_id
            for r in found
            if r.device_id == device.device_id and r.seq in fresh_seqs
        }
        keep: list[int] = []
        for i in fresh:
            ev = self.checked[i].event
            assert ev is not None
            if ev.seq in used:
                self._reject(
                    i, f"seq: {ev.seq} is already used by event {used[ev.seq]} from this device"
                )
            else:
                used[ev.seq] = ev.event_id
                keep.append(i)

        keep = self._check_organisation(keep)
        keep = self._scrub_erased(keep)
        keep = self._check_dates(keep)
        keep = self._check_families(keep)
        self._insert_events(keep)
        self._record_rejections()
        self._record_conflicts()
        applied = [i for i in keep if i not in self.erased_subjects]
        self._apply_members(
            [i for i in applied if self.checked[i].event.type.startswith("member.")]
        )  # type: ignore[union-attr]
        self._apply_cards([i for i in applied if self.checked[i].event.type.startswith("card.")])  # type: ignore[union-attr]
        self._apply_attendances(keep)
        self._write_inserts()
        for i in keep:
            self.results[i] = EventResult(event_id=self.checked[i].event_id, status="accepted")
        assert all(r is not None for r in self.results)
        return self.results  # type: ignore[return-value]

    def _write_inserts(self) -> None:
        """The batch's new rows, each table after those its rows refer to. Nothing in the
        batch reads them back before this (``_latest_amendments`` counts the batch's own
        amendments itself); ``holds_up_to`` moves on after."""
        order = (events, families, children, cards, attendances, attendance_children)
        insert_tables(self.conn, [(table, self._inserts.get(table, [])) for table in order])

    def _families_held(self, ids: Iterable[str]) -> dict[str, Any]:
        """The rows held in ``families`` (id, organisation, updated and registered times) for
        ``ids``, each read once per batch: the organisation check, the attendance check and
        the member updates all ask, and nothing writes ``families`` before the member updates
        read them last (``_apply_members``), so the first read answers all three. The same
        read notes each family's children held (``_check_families``), before anything in the
        batch writes them."""
        wanted = list(dict.fromkeys(ids))
        missing = sorted(i for i in wanted if i not in self._families_read)
        if missing:
            for row in _FAMILIES.rows(self.conn, missing):
                self._families_found[row.family_id] = row
                kids = self._children_held.setdefault(row.family_id, set())
                if row.child_id is not None:
                    kids.add(row.child_id)
            self._families_read.update(missing)
        return {i: self._families_found[i] for i in wanted if i in self._families_found}

    # -- checks --------------------------------------------------------------------------------
    def _check_organisation(self, keep: list[int]) -> list[int]:
        """A device may only touch its own organisation's families and attendances."""
        family_ids: set[str] = set()
        attendance_ids: set[str] = set()
        for i in keep:
            data = self.checked[i].data
            if isinstance(data, MemberData):
                family_ids.add(data.family.family_id)
            elif isinstance(data, CardData | AttendanceRecordedData | AttendanceAmendedData):
                family_ids.add(data.family_id)
            if isinstance(data, AttendanceAmendedData):
                attendance_ids.add(data.attendance_id)
        foreign_families = {
            family_id
            for family_id, row in self._families_held(family_ids).items()
            if row.org_id != self.device.org_id
        }
        foreign_attendances = {
            r.attendance_id
            for r in _FOREIGN_ATTENDANCES.rows(
                self.conn, sorted(attendance_ids), org=self.device.org_id
            )
        }
        if not foreign_families and not foreign_attendances:
            return keep
        out = []
        for i in keep:
            data = self.checked[i].data
            family_id = data.family.family_id if isinstance(data, MemberData) else data.family_id  # type: ignore[union-attr]
            field = "data.family.family_id" if isinstance(data, MemberData) else "data.family_id"
            if family_id in foreign_families:
                self._reject(i, f"{field}: family {family_id} belongs to another organisation")
            elif (
                isinstance(data, AttendanceAmendedData)
                and data.attendance_id in foreign_attendances
            ):
                self._reject(
                    i,
                    f"data.attendance_id: attendance {data.attendance_id} belongs to another "
                    "organisation",
                )
            else:
                out.append(i)
        return out

    def _check_dates(self, keep: list[int]) -> list[int]:
        """A kiosk whose clock is synchronised cannot have recorded outside its date window
        (``central.claims``); one whose clock is not is kept, its attendances held for review."""
        out = []
        for i in keep:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None
            if ev.clock_synced:
                day = (
                    date.fromisoformat(data.session.date)
                    if isinstance(data, AttendanceRecordedData)
                    else None
                )
                reason = implausible_date(self.window, ev.at, day)
                if reason:
                    self._reject(i, reason)
                    continue
            out.append(i)
        return out

    def _check_families(self, keep: list[int]) -> list[int]:
        """An attendance names a family the organisation holds (or registers in this batch)
        and only that family's children: a token cannot invent families or children to put
        on the invoice. Erased families are known by their tokens."""
        wanted = [
            i
            for i in keep
            if isinstance(self.checked[i].data, AttendanceRecordedData | AttendanceAmendedData)
        ]
        if not wanted:
            return keep
        org = self.device.org_id
        named = {self.checked[i].data.family_id for i in wanted}
        # Children by family: registered in this batch, held now, or ever listed by a member
        # event (a child taken off a family later still came to the sessions before).
        kids: dict[str, set[str]] = {}
        for i in keep:
            data = self.checked[i].data
            if isinstance(data, MemberData) and i not in self.erased_subjects:
                family = data.family
                kids.setdefault(family.family_id, set()).update(c.child_id for c in family.children)
        plain = sorted(f for f in named if not is_erased(f))
        for family_id, row in self._families_held(plain).items():
            if row.org_id == org:
                kids.setdefault(family_id, set())
        for family_id in plain:
            if family_id in kids:
                kids[family_id].update(self._children_held.get(family_id, ()))
        tokens = set(
            _ERASED_TOKENS.rows(self.conn, sorted(f for f in named if is_erased(f)), org=org)
        )
        unlisted = {
            f
            for i in wanted
            if (f := self.checked[i].data.family_id) in kids
            and not set(self.checked[i].data.children) <= kids[f]
        }
        if unlisted:
            for row in _MEMBER_EVENTS.rows(self.conn, sorted(unlisted), org=org):
                family = json.loads(row.raw).get("data", {}).get("family", {})
                kids[row.subject_id].update(
                    c.get("child_id") for c in family.get("children", []) if isinstance(c, dict)
                )
        out = []
        for i in keep:
            data = self.checked[i].data
            if i not in wanted:
                out.append(i)
                continue
            family_id = data.family_id
            if is_erased(family_id):
                strangers = [c for c in data.children if not c.startswith(family_id + "-")]
                if family_id not in tokens:
                    self._reject(
                        i,
                        f"data.family_id: no family of organisation {org} was erased as "
                        f"{family_id}",
                    )
                    continue
            elif family_id not in kids:
                self._reject(
                    i,
                    f"data.family_id: family {family_id} is not registered in organisation "
                    f"{org} (its member.registered must reach the server first)",
                )
                continue
            else:
                strangers = [c for c in data.children if c not in kids[family_id]]
            if strangers:
                shown = ", ".join(strangers[:5]) + (
                    f" and {len(strangers) - 5} more" if len(strangers) > 5 else ""
                )
                self._reject(
                    i,
                    f"data.children: {shown} {'is' if len(strangers) == 1 else 'are'} not "
                    f"a child of family {family_id}",
                )
                continue
            out.append(i)
        return out

    def _scrub_erased(self, keep: list[int]) -> list[int]:
        """Events about a family erased on the server: a kiosk that had not heard of
        it yet still sends them. Stored scrubbed (family and children as their tokens), so the
        attendances still count; member and card events are not applied. Refused ones are kept
        aside scrubbed too."""
        named = {f for item in self.checked if (f := event_family(item.raw))}
        erased = erased_families(self.conn, self.device.org_id, named) if named else {}
        if not erased:
            return keep
        kept = set(keep)
        out: list[int] = []
        for i, item in enumerate(self.checked):
            erasure = erased.get(event_family(item.raw) or "")
            if erasure is None:
                if i in kept:
                    out.append(i)
                continue
            clean = scrub_event(item.raw, erasure)
            if i in kept:
                again = validate_event(clean, self.device.device_id, self.device.site_id)
                self.checked[i] = again
                if not again.ok:
                    self._reject(i, again.reason or "invalid event")
                    continue
                if not str(clean.get("type", "")).startswith("attendance."):
                    self.erased_subjects[i] = erasure.token
                out.append(i)
            elif self.results[i] is not None and self.results[i].status == "rejected":  # type: ignore[union-attr]
                reason = (self.results[i].reason or "").replace(erasure.family_id, erasure.token)  # type: ignore[union-attr]
                self.checked[i] = Checked(clean, reason=reason)
                self._reject(i, reason)
        return out

    # -- writes --------------------------------------------------------------------------------
    def _insert_events(self, keep: list[int]) -> None:
        rows = []
        for i in keep:
            item = self.checked[i]
            ev = item.event
            assert ev is not None
            rows.append(
                {
                    "event_id": ev.event_id,
                    "org_id": self.device.org_id,
                    "site_id": ev.site_id,
                    "device_id": ev.device_id,
                    "seq": ev.seq,
                    "type": ev.type,
                    "at": ev.at,
                    "clock_synced": ev.clock_synced,
                    "subject_id": self.erased_subjects.get(i) or event_subject(item),
                    "received_at": self.now,
                    "raw": item.text if item.text is not None else dumps(item.raw),
                }
            )
        self._inserts[events] = rows

    def _record_rejections(self) -> None:
        """Keep what was refused, so the server can say it holds that seq (set aside).

        Bounded: the same refused event is kept once (by its digest), a refused
        event is kept only up to ``REJECTED_RAW_KEPT`` characters, and a device keeps at most
        ``REJECTIONS_KEPT`` refusals; past that each is still answered ``rejected`` but only
        counted (``devices.unkept_rejections``), and kiosk health says so.
        """
        rows: dict[int | None, dict[str, Any]] = {}
        loose: dict[str, dict[str, Any]] = {}
        for item, result in zip(self.checked, self.results, strict=True):
            if result is None or result.status != "rejected":
                continue
            raw = item.raw if isinstance(item.raw, Mapping) else {}
            seq = raw.get("seq")
            fits = isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= MAX_SEQ
            seq = seq if fits else None  # a seq the columns cannot hold is kept as loose
            text_, digest = kept_copy(raw)
            row = {
                "device_id": self.device.device_id,
                "seq": seq,
                "event_id": (item.event_id or None) and item.event_id[:80],
                "reason": result.reason or "",
                "raw": text_,
                "received_at": self.now,
                "digest": digest,
            }
            if seq is None:
                loose.setdefault(digest, row)
            else:
                rows[seq] = row
        if not rows and not loose:
            return
        device_id = self.device.device_id
        fresh: list[dict[str, Any]] = []
        if rows:
            # A seq also held as an accepted event (a "seq already used" refusal) stays held
            # by that event; a seq refused before (the kiosk sent it again) is kept once.
            held = set(_REFUSED_SEQS.rows(self.conn, sorted(rows), device=device_id))
            fresh.extend(row for seq, row in rows.items() if seq not in held)
        if loose:
            known = set(_REFUSED_DIGESTS.rows(self.conn, sorted(loose), device=device_id))
            fresh.extend(row for digest, row in loose.items() if digest not in known)
        if not fresh:
            return
        # Refusals with a seq first: they are what lets holds_up_to move on.
        fresh.sort(key=lambda row: row["seq"] is None)
        self._keep_within_quota(rejections, fresh)

    def _record_conflicts(self) -> None:
        """Each different copy of a held event, once, within the same quota as refusals."""
        if not self.conflicts:
            return
        device_id = self.device.device_id
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for i, paths in self.conflicts.items():
            text_, digest = kept_copy(self.checked[i].raw)
            event_id = self.checked[i].event.event_id  # type: ignore[union-attr]
            rows.setdefault(
                (event_id, digest),
                {
                    "device_id": device_id,
                    "event_id": event_id,
                    "digest": digest,
                    "differs": paths[:50],
                    "raw": text_,
                    "received_at": self.now,
                },
            )
        known = {
            (r.event_id, r.digest)
            for r in _CONFLICTS_HELD.rows(
                self.conn, sorted({key[0] for key in rows}), device=device_id
            )
        }
        self._keep_within_quota(
            event_conflicts, [row for key, row in rows.items() if key not in known]
        )

    def _keep_within_quota(self, table: Table, fresh: list[dict[str, Any]]) -> None:
        """Insert ``fresh`` rows of ``table`` up to the device's ``REJECTIONS_KEPT``; the rest
        are only counted (``devices.unkept_rejections``), and kiosk health says so."""
        device_id = self.device.device_id
        stored = int(
            self.conn.execute(
                select(func.count()).select_from(table).where(table.c.device_id == device_id)
            ).scalar_one()
        )
        room = max(0, batch_rows.REJECTIONS_KEPT - stored)
        kept, unkept = fresh[:room], len(fresh) - min(room, len(fresh))
        if kept:
            insert_rows(self.conn, table, kept)
        if unkept:
            self.conn.execute(
                update(devices)
                .where(devices.c.device_id == device_id)
                .values(unkept_rejections=devices.c.unkept_rejections + unkept)
            )

    def _apply_members(self, indexes: list[int]) -> None:
        """Families and their children: the newest news about each family wins (by ``at``).

        Worked out in memory for the whole batch, then written with a few ``executemany``.
        """
        if not indexes:
            return
        conn = self.conn
        ids = sorted({self.checked[i].data.family.family_id for i in indexes})  # type: ignore[union-attr]
        current = self._families_held(ids)
        latest: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        registered: dict[str, dict[str, Any]] = {}
        for i in indexes:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, MemberData)
            fam = data.family
            if ev.type == "member.registered" and fam.family_id not in registered:
                registered[fam.family_id] = {
                    "registered_at": ev.at,
                    "registered_site_id": ev.site_id,
                    "registered_device_id": ev.device_id,
                }
            held = latest.get(fam.family_id)
            held_at = (
                held[0]["updated_at"]
                if held
                else getattr(current.get(fam.family_id), "updated_at", None)
            )
            if held_at is not None and ev.at < held_at:
                continue  # older news than what we hold: kept as an event only
            values = {
                "b_family_id": fam.family_id,
                "org_id": self.device.org_id,
                "greeting_name": fam.greeting_name,
                "postcode": fam.postcode,
                "criteria": sorted(fam.criteria),
                "consent_date": date.fromisoformat(fam.consent_date) if fam.consent_date else None,
                "heard_from": fam.heard_from,
                "adults": fam.adults,
                "language": fam.language,
                "updated_at": ev.at,
                "updated_event_id": ev.event_id,
            }
            kids = {
                c.child_id: {
                    "family_id": fam.family_id,
                    "child_id": c.child_id,
                    "first_name": c.first_name,
                    "born": c.born,
                }
                for c in fam.children
            }
            latest[fam.family_id] = (values, list(kids.values()))

        no_registration = dict.fromkeys(
            ("registered_at", "registered_site_id", "registered_device_id")
        )
        new_rows = []
        for family_id, (values, _kids) in latest.items():
            if family_id not in current:
                row = {k: v for k, v in values.items() if k != "b_family_id"}
                new_rows.append(
                    {"family_id": family_id, **row, **registered.get(family_id, no_registration)}
                )
        self._inserts[families] = new_rows
        changed = [values for fid, (values, _) in latest.items() if fid in current]
        if changed:
            conn.execute(
                update(families).where(families.c.family_id == bindparam("b_family_id")), changed
            )
        late_registrations = [
            {"b_family_id": fid, **reg}
            for fid, reg in registered.items()
            if fid in current and current[fid].registered_at is None
        ]
        if late_registrations:
            conn.execute(
                update(families).where(families.c.family_id == bindparam("b_family_id")),
                late_registrations,
            )
        replaced = sorted(fid for fid in latest if fid in current)
        for start in range(0, len(replaced), CHUNK):
            conn.execute(
                delete(children).where(children.c.family_id.in_(replaced[start : start + CHUNK]))
            )
        kid_rows = [kid for _values, kids in latest.values() for kid in kids]
        self._inserts[children] = kid_rows

    def _apply_cards(self, indexes: list[int]) -> None:
        """Cards: the newest assignment or revocation of each card wins (by ``at``)."""
        if not indexes:
            return
        conn, org = self.conn, self.device.org_id
        uids = sorted({self.checked[i].data.uid for i in indexes})  # type: ignore[union-attr]
        current = {r.uid: r.updated_at for r in _CARDS.rows(conn, uids, org=org)}
        latest: dict[str, dict[str, Any]] = {}
        for i in indexes:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, CardData)
            held = latest[data.uid]["updated_at"] if data.uid in latest else current.get(data.uid)
            if held is not None and ev.at < held:
                continue
            latest[data.uid] = {
                "b_org_id": org,
                "b_uid": data.uid,
                "family_id": data.family_id,
                "active": ev.type == "card.assigned",
                "updated_at": ev.at,
                "updated_event_id": ev.event_id,
            }
        new_rows = [
            {"org_id": org, "uid": uid, **{k: v for k, v in row.items() if not k.startswith("b_")}}
            for uid, row in latest.items()
            if uid not in current
        ]
        self._inserts[cards] = new_rows
        changed = [row for uid, row in latest.items() if uid in current]
        if changed:
            conn.execute(
                update(cards).where(
                    cards.c.org_id == bindparam("b_org_id"), cards.c.uid == bindparam("b_uid")
                ),
                changed,
            )

    def _apply_attendances(self, keep: list[int]) -> None:
        recorded = [i for i in keep if self.checked[i].event.type == "attendance.recorded"]  # type: ignore[union-attr]
        amended = [i for i in keep if self.checked[i].event.type == "attendance.amended"]  # type: ignore[union-attr]
        if not recorded and not amended:
            return
        new_ids = [self.checked[i].event.event_id for i in recorded]  # type: ignore[union-attr]
        targets = set(new_ids) | {self.checked[i].data.attendance_id for i in amended}  # type: ignore[union-attr]
        # The latest amendment held for each target wins, whatever order events arrived in
        # (those held before this batch, and this batch's own).
        latest = self._latest_amendments(sorted(targets), amended)

        rows, child_rows = [], []
        for i in recorded:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, AttendanceRecordedData)
            at = ev.at
            kids, kids_at = data.children, at
            if ev.event_id in latest and latest[ev.event_id][0] >= at:
                kids_at, kids = latest[ev.event_id]
            rows.append(
                {
                    "attendance_id": ev.event_id,
                    "org_id": self.device.org_id,
                    "site_id": ev.site_id,
                    "device_id": ev.device_id,
                    "session_key": data.session.key,
                    "session_date": date.fromisoformat(data.session.date),
                    "session_name": data.session.name,
                    "slot_id": data.session.slot_id,
                    "family_id": data.family_id,
                    "adults": data.adults,
                    "method": data.method,
                    "volunteer": data.volunteer,
                    "qualifies": data.qualifies,
                    "reasons": list(data.reasons),
                    "risk_version": data.risk_version,
                    "at": at,
                    "clock_synced": ev.clock_synced,
                    "children_at": kids_at,
                }
            )
            child_rows.extend(attendance_child_rows(rows[-1], kids))
        self._inserts[attendances] = rows
        self._inserts[attendance_children] = child_rows

        # Amendments to attendances recorded in earlier batches.
        earlier = sorted(targets - set(new_ids))
        if not earlier:
            return
        current = {r.attendance_id: r for r in _EARLIER_ATTENDANCES.rows(self.conn, earlier)}
        for attendance_id, row in current.items():
            if attendance_id not in latest:
                continue
            at, kids = latest[attendance_id]
            if at < row.children_at:
                continue
            self.conn.execute(
                delete(attendance_children).where(
                    attendance_children.c.attendance_id == attendance_id
                )
            )
            if kids:
                self.conn.execute(
                    insert(attendance_children), attendance_child_rows(row._mapping, kids)
                )
            self.conn.execute(
                update(attendances)
                .where(attendances.c.attendance_id == attendance_id)
                .values(children_at=at)
            )

    def _latest_amendments(
        self, targets: list[str], amended: list[int]
    ) -> dict[str, tuple[datetime, list[str]]]:
        """For each attendance in ``targets``, its latest amendment: when, and the children
        it lists. Those held before this batch are read; this batch's own (``amended``,
        the indexes kept) are not written yet (``_write_inserts``), so they are counted
        here, as they will be held."""
        candidates: list[tuple[str, datetime, int, list[str]]] = [
            (row.subject_id, row.at, row.seq, list(json.loads(row.raw)["data"]["children"]))
            for row in _AMENDMENTS.rows(self.conn, targets)
        ]
        wanted = set(targets)
        for i in amended:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, AttendanceAmendedData)
            if data.attendance_id in wanted:
                candidates.append((data.attendance_id, ev.at, ev.seq, list(data.children)))
        out: dict[str, tuple[datetime, int, list[str]]] = {}
        for subject, at, seq, kids in candidates:
            best = out.get(subject)
            if best is None or (at, seq) >= best[:2]:
                out[subject] = (at, seq, kids)
        return {k: (at, kids) for k, (at, _seq, kids) in out.items()}
