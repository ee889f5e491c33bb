"""The invoice backing sheet: every qualifying child-attendance of a period, priced.

One line per child per qualifying attendance (date, session, site, family and child
references, the reasons and risk-list version recorded at the door), priced at the
organisation's rate in force on the session's date, and the total in exact pence.

What is *not* in the total, and is listed apart so nothing is hidden:

- ``review``: recorded while the kiosk clock was not synchronised; the date may be wrong, so
  someone checks it (``kiosk-central review``) before it is counted.
- ``excluded``: reviewed and not counted.
- ``duplicate``: the same child at the same session (same site, date and session name)
  recorded again, e.g. at a second kiosk or typed from paper as well: counted once.
- a line with no rate in force on its date is counted but unpriced, and the sheet says so.

The sheet is reproducible: it reads the decision each attendance carries and never recomputes
it, so the same period gives the same lines (and the same :attr:`InvoiceSheet.fingerprint`)
whatever risk lists were imported or families moved since.

    >>> sheet = build_invoice(db, "lichfield", Period.month("2016-04"))   # doctest: +SKIP
    >>> sheet.count, sheet.total                                          # doctest: +SKIP
    (91, Decimal('273.00'))
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TextIO

from sqlalchemy import (
    Connection,
    and_,
    case,
    false,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from central.db import (
    CentralDB,
    CentralError,
    NotFound,
    attendance_children,
    attendance_reviews,
    attendances,
    orgs,
    utcnow,
)
from central.reports._sql import qualifies, reading
from central.reports.money import PENNY
from central.reports.period import Period, local_now
from central.reports.rates import DEFAULT_CONTRACT, Rate, RateTable, rate_table
from kiosk.domain.csvcells import csv_writer

Status = Literal["counted", "review", "excluded", "duplicate"]
STATUS_ORDER: tuple[Status, ...] = ("counted", "review", "excluded", "duplicate")
STATUS_TEXT: dict[Status, str] = {
    "counted": "counted",
    "review": "for review: kiosk clock not synchronised",
    "excluded": "excluded after review",
    "duplicate": "duplicate: counted once",
}
REVIEW_DECISIONS = ("counted", "excluded")

#: The CSV columns (a contract: acceptance scripts and spreadsheets read them).
CSV_COLUMNS = (
    "date",
    "session",
    "site",
    "family_ref",
    "child_ref",
    "reasons",
    "risk_version",
    "method",
    "clock_synced",
    "status",
    "rate",
    "amount",
    "attendance_id",
)


@dataclass(frozen=True)
class InvoiceLine:
    """One qualifying child-attendance."""

    session_date: date
    session_name: str
    site_id: str
    family_id: str
    child_id: str
    reasons: tuple[str, ...]
    risk_version: str
    method: str
    clock_synced: bool
    attendance_id: str
    recorded_at: datetime
    status: Status
    rate: Decimal | None = None
    duplicate_of: str | None = None
    reviewed_by: str | None = None

    @property
    def amount(self) -> Decimal | None:
        return self.rate if self.status == "counted" else None

    def csv_row(self) -> list[str | Decimal | None]:
        """The line's cells; money as ``Decimal`` so the CSV writer keeps it a number."""
        status = STATUS_TEXT[self.status]
        if self.status == "duplicate":
            status += f" (first recorded as {self.duplicate_of})"
        elif self.reviewed_by:
            status += f" (reviewed by {self.reviewed_by})"
        return [
            self.session_date.isoformat(),
            self.session_name,
            self.site_id,
            self.family_id,
            self.child_id,
            ";".join(self.reasons),
            self.risk_version,
            self.method,
            "yes" if self.clock_synced else "no",
            status,
            _money(self.rate) if self.status == "counted" else None,
            _money(self.amount),
            self.attendance_id,
        ]


def _money(amount: Decimal | None) -> Decimal | None:
    """An amount to the penny, as a number: the CSV writer neutralises text that starts with
    a minus sign, but writes the numbers we computed ourselves as they are (``-3.00``)."""
    return None if amount is None else amount.quantize(PENNY)


