"""Organisations, sites and kiosks (devices) and their bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from central.db.base import Database, org_lock_sql
from central.db.errors import AlreadyExists, NotFound
from central.db.records import (
    Device,
    check_id,
    device_from_row,
    display_name,
    require_org,
    require_site,
)
from central.db.schema import devices, orgs, sites, utcnow


# -- secrets ---------------------------------------------------------------------------------------
def new_device_token() -> str:
    """A high-entropy bearer token (256 bits), shown once to the admin."""
    return "dsk_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a device token: enough for a random 256-bit secret (no dictionary to try)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_DEVICE_BY_TOKEN = select(devices).where(devices.c.token_hash == bindparam("token_hash"))
#: The same, taking the device's organisation's lock as it is read (PostgreSQL).
_DEVICE_BY_TOKEN_LOCKING = select(
    devices, org_lock_sql(devices.c.org_id).label("org_locked")
).where(devices.c.token_hash == bindparam("token_hash"))


def device_by_token(conn: Connection, token: str, lock_org: bool = False) -> Device | None:
    """The device a bearer token belongs to (revoked or not), or None. Asked by every request
    a kiosk makes, so its statement is built once.

    ``lock_org`` (PostgreSQL only): take the device's organisation's lock in the same
    statement, as :meth:`Database.writing` would after it: a batch's token and lock were two
    round trips. The row is read before the lock is granted, as it was when the lock came
    second; what the batch reads next comes after.
    """
    query = _DEVICE_BY_TOKEN_LOCKING if lock_org else _DEVICE_BY_TOKEN
    row = conn.execute(query, {"token_hash": token_hash(token)}).first()
    return device_from_row(row) if row else None


class Enrolment(Database):
    """Enrolling organisations, sites and kiosks (``orgs``, ``sites``, ``devices``)."""

    # -- enrolment ---------------------------------------------------------------------------------
    def add_org(self, org_id: str, name: str | None = None) -> None:
        org_id = check_id(org_id, "organisation")
        name = display_name(name, "organisation")
        with self.engine.begin() as conn:
            if conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first():
                raise AlreadyExists(f"organisation {org_id!r} already exists")
            conn.execute(insert(orgs).values(org_id=org_id, name=name, created_at=utcnow()))

    def add_site(self, org_id: str, site_id: str, name: str | None = None) -> None:
        site_id = check_id(site_id, "site")
        name = display_name(name, "site")
        with self.engine.begin() as conn:
            require_org(conn, org_id)
            exists = conn.execute(
                select(sites.c.site_id).where(sites.c.org_id == org_id, sites.c.site_id == site_id)
            ).first()
            if exists:
                raise AlreadyExists(f"site {site_id!r} already exists in organisation {org_id!r}")
            conn.execute(
                insert(sites).values(org_id=org_id, site_id=site_id, name=name, created_at=utcnow())
            )

    def set_org_name(self, org_id: str, name: str) -> None:
        """Give an existing organisation the name people use (its id stays as it is)."""
        value = display_name(name, "organisation") or None
        with self.engine.begin() as conn:
            require_org(conn, org_id)
            conn.execute(update(orgs).where(orgs.c.org_id == org_id).values(name=value))

    def set_site_name(self, org_id: str, site_id: str, name: str) -> None:
        """Give an existing site the name people use (its id stays as it is)."""
        value = display_name(name, "site") or None
        with self.engine.begin() as conn:
            require_org(conn, org_id)
            done = conn.execute(
                update(sites)
                .where(sites.c.org_id == org_id, sites.c.site_id == site_id)
                .values(name=value)
            )
            if not done.rowcount:
                raise NotFound(
                    f"organisation {org_id!r} has no site {site_id!r} (see 'kiosk-central site "
                    f"add {org_id} {site_id}')"
                )

    def org_list(self) -> list[tuple[str, str | None]]:
        """Every organisation's id and name, by id."""
        with self.reading() as conn:
            return [
                (r.org_id, r.name)
                for r in conn.execute(select(orgs.c.org_id, orgs.c.name).order_by(orgs.c.org_id))
            ]

    def site_list(self, org_id: str | None = None) -> list[tuple[str, str, str | None]]:
        """Sites as (organisation, site id, name), by organisation and id."""
        query = select(sites.c.org_id, sites.c.site_id, sites.c.name).order_by(
            sites.c.org_id, sites.c.site_id
        )
        if org_id is not None:
            query = query.where(sites.c.org_id == org_id)
        with self.reading() as conn:
            return [(r.org_id, r.site_id, r.name) for r in conn.execute(query)]

    def add_device(
        self, org_id: str, site_id: str, device_id: str, enrolled_at: datetime | None = None
    ) -> str:
        """Enrol a kiosk; returns its bearer token (only its hash is stored: show it once).

        ``enrolled_at`` (default now) bounds the dates its events may carry
        (``central.claims``); tests of old terms enrol their kiosks back then."""
        device_id = check_id(device_id, "device")
        token = new_device_token()
        with self.engine.begin() as conn:
            require_site(conn, org_id, site_id)
            existing = conn.execute(
                select(devices.c.org_id, devices.c.site_id, devices.c.revoked_at).where(
                    devices.c.device_id == device_id
                )
            ).first()
            if existing is not None and existing.revoked_at is not None:
                # Enrolled again after a revoke (a kiosk found, or its write-offs put right):
                # a new token, the same history, within the same organisation.
                if existing.org_id != org_id:
                    raise AlreadyExists(
                        f"device {device_id!r} was enrolled at organisation "
                        f"{existing.org_id!r} (revoked); its events are that organisation's, "
                        "so it can only be enrolled again there: choose another id"
                    )
                conn.execute(
                    update(devices)
                    .where(devices.c.device_id == device_id)
                    .values(site_id=site_id, token_hash=token_hash(token), revoked_at=None)
                )
                return token
            if existing:
                raise AlreadyExists(
                    f"device {device_id!r} is already enrolled (at {existing.org_id}/"
                    f"{existing.site_id}); choose another id"
                )
            conn.execute(
                insert(devices).values(
                    device_id=device_id,
                    org_id=org_id,
                    site_id=site_id,
                    token_hash=token_hash(token),
                    created_at=enrolled_at or utcnow(),
                )
            )
        return token

    def revoke_device(self, device_id: str) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(devices.c.revoked_at).where(devices.c.device_id == device_id)
            ).first()
            if row is None:
                raise NotFound(f"no device {device_id!r} is enrolled")
            if row.revoked_at is None:
                conn.execute(
                    update(devices)
                    .where(devices.c.device_id == device_id)
                    .values(revoked_at=utcnow())
                )

    def devices(self) -> list[Device]:
        with self.reading() as conn:
            rows = conn.execute(select(devices).order_by(devices.c.device_id)).all()
        return [device_from_row(r) for r in rows]

    def device_for_token(self, token: str) -> Device | None:
        """The device a bearer token belongs to (revoked or not), or None."""
        with self.reading() as conn:
            return device_by_token(conn, token)
