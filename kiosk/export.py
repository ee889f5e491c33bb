"""The attendance export: one CSV row per child per attendance, as recorded at the door.

Columns are a contract (acceptance scripts and spreadsheets read them): ``date``, ``session``,
``family_id``, ``child``, ``method``, ``qualifies``, ``reasons``, ``risk_version`` and more.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol, TextIO

from kiosk.domain.attendance import Attendance
from kiosk.domain.csvcells import csv_dict_writer
from kiosk.domain.families import Family

EXPORT_COLUMNS = (
    "date",
    "session",
    "session_start",
    "site_id",
    "device_id",
    "family_id",
    "child_id",
    "child",
    "adults",
    "method",
    "volunteer",
    "qualifies",
    "reasons",
    "risk_version",
    "recorded_at",
    "clock_synced",
)


class ExportSource(Protocol):
    def attendances(
        self, since: date | None = None, until: date | None = None
    ) -> list[Attendance]: ...

    def family(self, family_id: str) -> Family | None: ...


def attendance_rows(
    store: ExportSource, since: date | None = None, until: date | None = None
) -> list[dict[str, str]]:
    """Rows in date and session order; a child no longer in the family record still appears."""
    rows: list[dict[str, str]] = []
    attendances = sorted(
        store.attendances(since, until), key=lambda a: (a.session.day, a.session.start, a.at)
    )
    for att in attendances:
        family = store.family(att.family_id)
        for child_id in att.children:
            child = family.child(child_id) if family else None
            rows.append(
                {
                    "date": att.session.day.isoformat(),
                    "session": att.session.name,
                    "session_start": att.session.start.strftime("%H:%M"),
                    "site_id": att.site_id,
                    "device_id": att.device_id,
                    "family_id": att.family_id,
                    "child_id": child_id,
                    "child": child.first_name if child else "",
                    "adults": str(att.adults),
                    "method": att.method,
                    "volunteer": att.volunteer or "",
                    "qualifies": "yes" if att.decision.qualifies else "no",
                    "reasons": ";".join(att.decision.reasons),
                    "risk_version": att.decision.risk_version,
                    "recorded_at": att.at.isoformat(),
                    "clock_synced": "yes" if att.clock_synced else "no",
                }
            )
    return rows


def write_attendance_csv(
    store: ExportSource, out: TextIO, since: date | None = None, until: date | None = None
) -> int:
    """Write the export to ``out``; returns the number of rows.

    Names typed at the door are written as text a spreadsheet will not run (see
    :mod:`kiosk.domain.csvcells`).
    """
    rows = attendance_rows(store, since, until)
    writer = csv_dict_writer(out, EXPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)
