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

Reviews of unsynchronised lines are ``central.reports.reviews``; every organisation's figures
at once, ``central.reports.invoice_totals``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TextIO

from sqlalchemy import Connection, and_, or_, select

from central.db import (
    CentralDB,
    attendance_children,
    attendance_reviews,
    attendances,
    require_org,
)
from central.reports._sql import qualifies, reading
from central.reports.money import PENNY, format_money
from central.reports.names import read_names
from central.reports.period import REPORT_TZ, Period, local_now
from central.reports.rates import DEFAULT_CONTRACT, Rate, RateTable, rate_table
from kiosk.domain.csvcells import csv_writer

Status = Literal["counted", "credit", "review", "excluded", "duplicate"]
STATUS_ORDER: tuple[Status, ...] = ("counted", "credit", "review", "excluded", "duplicate")
STATUS_TEXT: dict[Status, str] = {
    "counted": "counted",
    "credit": "credit: billed before, no longer counted",
    "review": "for review: kiosk clock not synchronised",
    "excluded": "excluded after review",
    "duplicate": "duplicate: counted once",
}
#: What a line is on its invoice: the month's own, ``late`` (for a month already issued, with
#: its own date) or ``credit`` (taking back what an earlier invoice billed).
LineKind = Literal["regular", "late", "credit"]

