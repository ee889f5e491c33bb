"""``GET /metrics``: what a council's Prometheus scrapes, in its text format (version 0.0.4).

::

    # HELP doorstep_central_events_ingested Events accepted and held by the server, by kiosk.
    # TYPE doorstep_central_events_ingested gauge
    doorstep_central_events_ingested{device="kiosk-1",org="lichfield"} 1234
    doorstep_central_events_rejected{device="kiosk-1",org="lichfield"} 0
    doorstep_central_device_last_contact_seconds{device="kiosk-1",org="lichfield"} 41.5
    doorstep_central_up 1

Every number is counted from the database when asked, not kept in the process: with several
server processes (``serve --workers N``) any one of them answers for all, and a restart loses
nothing. They are gauges, not counters, because retention and erasure may lower them.
Revoked kiosks are left out; a kiosk that never made contact has no last-contact line.

Who may read it: only a client sending ``Authorization: Bearer <[server] secret>`` (the
``secret`` in central.toml; Prometheus: ``authorization: {credentials_file: ...}``). Kiosk
names and organisations are not for the public, and behind a reverse proxy on the same machine
every request comes from loopback, so "loopback only" would let anyone in. Without a secret the
endpoint answers 404, saying how to turn it on.
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import func, select

from central.db import CentralDB, devices, events, rejections, utcnow
from central.reports._sql import reading

METRICS_PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class KioskCounts:
    """One enrolled kiosk's numbers."""

    device_id: str
    org_id: str
    ingested: int
    rejected: int
    last_contact: datetime | None


def kiosk_counts(db: CentralDB) -> list[KioskCounts]:
    """Every active kiosk's events held, events refused and last contact, from the database:
    one read-only snapshot, which on SQLite never waits for (nor holds up) a kiosk's batch."""
    with reading(db) as conn:
        held = dict(
            conn.execute(
                select(events.c.device_id, func.count()).group_by(events.c.device_id)
            ).all()
        )
        refused = dict(
            conn.execute(
                select(rejections.c.device_id, func.count()).group_by(rejections.c.device_id)
            ).all()
        )
        rows = conn.execute(
            select(
                devices.c.device_id,
                devices.c.org_id,
                devices.c.last_seen_at,
                devices.c.unkept_rejections,
            )
            .where(devices.c.revoked_at.is_(None))
            .order_by(devices.c.device_id)
        ).all()
    return [
        KioskCounts(
            device_id=row.device_id,
            org_id=row.org_id,
            ingested=int(held.get(row.device_id, 0)),
            # Refused events answered but not kept (the device's quota was full) count too.
            rejected=int(refused.get(row.device_id, 0)) + int(row.unkept_rejections or 0),
            last_contact=row.last_seen_at,
        )
        for row in rows
    ]


def escape_label(value: str) -> str:
    """A label value as the text format wants it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    inside = ",".join(f'{key}="{escape_label(val)}"' for key, val in sorted(labels.items()))
    number = repr(float(value)) if isinstance(value, float) else str(value)
    return f"{name}{{{inside}}} {number}" if inside else f"{name} {number}"


def render(kiosks: Iterable[KioskCounts], now: datetime) -> str:
    """The text exposition of ``kiosks`` at ``now``."""
    kiosks = list(kiosks)
    families: list[tuple[str, str, list[str]]] = [
        (
            "doorstep_central_events_ingested",
            "Events accepted and held by the server, by kiosk.",
            [_sample("doorstep_central_events_ingested", _labels(k), k.ingested) for k in kiosks],
        ),
        (
            "doorstep_central_events_rejected",
            "Events the server refused, by kiosk (kiosk-central device health says why).",
            [_sample("doorstep_central_events_rejected", _labels(k), k.rejected) for k in kiosks],
        ),
        (
            "doorstep_central_device_last_contact_seconds",
            "Seconds since the kiosk last reached the server.",
            [
                _sample(
                    "doorstep_central_device_last_contact_seconds",
                    _labels(k),
                    round(max(0.0, (now - k.last_contact).total_seconds()), 3),
                )
                for k in kiosks
                if k.last_contact is not None
            ],
        ),
        (
            "doorstep_central_up",
            "1 when the server answered from its database.",
            ["doorstep_central_up 1"],
        ),
    ]
    lines = []
    for name, text, samples in families:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge", *samples]
    return "\n".join(lines) + "\n"


def _labels(kiosk: KioskCounts) -> dict[str, str]:
    return {"device": kiosk.device_id, "org": kiosk.org_id}


def install_metrics(app: FastAPI, db: CentralDB, secret: str | None) -> None:
    """Add ``GET /metrics`` to ``app``, readable with ``secret`` as a bearer token."""

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not secret:
            return PlainTextResponse(
                "metrics are off: set [server] secret in central.toml and send it as a bearer "
                "token\n",
                status_code=404,
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), secret.encode()
        ):
            return PlainTextResponse(
                "send 'Authorization: Bearer <[server] secret of central.toml>'\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(render(kiosk_counts(db), utcnow()), media_type=CONTENT_TYPE)
