"""What the database hands out (devices, ingest answers, roster pages) and the checks on
the ids and names it is handed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic_core
from sqlalchemy import Connection, select

from central.db.errors import CentralError, NotFound
from central.db.schema import ID_LENGTH, orgs, sites
from sync.protocol import AttendanceAmendedData, CardData, Checked, EventResult, MemberData


# -- records ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Device:
    """An enrolled kiosk, as the bearer token identifies it."""

    device_id: str
    org_id: str
    site_id: str
    revoked: bool = False
    holds_up_to: int = 0
    #: When the server last heard from it (kiosk health), as read with the token.
    last_seen_at: datetime | None = None
    #: When it was enrolled: its events' dates are checked against it (``central.claims``).
    enrolled_at: datetime | None = None


@dataclass(frozen=True)
class IngestResult:
    results: list[EventResult]
    holds_up_to: int


@dataclass(frozen=True)
class RosterPage:
    #: The events as the server keeps them, compact JSON text: ``GET /roster`` splices them
    #: into its answer as they are (``events`` parses them, for everyone else).
    texts: list[str]
    cursor: int
    more: bool
    #: Families erased since the kiosk's erasure cursor, when it asked for them.
    erasures: list[dict[str, Any]] | None = None
    erasure_cursor: int | None = None
    erasures_more: bool = False

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(text) for text in self.texts]


def device_from_row(row: Any) -> Device:
    return Device(
        device_id=row.device_id,
        org_id=row.org_id,
        site_id=row.site_id,
        revoked=row.revoked_at is not None,
        holds_up_to=int(row.holds_up_to or 0),
        last_seen_at=row.last_seen_at,
        enrolled_at=row.created_at,
    )


_NAME_MOST = 200


def display_name(value: str | None, what: str) -> str | None:
    """A display name as typed, with its spaces tidied; None when not given. Control
    characters are refused (a name is printed in PDFs, CSVs and pages)."""
    if value is None:
        return None
    tidy = " ".join(value.split())
    if not tidy:
        raise CentralError(
            f'the {what} name is empty: give the words people use, e.g. --name "Spark CIC"'
        )
    if len(tidy) > _NAME_MOST:
        raise CentralError(f"the {what} name is {len(tidy)} characters; at most {_NAME_MOST}")
    if any(ord(c) < 32 or ord(c) == 127 for c in tidy):
        raise CentralError(f"the {what} name {value!r} has a control character in it")
    return tidy


def check_id(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise CentralError(f"{what} id is empty")
    if len(value) > ID_LENGTH:
        raise CentralError(f"{what} id {value[:20]!r}... is longer than {ID_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise CentralError(f"{what} id {value!r} may not contain spaces or control characters")
    return value


def dumps(raw: Mapping[str, Any]) -> str:
    return pydantic_core.to_json(raw).decode(
        "utf-8"
    )  # compact JSON, several times json.dumps' speed


def event_subject(checked: Checked) -> str:
    data = checked.data
    if isinstance(data, MemberData):
        return data.family.family_id
    if isinstance(data, CardData):
        return data.uid
    if isinstance(data, AttendanceAmendedData):
        return data.attendance_id
    assert checked.event is not None
    return checked.event.event_id


def require_org(conn: Connection, org_id: str) -> str | None:
    """The organisation's display name (None if it has none); ``NotFound``, saying how to add
    it, when the server has no such organisation. Every command and report asks this first."""
    row = conn.execute(select(orgs.c.name).where(orgs.c.org_id == org_id)).first()
    if row is None:
        raise NotFound(
            f"no organisation {org_id!r}: add it first with 'kiosk-central org add {org_id}'"
        )
    return row.name


def require_site(conn: Connection, org_id: str, site_id: str) -> None:
    """``NotFound``, saying how to add it, unless organisation ``org_id`` (which must exist,
    :func:`require_org`) has site ``site_id``."""
    require_org(conn, org_id)
    found = conn.execute(
        select(sites.c.site_id).where(sites.c.org_id == org_id, sites.c.site_id == site_id)
    ).first()
    if found is None:
        raise NotFound(
            f"organisation {org_id!r} has no site {site_id!r}: add it first with "
            f"'kiosk-central site add {org_id} {site_id}'"
        )
