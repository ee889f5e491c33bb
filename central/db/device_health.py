"""Kiosk health: contact, status reports, and the facts the health panel is built from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from central.db.base import Database
from central.db.batch_rows import rows_in_chunks
from central.db.records import Device, require_org
from central.db.schema import (
    device_status,
    devices,
    event_conflicts,
    events,
    rejections,
    seq_gaps,
    utcnow,
)
from central.health import DeviceFacts, ReportedStatus, WriteOff


class DeviceHealth(Database):
    """Kiosk contact and status reports (``device_status``) and health facts."""

    # -- kiosk health ------------------------------------------------------------------------
    def touch_device(self, device: Device, now: datetime | None = None) -> None:
        """Note that ``device`` is in contact (its last contact on the kiosk health panel).

        For requests that otherwise only read: at most once a minute per device, so a kiosk
        asking every pass does not turn each read into a write.
        """
        now = now or utcnow()
        seen = device.last_seen_at
        if seen is not None and timedelta(0) <= now - seen < _CONTACT_EVERY:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(devices)
                .where(
                    devices.c.device_id == device.device_id,
                    or_(devices.c.last_seen_at.is_(None), devices.c.last_seen_at < now),
                )
                .values(last_seen_at=now)
            )

    def record_status(self, device: Device, report: Any, now: datetime | None = None) -> datetime:
        """Keep ``report`` (``sync.protocol.StatusReport``) as the device's latest, replacing
        the one before, and note the contact. Returns when it was received."""
        now = now or utcnow()
        values = {
            "received_at": now,
            "sent_at": report.sent_at,
            "waiting": report.waiting,
            "oldest_waiting_at": report.oldest_waiting_at,
            "rejected": report.rejected,
            "reasons": [{"reason": r.reason, "count": r.count} for r in report.rejected_reasons],
            "conflicts": report.conflicts,
            "clock_synced": report.clock_synced,
            "software_version": report.software_version,
        }
        with self.engine.begin() as conn:
            self._lock(conn, "status:" + device.device_id)
            done = conn.execute(
                update(device_status)
                .where(device_status.c.device_id == device.device_id)
                .values(**values)
            )
            if not done.rowcount:
                conn.execute(insert(device_status).values(device_id=device.device_id, **values))
            conn.execute(
                update(devices)
                .where(devices.c.device_id == device.device_id)
                .values(last_seen_at=now)
            )
        return now

    def device_health_facts(self, org_id: str | None = None) -> list[DeviceFacts]:
        """What the server knows of each active kiosk of ``org_id`` (every organisation's for
        None), by organisation, site and name: for :func:`central.health.device_health`.

        Refused events count when the server stored them after the kiosk's latest report
        (that report counted those before) and no event has since been accepted with their
        seq (the kiosk sent them again, fixed).
        """
        query = (
            select(devices)
            .where(devices.c.revoked_at.is_(None))
            .order_by(devices.c.org_id, devices.c.site_id, devices.c.device_id)
        )
        if org_id is not None:
            query = query.where(devices.c.org_id == org_id)
        refused = (
            select(rejections.c.device_id, rejections.c.reason, func.count().label("n"))
            .select_from(
                rejections.outerjoin(
                    events,
                    and_(
                        events.c.device_id == rejections.c.device_id,
                        events.c.seq == rejections.c.seq,
                    ),
                ).outerjoin(device_status, device_status.c.device_id == rejections.c.device_id)
            )
            .where(
                events.c.id.is_(None),
                or_(
                    device_status.c.received_at.is_(None),
                    rejections.c.received_at > device_status.c.received_at,
                ),
            )
            .group_by(rejections.c.device_id, rejections.c.reason)
        )
        conflicting = (
            select(event_conflicts.c.device_id, func.count().label("n"))
            .select_from(
                event_conflicts.outerjoin(
                    device_status, device_status.c.device_id == event_conflicts.c.device_id
                )
            )
            .where(
                or_(
                    device_status.c.received_at.is_(None),
                    event_conflicts.c.received_at > device_status.c.received_at,
                )
            )
            .group_by(event_conflicts.c.device_id)
        )
        gaps = select(
            seq_gaps.c.device_id,
            seq_gaps.c.kind,
            seq_gaps.c.from_seq,
            seq_gaps.c.to_seq,
            seq_gaps.c.reported_at,
        )
        with self.reading() as conn:
            if org_id is not None:
                require_org(conn, org_id)
            rows = conn.execute(query).all()
            ids = [r.device_id for r in rows]
            latest = rows_in_chunks(conn, select(device_status), device_status.c.device_id, ids)
            reports = {r.device_id: _reported(r) for r in latest}
            server_refused: dict[str, list[tuple[str, int]]] = {}
            for r in rows_in_chunks(conn, refused, rejections.c.device_id, ids):
                server_refused.setdefault(r.device_id, []).append((r.reason, int(r.n)))
            conflicts = {
                r.device_id: int(r.n)
                for r in rows_in_chunks(conn, conflicting, event_conflicts.c.device_id, ids)
            }
            written_off: dict[str, list[WriteOff]] = {}
            for r in rows_in_chunks(conn, gaps, seq_gaps.c.device_id, ids):
                written_off.setdefault(r.device_id, []).append(
                    WriteOff(r.kind, int(r.to_seq) - int(r.from_seq) + 1, r.reported_at)
                )
        return [
            DeviceFacts(
                device_id=r.device_id,
                org_id=r.org_id,
                site_id=r.site_id,
                last_contact=r.last_seen_at,
                report=reports.get(r.device_id),
                server_rejected=tuple(server_refused.get(r.device_id, ())),
                write_offs=tuple(written_off.get(r.device_id, ())),
                conflicts_held=conflicts.get(r.device_id, 0),
                unkept_rejections=int(r.unkept_rejections or 0),
            )
            for r in rows
        ]


_CONTACT_EVERY = timedelta(minutes=1)


def _reported(row: Any) -> ReportedStatus:
    reasons = row.reasons if isinstance(row.reasons, list) else []
    return ReportedStatus(
        received_at=row.received_at,
        sent_at=row.sent_at,
        waiting=int(row.waiting),
        oldest_waiting_at=row.oldest_waiting_at,
        rejected=int(row.rejected),
        reasons=tuple(
            (str(r.get("reason", "")), int(r.get("count", 0)))
            for r in reasons
            if isinstance(r, dict)
        ),
        clock_synced=bool(row.clock_synced),
        software_version=row.software_version,
        conflicts=int(row.conflicts or 0),
    )