@dataclass(frozen=True)
class RateSubtotal:
    """Counted lines priced at one rate."""

    rate: Rate | None
    count: int
    subtotal: Decimal


@dataclass(frozen=True)
class InvoiceSheet:
    org_id: str
    contract: str
    period: Period
    lines: tuple[InvoiceLine, ...]
    rates: RateTable
    generated_at: datetime = field(default_factory=local_now, compare=False)

    # -- the figures -------------------------------------------------------------------------
    def with_status(self, *statuses: Status) -> list[InvoiceLine]:
        return [line for line in self.lines if line.status in statuses]

    @property
    def counted(self) -> list[InvoiceLine]:
        return self.with_status("counted")

    @property
    def count(self) -> int:
        """Qualifying child-attendances in the total (priced or not)."""
        return len(self.counted)

    @property
    def total(self) -> Decimal:
        return sum((line.amount or Decimal(0) for line in self.counted), Decimal(0)).quantize(PENNY)

    @property
    def unpriced(self) -> list[InvoiceLine]:
        return [line for line in self.counted if line.rate is None]

    @property
    def subtotals(self) -> list[RateSubtotal]:
        """Counted lines grouped by the rate that priced them, oldest rate first."""
        groups: dict[date | None, list[InvoiceLine]] = {}
        for line in self.counted:
            rate = self.rates.rate_on(line.session_date)
            groups.setdefault(rate.effective_from if rate else None, []).append(line)
        out = []
        for start in sorted(groups, key=lambda d: (d is not None, d or date.min)):
            lines = groups[start]
            rate = self.rates.rate_on(start) if start else None
            out.append(
                RateSubtotal(
                    rate,
                    len(lines),
                    sum((ln.amount or Decimal(0) for ln in lines), Decimal(0)).quantize(PENNY),
                )
            )
        return out

    @property
    def rates_in_force(self) -> list[Rate]:
        return self.rates.in_force_during(self.period.start, self.period.end)

    @property
    def families(self) -> int:
        return len({line.family_id for line in self.counted})

    @property
    def children(self) -> int:
        return len({line.child_id for line in self.counted})

    @property
    def sessions(self) -> int:
        return len({(ln.session_date, ln.site_id, ln.session_name) for ln in self.counted})

    @property
    def risk_versions(self) -> list[str]:
        return sorted({line.risk_version for line in self.lines})

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the CSV: the same lines, rates and total always give the same value."""
        return hashlib.sha256(self.csv_text().encode("utf-8")).hexdigest()

    def notes(self) -> list[str]:
        """What a reader of the sheet must know, in plain words (also on the PDF)."""
        out = []
        review = self.with_status("review")
        if review:
            out.append(
                f"{len(review)} qualifying child-attendance(s) were recorded while the kiosk "
                "clock was not synchronised: they are listed for review and are NOT in the "
                "total until someone reviews them (kiosk-central review)."
            )
        excluded = self.with_status("excluded")
        if excluded:
            out.append(f"{len(excluded)} child-attendance(s) were excluded after review.")
        dups = self.with_status("duplicate")
        if dups:
            out.append(
                f"{len(dups)} child-attendance(s) were recorded twice for the same session "
                "(e.g. at two kiosks, or from paper as well): each is counted once."
            )
        if self.unpriced:
            first = min(line.session_date for line in self.unpriced)
            out.append(
                f"{len(self.unpriced)} counted line(s) from {first} have no rate in force and "
                "are not priced: set one with 'kiosk-central org rate "
                f"{self.org_id} AMOUNT --from DATE'."
            )
        if not self.lines:
            out.append("No qualifying attendances were recorded in this period.")
        return out

    # -- CSV ---------------------------------------------------------------------------------
    def write_csv(self, out: TextIO) -> None:
        """One row per qualifying child-attendance (counted first), then the total row."""
        writer = csv_writer(out)
        writer.writerow(CSV_COLUMNS)
        for line in self.lines:
            writer.writerow(line.csv_row())
        total_row: list[str | Decimal | None] = [None] * len(CSV_COLUMNS)
        total_row[0] = "TOTAL"
        total_row[1] = f"{self.count} qualifying child-attendances"
        left_out = len(self.lines) - self.count
        if left_out:
            total_row[9] = f"{left_out} line(s) above not in the total"
        total_row[CSV_COLUMNS.index("amount")] = _money(self.total)
        writer.writerow(total_row)

    def csv_text(self) -> str:
        buf = io.StringIO()
        self.write_csv(buf)
        return buf.getvalue()


def build_invoice(
    db: CentralDB, org_id: str, period: Period, contract: str = DEFAULT_CONTRACT
) -> InvoiceSheet:
    """The backing sheet of ``org_id`` for ``period`` (see the module's description)."""
    a, ac, rv = attendances, attendance_children, attendance_reviews
    query = (
        select(
            a.c.attendance_id,
            a.c.session_date,
            a.c.session_name,
            a.c.site_id,
            a.c.family_id,
            ac.c.child_id,
            a.c.reasons,
            a.c.risk_version,
            a.c.method,
            a.c.clock_synced,
            a.c.at,
            rv.c.decision,
            rv.c.reviewed_by,
        )
        .select_from(
            a.join(ac, ac.c.attendance_id == a.c.attendance_id).outerjoin(
                rv, rv.c.attendance_id == a.c.attendance_id
            )
        )
        .where(
            a.c.org_id == org_id,
            a.c.session_date >= period.start,
            a.c.session_date <= period.end,
            qualifies(),
        )
    )
    with reading(db) as conn:
        _require_org(conn, org_id)
        rows = conn.execute(query).all()
    rates = rate_table(db, org_id, contract)
    return InvoiceSheet(org_id, contract, period, _classify(rows, rates), rates)


def _classify(rows: Sequence[Any], rates: RateTable) -> tuple[InvoiceLine, ...]:
    # Chronological, then stable by ids, so the sheet never depends on the database's order.
    ordered = sorted(
        rows,
        key=lambda r: (
            r.session_date,
            r.site_id,
            r.session_name.lower(),
            r.at,
            r.attendance_id,
            r.child_id,
        ),
    )
    first_seen: dict[tuple[Any, ...], str] = {}
    lines = []
    for row in ordered:
        key = (row.session_date, row.site_id, row.session_name.lower(), row.child_id)
        dup_of = first_seen.setdefault(key, row.attendance_id)
        status: Status
        if dup_of != row.attendance_id:
            status = "duplicate"
        elif row.clock_synced or row.decision == "counted":
            status = "counted"
        elif row.decision == "excluded":
            status = "excluded"
        else:
            status = "review"
        rate = rates.rate_on(row.session_date)
        lines.append(
            InvoiceLine(
                session_date=row.session_date,
                session_name=row.session_name,
                site_id=row.site_id,
                family_id=row.family_id,
                child_id=row.child_id,
                reasons=tuple(row.reasons or ()),
                risk_version=row.risk_version,
                method=row.method,
                clock_synced=bool(row.clock_synced),
                attendance_id=row.attendance_id,
                recorded_at=row.at,
                status=status,
                rate=rate.amount if rate else None,
                duplicate_of=dup_of if status == "duplicate" else None,
                reviewed_by=row.reviewed_by,
            )
        )
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return tuple(sorted(lines, key=lambda ln: order[ln.status]))  # stable: dates stay in order


def _require_org(conn: Connection, org_id: str) -> None:
    if conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first() is None:
        raise NotFound(f"no organisation {org_id!r} (see 'kiosk-central org add')")


# -- reviews ---------------------------------------------------------------------------------
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
    with db.engine.begin() as conn:
        att = conn.execute(
            select(
                attendances.c.org_id, attendances.c.session_date, attendances.c.clock_synced
            ).where(attendances.c.attendance_id == attendance_id)
        ).first()
        if att is None:
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


# -- every organisation at once (the commissioner's overview) --------------------------------
@dataclass(frozen=True)
class InvoiceTotal:
    """An organisation's sheet in figures: the same as :func:`build_invoice` gives."""

    org_id: str
    count: int
    total: Decimal
    review: int
    excluded: int
    duplicate: int
    unpriced: int


def invoice_totals(
    db: CentralDB,
    period: Period,
    org_ids: Sequence[str] | None = None,
    contract: str = DEFAULT_CONTRACT,
) -> list[InvoiceTotal]:
    """Each organisation's count and total for ``period``, counted by the database.

    Lines are counted by (organisation, date, status) in SQL; the rare sessions where a child
    is recorded twice are then read line by line and classified exactly as on the sheet.
    """
    a, ac, rv = attendances, attendance_children, attendance_reviews
    joined = a.join(ac, ac.c.attendance_id == a.c.attendance_id).outerjoin(
        rv, rv.c.attendance_id == a.c.attendance_id
    )
    where = [a.c.session_date >= period.start, a.c.session_date <= period.end, qualifies()]
    if org_ids is not None:
        where.append(a.c.org_id.in_(list(org_ids)))
    status = case(
        (a.c.clock_synced == true(), literal("counted")),
        (rv.c.decision == "counted", literal("counted")),
        (rv.c.decision == "excluded", literal("excluded")),
        else_=literal("review"),
    )
    session = (a.c.org_id, a.c.site_id, a.c.session_date, func.lower(a.c.session_name))
    with reading(db) as conn:
        buckets = conn.execute(
            select(a.c.org_id, a.c.session_date, status, func.count())
            .select_from(joined)
            .where(*where)
            .group_by(a.c.org_id, a.c.session_date, status)
        ).all()
        # A child can only be recorded twice at a session where the family was: find those
        # families on the attendances alone (no join), then read just their lines.
        twice = conn.execute(
            select(*session, a.c.family_id)
            .where(*where)
            .group_by(*session, a.c.family_id)
            .having(func.count() > 1)
        ).all()
        repeated: list[Any] = []
        for org, site, day, name, family in twice:
            lines = conn.execute(
                select(ac.c.child_id, a.c.org_id, a.c.session_date, status)
                .select_from(joined)
                .where(
                    *where,
                    a.c.org_id == org,
                    a.c.site_id == site,
                    a.c.session_date == day,
                    func.lower(a.c.session_name) == name,
                    a.c.family_id == family,
                )
                .order_by(a.c.at, a.c.attendance_id)
            ).all()
            seen: set[str] = set()
            for child, *rest in lines:
                if child in seen:  # the first recording stands; the others are duplicates
                    repeated.append(rest)
                seen.add(child)
        orgs_in = sorted(
            org_ids if org_ids is not None else conn.execute(select(orgs.c.org_id)).scalars()
        )
    counts: dict[tuple[str, date, str], int] = {}
    for org, day, st, n in buckets:
        counts[(org, day, st)] = counts.get((org, day, st), 0) + int(n)
    for org, day, st in repeated:
        counts[(org, day, st)] -= 1
        counts[(org, day, "duplicate")] = counts.get((org, day, "duplicate"), 0) + 1
    out = []
    for org in orgs_in:
        rates = rate_table(db, org, contract)
        mine = {(day, st): n for (o, day, st), n in counts.items() if o == org}
        total, unpriced = Decimal(0), 0
        for (day, st), n in mine.items():
            if st != "counted":
                continue
            rate = rates.rate_on(day)
            if rate is None:
                unpriced += n
            else:
                total += rate.amount * n

        def of(st: str, mine: dict[tuple[date, str], int] = mine) -> int:
            return sum(n for (_d, s), n in mine.items() if s == st)

        out.append(
            InvoiceTotal(
                org,
                of("counted"),
                total.quantize(PENNY),
                of("review"),
                of("excluded"),
                of("duplicate"),
                unpriced,
            )
        )
    return out
