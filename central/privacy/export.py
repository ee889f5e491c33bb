"""``kiosk-central family export``: everything the server holds about one family (UK GDPR,
right of access), as JSON with stable keys or as a readable PDF (``central.privacy.export_pdf``).

Held about a family: its record (greeting name, postcode, criteria, consent date, how they heard
of us, adults, language, registration), its children, its cards, every attendance (date,
session, site, children, whether it qualified for the incentive and why, how it was recorded,
and any review of it), the stored events that mention it (ids, types, times) and any event of
theirs that was refused.

    >>> data = family_export(db, "F-7K3M9QX2AB", requested_by="alice")   # doctest: +SKIP
    >>> data["family"]["greeting_name"]                                   # doctest: +SKIP
    'Sarah'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select

from central.db import (
    CentralDB,
    CentralError,
    NotFound,
    attendance_children,
    attendance_reviews,
    attendances,
    cards,
    children,
    devices,
    events,
    families,
    rejections,
    utcnow,
)
from central.privacy.keys import org_salt, pseudonym
from kiosk.domain.erasure import event_family

#: Bumped when a key changes meaning; keys are only ever added.
EXPORT_VERSION = 1
_CHUNK = 500


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def family_export(
    db: CentralDB, family_id: str, requested_by: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """Everything held about ``family_id`` (NotFound when the server holds nothing)."""
    family_id = family_id.strip()
    if not family_id:
        raise CentralError("family id is empty")
    now = now or utcnow()
    with db.reading() as conn:
        fam = conn.execute(select(families).where(families.c.family_id == family_id)).first()
        atts = conn.execute(
            select(attendances)
            .where(attendances.c.family_id == family_id)
            .order_by(attendances.c.session_date, attendances.c.at, attendances.c.attendance_id)
        ).all()
        card_rows = conn.execute(
            select(cards).where(cards.c.family_id == family_id).order_by(cards.c.uid)
        ).all()
        if fam is None and not atts and not card_rows:
            raise NotFound(
                f"no family {family_id!r} on this server: check the reference on their card "
                "(an erased family has none)"
            )
        org_id = fam.org_id if fam is not None else (atts or card_rows)[0].org_id
        kids = conn.execute(
            select(children).where(children.c.family_id == family_id).order_by(children.c.child_id)
        ).all()
        names = {k.child_id: k.first_name for k in kids}
        ids = [a.attendance_id for a in atts]
        present: dict[str, list[str]] = {}
        reviews: dict[str, Any] = {}
        for chunk in _chunks(ids):
            for r in conn.execute(
                select(attendance_children).where(attendance_children.c.attendance_id.in_(chunk))
            ):
                present.setdefault(r.attendance_id, []).append(r.child_id)
            for r in conn.execute(
                select(attendance_reviews).where(attendance_reviews.c.attendance_id.in_(chunk))
            ):
                reviews[r.attendance_id] = r
        subjects = sorted({family_id, *ids, *(c.uid for c in card_rows)})
        found: dict[str, Any] = {}
        for chunk in _chunks(subjects):
            for r in conn.execute(
                select(events).where(events.c.org_id == org_id, events.c.subject_id.in_(chunk))
            ):
                found[r.event_id] = r
        for r in conn.execute(
            select(events).where(
                events.c.org_id == org_id, events.c.raw.contains(family_id, autoescape=True)
            )
        ):
            found[r.event_id] = r
        mentioned = [r for r in found.values() if event_family(json.loads(r.raw)) == family_id]
        mentioned.sort(key=lambda r: (r.at, r.device_id, r.seq))
        device_ids = list(
            conn.execute(select(devices.c.device_id).where(devices.c.org_id == org_id)).scalars()
        )
        refused = []
        for chunk in _chunks(device_ids):
            refused.extend(
                conn.execute(
                    select(rejections).where(
                        rejections.c.device_id.in_(chunk),
                        or_(
                            rejections.c.raw.contains(family_id, autoescape=True),
                            rejections.c.reason.contains(family_id, autoescape=True),
                        ),
                    )
                ).all()
            )
        refused.sort(key=lambda r: (r.received_at, r.id))

    data: dict[str, Any] = {
        "export": {
            "format": "doorstep-family-export",
            "version": EXPORT_VERSION,
            "exported_at": _iso(now),
            "organisation": org_id,
        },
        "family": _family(family_id, org_id, fam),
        "children": [
            {"child_id": k.child_id, "first_name": k.first_name, "born": k.born} for k in kids
        ],
        "cards": [
            {"uid": c.uid, "active": bool(c.active), "updated_at": _iso(c.updated_at)}
            for c in card_rows
        ],
        "attendances": [_attendance(a, present, names, reviews) for a in atts],
        "events": [
            {
                "event_id": r.event_id,
                "type": r.type,
                "at": _iso(r.at),
                "received_at": _iso(r.received_at),
                "device_id": r.device_id,
                "site_id": r.site_id,
                "seq": int(r.seq),
            }
            for r in mentioned
        ],
        "rejections": [
            {
                "event_id": r.event_id,
                "device_id": r.device_id,
                "seq": int(r.seq) if r.seq is not None else None,
                "reason": r.reason,
                "received_at": _iso(r.received_at),
            }
            for r in refused
        ],
    }
    _audit(db, requested_by, org_id, family_id, now, data)
    return data


def _family(family_id: str, org_id: str, fam: Any) -> dict[str, Any] | None:
    if fam is None:
        return {"family_id": family_id, "organisation": org_id, "record": "none held"}
    return {
        "family_id": fam.family_id,
        "organisation": fam.org_id,
        "greeting_name": fam.greeting_name,
        "postcode": fam.postcode,
        "criteria": list(fam.criteria or []),
        "consent_date": _iso(fam.consent_date),
        "heard_from": fam.heard_from,
        "adults": fam.adults,
        "language": fam.language,
        "registered_at": _iso(fam.registered_at),
        "registered_site": fam.registered_site_id,
        "registered_device": fam.registered_device_id,
        "updated_at": _iso(fam.updated_at),
    }


def _attendance(
    a: Any, present: dict[str, list[str]], names: dict[str, str], reviews: dict[str, Any]
) -> dict[str, Any]:
    review = reviews.get(a.attendance_id)
    held = not a.clock_synced and review is None
    return {
        "attendance_id": a.attendance_id,
        "date": _iso(a.session_date),
        "session": a.session_name,
        "session_key": a.session_key,
        "site": a.site_id,
        "children": [
            {"child_id": c, "first_name": names.get(c)}
            for c in sorted(present.get(a.attendance_id, []))
        ],
        "adults": a.adults,
        "qualifies": bool(a.qualifies),
        "reasons": list(a.reasons or []),
        "risk_version": a.risk_version,
        "method": a.method,
        "recorded_at": _iso(a.at),
        "clock_synced": bool(a.clock_synced),
        "held_for_review": held,
        "review": None
        if review is None
        else {
            "decision": review.decision,
            "reviewed_by": review.reviewed_by,
            "note": review.note,
            "reviewed_at": _iso(review.reviewed_at),
        },
    }


def _audit(
    db: CentralDB,
    actor: str,
    org_id: str,
    family_id: str,
    now: datetime,
    data: dict[str, Any],
) -> None:
    """Record the export under a pseudonym: the log is append-only, so it must never hold an
    id that a later erasure would have to remove."""
    from central import audit

    with db.writing(org_id) as conn:
        salt = org_salt(conn, org_id, now)
    audit.record(
        db,
        actor or "unknown",
        "family.export",
        pseudonym(salt, family_id),
        {
            "org": org_id,
            "attendances": len(data["attendances"]),
            "events": len(data["events"]),
        },
    )


def export_json(data: dict[str, Any]) -> str:
    """The export as JSON text: sorted keys, indented, UTF-8 as is."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
