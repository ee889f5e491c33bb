"""Reviews: an admin counts or excludes an attendance recorded while the kiosk clock was not
synchronised (``kiosk-central review``), so its line on the invoice sheet is counted or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, false, insert, select, update

from central.db import CentralDB, CentralError, NotFound, attendance_reviews, attendances, utcnow
from central.reports._sql import reading
from central.reports.period import Period

#: What a review may decide about an attendance.
REVIEW_DECISIONS = ("counted", "excluded")


@dataclass(frozen=True)
class Review:
    attendance_id: str
    decision: str
    reviewed_by: str
    note: str | None
    session_date: date
    org_id: str


def review_attendance(
    db: CentralDB, attendance_id: str, decision: str, reviewed_by: str, note: str | None = None
) -> Review:
    """Count or exclude an attendance recorded while the kiosk clock was not synchronised."""
    if decision not in REVIEW_DECISIONS:
        raise CentralError(f"decision {decision!r} must be one of {', '.join(REVIEW_DECISIONS)}")
    reviewed_by = " ".join(reviewed_by.split())
    if not reviewed_by:
        raise CentralError("say who reviewed it: --by NAME")
    with db.reading() as conn:  # an attendance's organisation never changes
        org_id = conn.execute(
            select(attendances.c.org_id).where(attendances.c.attendance_id == attendance_id)
        ).scalar()
    if org_id is None:
        raise NotFound(f"no attendance {attendance_id!r} on the server")
    with db.writing(org_id) as conn:
        att = conn.execute(
            select(
                attendances.c.org_id, attendances.c.session_date, attendances.c.clock_synced
            ).where(attendances.c.attendance_id == attendance_id)
        ).first()
        if att is None:  # removed meanwhile (by a retention run)
            raise NotFound(f"no attendance {attendance_id!r} on the server")
        if att.clock_synced:
            raise CentralError(
                f"attendance {attendance_id} was recorded with a synchronised clock: it needs "
                "no review"
            )
        values = {
            "decision": decision,
            "reviewed_by": reviewed_by,
            "note": note,
            "reviewed_at": utcnow(),
        }
        key = attendance_reviews.c.attendance_id == attendance_id
        if conn.execute(select(attendance_reviews.c.attendance_id).where(key)).first():
            conn.execute(update(attendance_reviews).where(key).values(**values))
        else:
            conn.execute(insert(attendance_reviews).values(attendance_id=attendance_id, **values))
    return Review(attendance_id, decision, reviewed_by, note, att.session_date, att.org_id)


def pending_reviews(db: CentralDB, org_id: str, period: Period) -> list[str]:
    """Attendance ids of ``org_id`` in ``period`` that still wait for a review."""
    a, rv = attendances, attendance_reviews
    with reading(db) as conn:
        return list(
            conn.execute(
                select(a.c.attendance_id)
                .select_from(a.outerjoin(rv, rv.c.attendance_id == a.c.attendance_id))
                .where(
                    and_(
                        a.c.org_id == org_id,
                        a.c.session_date >= period.start,
                        a.c.session_date <= period.end,
                        a.c.clock_synced == false(),
                        rv.c.attendance_id.is_(None),
                    )
                )
                .order_by(a.c.session_date, a.c.at)
            ).scalars()
        )