#: The CSV columns (a contract: acceptance scripts and spreadsheets read them, some by
#: position, so none is added). Reasons and sites stay codes and ids for machines (the PDF and
#: pages show words and names); a late line's status says ``late``, a credit's ``credit``,
#: and a credit's amount is negative, so a spreadsheet's sum is the total.
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
    """One qualifying child-attendance (or, with status ``credit``, one taken back)."""

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
    #: For a month already issued: the invoice that month was issued as.
    late_of: str | None = None
    #: For a credit: the invoice that billed it.
    credit_of: str | None = None
    site_name: str = ""

    @property
    def kind(self) -> LineKind:
        if self.status == "credit":
            return "credit"
        return "late" if self.late_of else "regular"

    @property
    def pair(self) -> tuple[str, str]:
        """What is billed once: this child at this attendance."""
        return (self.attendance_id, self.child_id)

    @property
    def amount(self) -> Decimal | None:
        if self.status == "credit":
            return None if self.rate is None else -self.rate
        return self.rate if self.status == "counted" else None

    @property
    def in_total(self) -> bool:
        return self.status in ("counted", "credit")

    @property
    def site_label(self) -> str:
        return self.site_name or self.site_id

    def status_text(self) -> str:
        """The CSV's status: a late line starts ``late:``, a credit ``credit:``."""
        status = STATUS_TEXT[self.status]
        if self.status == "duplicate":
            status += f" (first recorded as {self.duplicate_of})"
        elif self.status == "credit":
            status = f"credit: billed on {self.credit_of}, no longer counted"
        elif self.reviewed_by:
            status += f" (reviewed by {self.reviewed_by})"
        if self.late_of:
            status = f"late: {status}; {self.session_date:%B %Y} was issued as {self.late_of}"
        return status

    def csv_row(self) -> list[str | Decimal | None]:
        """The line's cells; money as ``Decimal`` so the CSV writer keeps it a number."""
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
            self.status_text(),
            _money(self.rate) if self.in_total else None,
            _money(self.amount),
            self.attendance_id,
        ]

    def to_json(self) -> dict[str, Any]:
        """The line as stored in an issued invoice (``invoices.sheet``)."""
        return {
            "session_date": self.session_date.isoformat(),
            "session_name": self.session_name,
            "site_id": self.site_id,
            "family_id": self.family_id,
            "child_id": self.child_id,
            "reasons": list(self.reasons),
            "risk_version": self.risk_version,
            "method": self.method,
            "clock_synced": self.clock_synced,
            "attendance_id": self.attendance_id,
            "recorded_at": self.recorded_at.isoformat(),
            "status": self.status,
            "rate": None if self.rate is None else str(self.rate),
            "duplicate_of": self.duplicate_of,
            "reviewed_by": self.reviewed_by,
            "late_of": self.late_of,
            "credit_of": self.credit_of,
            "site_name": self.site_name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InvoiceLine:
        return cls(
            session_date=date.fromisoformat(data["session_date"]),
            session_name=data["session_name"],
            site_id=data["site_id"],
            family_id=data["family_id"],
            child_id=data["child_id"],
            reasons=tuple(data["reasons"]),
            risk_version=data["risk_version"],
            method=data["method"],
            clock_synced=bool(data["clock_synced"]),
            attendance_id=data["attendance_id"],
            recorded_at=datetime.fromisoformat(data["recorded_at"]),
            status=data["status"],
            rate=None if data["rate"] is None else Decimal(data["rate"]),
            duplicate_of=data.get("duplicate_of"),
            reviewed_by=data.get("reviewed_by"),
            late_of=data.get("late_of"),
            credit_of=data.get("credit_of"),
            site_name=data.get("site_name") or "",
        )


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
class Issue:
    """An invoice number a sheet was issued (or, with ``voided_at``, voided) as."""

    number: str
    issued_at: datetime
    issued_by: str
    fingerprint: str
    voided_at: datetime | None = None
    voided_by: str | None = None
    void_reason: str | None = None


@dataclass(frozen=True)
class InvoiceSheet:
    org_id: str
    contract: str
    period: Period
    lines: tuple[InvoiceLine, ...]
    rates: RateTable
    generated_at: datetime = field(default_factory=local_now, compare=False)
    #: The organisation's display name (its id when it has none).
    org_name: str = ""
    #: Set when this is an issued invoice: shown as it was issued, never recomputed.
    issue: Issue | None = None
    #: The CSV exactly as issued (an issued sheet's fingerprint is that of this text).
    frozen_csv: str | None = field(default=None, repr=False, compare=False)
    #: Invoices of this month issued before and voided (the draft says so).
    voided: tuple[Issue, ...] = ()

    # -- the figures -------------------------------------------------------------------------
    @property
    def org_label(self) -> str:
        return self.org_name or self.org_id

    @property
    def state(self) -> str:
        """``issued`` or ``draft`` (a month not issued, or any other period)."""
        return "issued" if self.issue else "draft"

    def with_status(self, *statuses: Status) -> list[InvoiceLine]:
        return [line for line in self.lines if line.status in statuses]

    @property
    def counted(self) -> list[InvoiceLine]:
        return self.with_status("counted")

    @property
    def regular_counted(self) -> list[InvoiceLine]:
        return [line for line in self.counted if not line.late_of]

    @property
    def late(self) -> list[InvoiceLine]:
        return [line for line in self.lines if line.late_of]

    @property
    def credits(self) -> list[InvoiceLine]:
        return self.with_status("credit")

    @property
    def count(self) -> int:
        """Qualifying child-attendances in the total (priced or not; late ones included)."""
        return len(self.counted)

    @property
    def total(self) -> Decimal:
        in_total = [line for line in self.lines if line.in_total]
        return sum((line.amount or Decimal(0) for line in in_total), Decimal(0)).quantize(PENNY)

    @property
    def credit_total(self) -> Decimal:
        return sum((ln.amount or Decimal(0) for ln in self.credits), Decimal(0)).quantize(PENNY)

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
        if self.issue:
            out.append(
                f"Issued as invoice {self.issue.number} on "
                f"{self.issue.issued_at.astimezone(REPORT_TZ):%d %B %Y} by "
                f"{self.issue.issued_by}: this sheet no longer changes. Anything recorded or "
                "reviewed for this month afterwards goes on the next open invoice."
            )
        elif self.period.is_month:
            out.append(
                "Draft: not issued yet, so it can still change as kiosks send what they "
                f"recorded (issue it with 'kiosk-central invoice issue --org {self.org_id} "
                f"--month {self.period.start:%Y-%m}')."
            )
        for gone in self.voided:
            out.append(
                f"Invoice {gone.number} for this month was voided"
                + (f" on {gone.voided_at.astimezone(REPORT_TZ):%d %B %Y}" if gone.voided_at else "")
                + f" by {gone.voided_by}: {gone.void_reason}"
            )
        late = self.late
        if late:
            months = sorted({f"{ln.session_date:%B %Y}" for ln in late})
            out.append(
                f"{len(late)} late line(s) for {', '.join(months)}, already issued: recorded "
                "or reviewed after that invoice was issued, they are listed with their own "
                "dates and, when counted, are in this total."
            )
        credits = self.credits
        if credits:
            out.append(
                f"{len(credits)} credit line(s) take back {format_money(-self.credit_total)} "
                "billed on an earlier invoice for attendances no longer counted (excluded "
                "after review, or a child taken off the attendance)."
            )
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
        if self.frozen_csv is not None:
            out.write(self.frozen_csv)
            return
        writer = csv_writer(out)
        writer.writerow(CSV_COLUMNS)
        for line in self.lines:
            writer.writerow(line.csv_row())
        total_row: list[str | Decimal | None] = [None] * len(CSV_COLUMNS)
        total_row[0] = "TOTAL"
        total_row[1] = f"{self.count} qualifying child-attendances"
        left_out = len([line for line in self.lines if not line.in_total])
        if left_out:
            total_row[9] = f"{left_out} line(s) above not in the total"
        if self.credits:
            total_row[9] = "; ".join(
                filter(None, [total_row[9], f"{len(self.credits)} credit line(s)"])  # type: ignore[list-item]
            )
        total_row[CSV_COLUMNS.index("amount")] = _money(self.total)
        writer.writerow(total_row)

    def csv_text(self) -> str:
        if self.frozen_csv is not None:
            return self.frozen_csv
        buf = io.StringIO()
        self.write_csv(buf)
        return buf.getvalue()


def build_invoice(
    db: CentralDB, org_id: str, period: Period, contract: str = DEFAULT_CONTRACT
) -> InvoiceSheet:
    """The backing sheet of ``org_id`` for ``period`` (see the module's description).

    A calendar month is an invoice: issued, it is the sheet as issued; else the draft, with
    what arrived late for months already issued (``central.reports.issued``). Any other period
    is every line recorded in it, as it is now.
    """
    if period.is_month:
        from central.reports.issued import month_sheet

        return month_sheet(db, org_id, period, contract)
    with reading(db) as conn:
        require_org(conn, org_id)
        rows = invoice_rows(conn, org_id, [period])
        names = read_names(db, org_id)
    rates = rate_table(db, org_id, contract)
    lines = classify(rows, rates, names.sites_of(org_id))
    return InvoiceSheet(org_id, contract, period, lines, rates, org_name=names.org(org_id))


def invoice_rows(conn: Connection, org_id: str, periods: Sequence[Period]) -> list[Any]:
    """Every qualifying child-attendance of ``org_id`` in any of ``periods``."""
    a, ac, rv = attendances, attendance_children, attendance_reviews
    within = or_(*(and_(a.c.session_date >= p.start, a.c.session_date <= p.end) for p in periods))
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
        .where(a.c.org_id == org_id, within, qualifies())
    )
    return list(conn.execute(query).all())


def classify(
    rows: Sequence[Any],
    rates: RateTable,
    site_names: Mapping[str, str] | None = None,
    billed: Collection[tuple[str, str]] = (),
) -> tuple[InvoiceLine, ...]:
    """Lines from ``invoice_rows``, each with its status; a child recorded twice at a session
    is counted once, the line already ``billed`` on an issued invoice first if there is one.
    ``site_names``: the organisation's sites' display names by id."""
    site_names = site_names or {}
    # Chronological, then stable by ids, so the sheet never depends on the database's order.
    ordered = sorted(
        rows,
        key=lambda r: (
            r.session_date,
            r.site_id,
            r.session_name.lower(),
            (r.attendance_id, r.child_id) not in billed,
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
                site_name=site_names.get(row.site_id, ""),
            )
        )
    return by_status(lines)


def by_status(lines: Sequence[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return tuple(sorted(lines, key=lambda ln: order[ln.status]))  # stable: dates stay in order
