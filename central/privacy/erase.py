"""``kiosk-central family erase``: forget a family everywhere on the central server (UK GDPR,
right to erasure), while past invoices still add up.

In one transaction (under the organisation's ingest lock, so no batch of that organisation
lands half way through):

- the family's record, its children (first names, months of birth) and its cards go;
- its attendances stay, with their session, counts and incentive decision, but the family and
  its children are replaced by anonymous tokens (``erased-<random>``, and one per child derived
  from it), so an invoice for a past month has the same lines and the same total;
- every stored event about the family (``events.raw``) is rewritten without personal fields,
  as are refused events (``rejections``), the refusal reasons kiosks last reported
  (``device_status``) and reviewers' notes that quote it; any other table
  with a ``family_id`` or ``child_id`` column is switched to the tokens too;
- the erasure is recorded (``erasures``): when, who asked, the token and a salted hash of the
  family id, never the id. Kiosks learn of it with the roster; a late event a kiosk sends about
  the family is scrubbed when it arrives (ingest, ``central.db.ingest``).

    >>> report = erase_family(db, "F-7K3M9QX2AB", requested_by="alice")  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))                                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from central.db import (
    CentralDB,
    CentralError,
    NotFound,
    attendance_children,
    attendance_reviews,
    attendances,
    cards,
    children,
    device_status,
    devices,
    erasures,
    events,
    families,
    metadata,
    privacy_salts,
    rejections,
    utcnow,
)
from central.privacy.keys import org_salt
from kiosk.domain.erasure import (
    SCRUBBED_UID,
    Erasure,
    event_family,
    family_hash,
    new_token,
    redact,
    scrub_event,
)

_CHUNK = 500
#: Tables handled one by one below; any other table with these columns is switched to tokens.
_HANDLED = {"families", "children", "cards", "attendances", "attendance_children", "erasures"}


class AlreadyErased(CentralError):
    """The family was erased before (its id matches an erasure's hash)."""


@dataclass(frozen=True)
class ErasureReport:
    """What ``erase_family`` did: counts only (the family's data is gone)."""

    token: str
    org_id: str
    erased_at: datetime
    requested_by: str
    erased: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The plain-words account printed by the command."""
        e, k = self.erased, self.kept
        return [
            f"family erased from organisation {self.org_id}; it is now {self.token}",
            "erased:",
            f"  family record (greeting name, postcode, criteria, consent, heard from, "
            f"language): {e.get('family', 0)}",
            f"  children (first names, months of birth): {e.get('children', 0)}",
            f"  cards (uids): {e.get('cards', 0)}",
            f"  personal fields in stored events: {e.get('events', 0)} event(s) scrubbed",
            f"  refused events scrubbed: {e.get('rejections', 0)}",
            f"  reviewers' notes cleaned: {e.get('review_notes', 0)}",
            f"  other rows switched to the token: {e.get('other_rows', 0)}",
            "kept, anonymous (so past invoices and reports still add up):",
            f"  attendances: {k.get('attendances', 0)} (session, site, adults, method, "
            "qualifies, reasons, risk version)",
            f"  child-attendances: {k.get('child_attendances', 0)}, children as tokens",
            f"  the erasure record: {self.token}, {self.erased_at:%Y-%m-%d %H:%M} UTC, asked by "
            f"{self.requested_by}",
            "kiosks of the organisation remove the family at their next roster pull",
        ]


def erase_family(
    db: CentralDB, family_id: str, requested_by: str, now: datetime | None = None
) -> ErasureReport:
    """Erase ``family_id`` (see the module's description); NotFound if the server never held
    it, AlreadyErased if it was erased before."""
    family_id = family_id.strip()
    if not family_id:
        raise CentralError("family id is empty")
    requested_by = (requested_by or "").strip()[:200] or "unknown"
    now = now or utcnow()
    with db.reading() as conn:
        org_id = _org_of(conn, family_id)
    with db.writing(org_id) as conn:
        if _org_of(conn, family_id) != org_id:  # erased or moved meanwhile
            raise AlreadyErased(f"family {family_id} was erased meanwhile")
        salt = org_salt(conn, org_id, now)
        erasure = Erasure(family_id, new_token(), salt)
        report = _Eraser(conn, org_id, erasure).run()
        conn.execute(
            insert(erasures).values(
                org_id=org_id,
                token=erasure.token,
                family_hash=family_hash(salt, family_id),
                requested_by=requested_by,
                erased_at=now,
                summary={"erased": report[0], "kept": report[1]},
            )
        )
    result = ErasureReport(erasure.token, org_id, now, requested_by, report[0], report[1])
    _audit(db, requested_by, result)
    return result


def _audit(db: CentralDB, actor: str, report: ErasureReport) -> None:
    from central import audit

    audit.record(
        db,
        actor,
        "family.erase",
        report.token,
        {"org": report.org_id, "erased": report.erased, "kept": report.kept},
    )


def _org_of(conn: Connection, family_id: str) -> str:
    """The organisation holding ``family_id`` (family record, else attendances, else cards)."""
    for query in (
        select(families.c.org_id).where(families.c.family_id == family_id),
        select(attendances.c.org_id).where(attendances.c.family_id == family_id).limit(1),
        select(cards.c.org_id).where(cards.c.family_id == family_id).limit(1),
    ):
        org = conn.execute(query).scalar()
        if org is not None:
            return str(org)
    salts = dict(conn.execute(select(privacy_salts.c.org_id, privacy_salts.c.salt)).all())
    for org, salt in salts.items():
        token = conn.execute(
            select(erasures.c.token).where(
                erasures.c.org_id == org, erasures.c.family_hash == family_hash(salt, family_id)
            )
        ).scalar()
        if token is not None:
            raise AlreadyErased(f"family {family_id} was already erased (it is now {token})")
    raise NotFound(f"no family {family_id!r} on this server: check the reference on their card")


class _Eraser:
    """One erasure inside its transaction."""

    def __init__(self, conn: Connection, org_id: str, erasure: Erasure) -> None:
        self.conn = conn
        self.org_id = org_id
        self.erasure = erasure
        self.family_id = erasure.family_id
        #: Every personal string met on the way (names, postcode, ids): taken out of free text.
        self.secrets: set[str] = {erasure.family_id}
        self.erased: dict[str, int] = {}

    def run(self) -> tuple[dict[str, int], dict[str, int]]:
        conn, fid = self.conn, self.family_id
        family = conn.execute(select(families).where(families.c.family_id == fid)).first()
        if family is not None:
            self.secrets.update(s for s in (family.greeting_name, family.postcode) if s)
        kids = conn.execute(select(children).where(children.c.family_id == fid)).all()
        child_ids = {k.child_id for k in kids}
        self.secrets.update(k.first_name for k in kids if k.first_name)
        uids = set(
            conn.execute(
                select(cards.c.uid).where(cards.c.org_id == self.org_id, cards.c.family_id == fid)
            ).scalars()
        )
        attendance_ids = list(
            conn.execute(
                select(attendances.c.attendance_id).where(
                    attendances.c.org_id == self.org_id, attendances.c.family_id == fid
                )
            ).scalars()
        )
        pairs = [
            (r.attendance_id, r.child_id)
            for ids in _chunks(attendance_ids)
            for r in conn.execute(
                select(attendance_children.c.attendance_id, attendance_children.c.child_id).where(
                    attendance_children.c.attendance_id.in_(ids)
                )
            )
        ]
        child_ids.update(c for _a, c in pairs)
        scrubbed = self._scrub_events(uids | {fid} | set(attendance_ids), uids, child_ids)
        self.secrets.update(uids | child_ids)
        self.erased["events"] = scrubbed
        self.erased["rejections"] = self._scrub_rejections()
        self.erased["status_reports"] = self._scrub_status_reports()
        self.erased["review_notes"] = self._clean_reviews(attendance_ids)

        # The attendances stay, under the tokens.
        if pairs:
            conn.execute(
                update(attendance_children)
                .where(
                    attendance_children.c.attendance_id == bindparam("b_attendance"),
                    attendance_children.c.child_id == bindparam("b_child"),
                )
                .values(child_id=bindparam("b_token")),
                [
                    {"b_attendance": a, "b_child": c, "b_token": self.erasure.child(c)}
                    for a, c in pairs
                ],
            )
        if "family_id" in attendance_children.c:  # denormalised (migration 4)
            for ids in _chunks(attendance_ids):
                conn.execute(
                    update(attendance_children)
                    .where(attendance_children.c.attendance_id.in_(ids))
                    .values(family_id=self.erasure.token)
                )
        conn.execute(
            update(attendances)
            .where(attendances.c.org_id == self.org_id, attendances.c.family_id == fid)
            .values(family_id=self.erasure.token)
        )
        self.erased["other_rows"] = self._other_tables(child_ids)
        # The record itself goes.
        self.erased["cards"] = conn.execute(
            delete(cards).where(cards.c.org_id == self.org_id, cards.c.family_id == fid)
        ).rowcount
        self.erased["children"] = conn.execute(
            delete(children).where(children.c.family_id == fid)
        ).rowcount
        self.erased["family"] = conn.execute(
            delete(families).where(families.c.family_id == fid)
        ).rowcount
        kept = {"attendances": len(attendance_ids), "child_attendances": len(pairs)}
        return self.erased, kept

    def _scrub_events(self, subjects: set[str], uids: set[str], child_ids: set[str]) -> int:
        """Rewrite every stored event about the family without its personal fields."""
        conn, fid = self.conn, self.family_id
        found: dict[int, Any] = {}
        for ids in _chunks(sorted(subjects)):
            for r in conn.execute(
                select(events.c.id, events.c.type, events.c.raw).where(
                    events.c.org_id == self.org_id, events.c.subject_id.in_(ids)
                )
            ):
                found[r.id] = r
        # Also any event that names the family elsewhere (an amendment whose attendance never
        # arrived, say): a text search of the organisation's events, once per erasure.
        for r in conn.execute(
            select(events.c.id, events.c.type, events.c.raw).where(
                events.c.org_id == self.org_id, events.c.raw.contains(fid, autoescape=True)
            )
        ):
            found[r.id] = r
        changes = []
        for row in found.values():
            raw = json.loads(row.raw)
            if event_family(raw) != fid:
                continue  # a card since given to another family, say
            self._note(raw, uids, child_ids)
            clean = scrub_event(raw, self.erasure)
            change = {"b_id": row.id, "raw": json.dumps(clean, separators=(",", ":"))}
            if not row.type.startswith("attendance."):
                change["subject_id"] = self.erasure.token
            changes.append(change)
        for with_subject in (True, False):
            batch = [c for c in changes if ("subject_id" in c) == with_subject]
            if batch:
                conn.execute(update(events).where(events.c.id == bindparam("b_id")), batch)
        return len(changes)

    def _note(self, raw: Mapping[str, Any], uids: set[str], child_ids: set[str]) -> None:
        data = raw.get("data") if isinstance(raw.get("data"), Mapping) else {}
        family = data.get("family") if isinstance(data.get("family"), Mapping) else {}
        for key in ("greeting_name", "postcode"):
            if isinstance(family.get(key), str) and family[key]:
                self.secrets.add(family[key])
        for child in family.get("children") or ():
            if isinstance(child, Mapping):
                if isinstance(child.get("child_id"), str):
                    child_ids.add(child["child_id"])
                if isinstance(child.get("first_name"), str):
                    self.secrets.add(child["first_name"])
        if isinstance(data.get("uid"), str) and data["uid"] != SCRUBBED_UID:
            uids.add(data["uid"])
        for child in data.get("children") or ():
            if isinstance(child, str):
                child_ids.add(child)

    def _scrub_rejections(self) -> int:
        """Refused events of the organisation's kiosks that name the family."""
        conn, fid = self.conn, self.family_id
        device_ids = list(
            conn.execute(select(devices.c.device_id).where(devices.c.org_id == self.org_id))
            .scalars()
            .all()
        )
        changes = []
        for ids in _chunks(device_ids):
            for r in conn.execute(
                select(rejections.c.id, rejections.c.raw, rejections.c.reason).where(
                    rejections.c.device_id.in_(ids),
                    or_(
                        rejections.c.raw.contains(fid, autoescape=True),
                        rejections.c.reason.contains(fid, autoescape=True),
                    ),
                )
            ):
                changes.append(r)
        out = []
        for r in changes:
            try:
                raw = json.loads(r.raw)
            except ValueError:
                raw = None
            if isinstance(raw, Mapping):
                self._note(raw, set(), set())
                if event_family(raw) == fid:
                    clean: Any = scrub_event(raw, self.erasure)
                else:  # malformed: keep only what identifies the refused event
                    clean = {k: raw[k] for k in ("event_id", "seq", "type") if k in raw}
                    clean["erased"] = self.erasure.token
                text = json.dumps(clean, separators=(",", ":"))
            else:
                text = redact(r.raw.replace(fid, self.erasure.token), self.secrets)
            reason = redact(r.reason.replace(fid, self.erasure.token), self.secrets)
            out.append({"b_id": r.id, "raw": text, "reason": reason})
        if out:
            conn.execute(update(rejections).where(rejections.c.id == bindparam("b_id")), out)
        return len(out)

    def _scrub_status_reports(self) -> int:
        """Refusal reasons the organisation's kiosks last reported (kiosk health) may quote
        the family: take it out (the kiosk's next report replaces them anyway)."""
        conn, fid = self.conn, self.family_id
        device_ids = list(
            conn.execute(select(devices.c.device_id).where(devices.c.org_id == self.org_id))
            .scalars()
            .all()
        )
        count = 0
        for ids in _chunks(device_ids):
            query = select(device_status.c.device_id, device_status.c.reasons).where(
                device_status.c.device_id.in_(ids)
            )
            for r in conn.execute(query).all():
                reasons = r.reasons if isinstance(r.reasons, list) else []
                clean = [
                    {
                        **item,
                        "reason": redact(
                            item["reason"].replace(fid, self.erasure.token), self.secrets
                        ),
                    }
                    if isinstance(item, dict) and isinstance(item.get("reason"), str)
                    else item
                    for item in reasons
                ]
                if clean != reasons:
                    conn.execute(
                        update(device_status)
                        .where(device_status.c.device_id == r.device_id)
                        .values(reasons=clean)
                    )
                    count += 1
        return count

    def _clean_reviews(self, attendance_ids: list[str]) -> int:
        """Reviewers' notes on the family's attendances may quote a name: take it out."""
        count = 0
        for ids in _chunks(attendance_ids):
            for r in self.conn.execute(
                select(attendance_reviews.c.attendance_id, attendance_reviews.c.note).where(
                    attendance_reviews.c.attendance_id.in_(ids)
                )
            ).all():
                if not r.note:
                    continue
                clean = redact(r.note.replace(self.family_id, self.erasure.token), self.secrets)
                if clean != r.note:
                    self.conn.execute(
                        update(attendance_reviews)
                        .where(attendance_reviews.c.attendance_id == r.attendance_id)
                        .values(note=clean)
                    )
                    count += 1
        return count

    def _other_tables(self, child_ids: set[str]) -> int:
        """Derived tables added since (any table with ``family_id`` or ``child_id``)."""
        count = 0
        for table in metadata.sorted_tables:
            if table.name in _HANDLED or table.name.startswith("audit"):
                continue
            if "family_id" in table.c:
                count += self.conn.execute(
                    update(table)
                    .where(table.c.family_id == self.family_id)
                    .values(family_id=self.erasure.token)
                ).rowcount
            if "child_id" in table.c:
                for child_id in sorted(child_ids):
                    count += self.conn.execute(
                        update(table)
                        .where(table.c.child_id == child_id)
                        .values(child_id=self.erasure.child(child_id))
                    ).rowcount
        return count


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


__all__ = ["AlreadyErased", "ErasureReport", "erase_family"]
