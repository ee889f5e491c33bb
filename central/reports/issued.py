"""Invoices that stay issued: ``kiosk-central invoice issue|list|void``.

Issuing a month freezes its backing sheet under an invoice number (``spark-2016-04-1``): the
CSV exactly as issued (so its fingerprint never changes), the lines with what the PDF needs,
and one ``invoice_lines`` row per child-attendance saying whether it was billed. From then on
that month is shown as issued, whatever arrives.

What arrives or changes afterwards goes on the **next open invoice** (the first month after
its own that is not issued), never on the issued one and never twice:

- a child-attendance of an issued month that no issued invoice has billed and that now counts
  (a kiosk offline for weeks, or one reviewed and counted afterwards) is a ``late`` line with
  its own date, priced at the rate of that date; one that arrives and does not count (still
  for review, a duplicate) is listed late once, outside the total;
- one billed that no longer counts (excluded after review, or the child taken off the
  attendance) is a ``credit`` line taking back what was billed.

Voiding (``invoice void NUMBER --reason``) keeps the invoice's row, with when, who and why;
its month is a draft again and may be issued under a new number. Both are audited.

    >>> number = issue_invoice(db, "spark", "2016-04", by="alice").number  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from central.db import (
    CentralDB,
    CentralError,
    NotFound,
    attendances,
    invoice_lines,
    invoices,
    orgs,
    require_org,
    utcnow,
)
from central.reports._sql import month_of, qualifies, reading
from central.reports.invoice import (
    InvoiceLine,
    InvoiceSheet,
    Issue,
    by_status,
    classify,
    invoice_rows,
)
from central.reports.money import from_pence, to_pence
from central.reports.names import read_names
from central.reports.period import Period, local_now, month_label
from central.reports.rates import DEFAULT_CONTRACT, Rate, RateTable, rate_table


class InvoiceError(CentralError):
    """An invoice that cannot be issued or voided (the message says why and what to do)."""


@dataclass(frozen=True)
class Billed:
    """A child-attendance billed (net) on a non-void invoice, and what it was billed at."""

    number: str
    session_date: date
    amount_pence: int | None


@dataclass(frozen=True)
class Billing:
    """What the organisation's non-void invoices hold, read once per sheet."""

    issued: dict[str, Issue]  # month -> the invoice it was issued as
    billed: dict[tuple[str, str], Billed]  # (attendance, child) -> billed and not credited
    listed: frozenset[tuple[str, str]]  # on any non-void invoice, billed or not

    def next_open(self, month: str) -> str:
        """The first month after ``month`` that is not issued: where what arrives late goes."""
        current = _next_month(month)
        while current in self.issued:
            current = _next_month(current)
        return current


def _next_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"


def _issue(row: Any) -> Issue:
    return Issue(
        row.number,
        row.issued_at,
        row.issued_by,
        row.fingerprint,
        row.voided_at,
        row.voided_by,
        row.void_reason,
    )


def read_billing(conn: Connection, org_id: str, contract: str) -> Billing:
    inv, il = invoices, invoice_lines
    live = (inv.c.org_id == org_id, inv.c.contract == contract, inv.c.voided_at.is_(None))
    issued = {r.month: _issue(r) for r in conn.execute(select(inv).where(*live))}
    net: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], Billed] = {}
    listed: set[tuple[str, str]] = set()
    rows = conn.execute(
        select(
            il.c.attendance_id,
            il.c.child_id,
            il.c.status,
            il.c.session_date,
            il.c.amount_pence,
            il.c.number,
        )
        .select_from(il.join(inv, inv.c.number == il.c.number))
        .where(*live)
        .order_by(inv.c.issued_at, inv.c.number)
    )
    for r in rows:
        pair = (r.attendance_id, r.child_id)
        listed.add(pair)
        if r.status == "counted":
            net[pair] = net.get(pair, 0) + 1
            last[pair] = Billed(r.number, r.session_date, r.amount_pence)
        elif r.status == "credit":
            net[pair] = net.get(pair, 0) - 1
    billed = {pair: last[pair] for pair, n in net.items() if n > 0}
    return Billing(issued, billed, frozenset(listed))


# -- the sheet of a month ------------------------------------------------------------------
def month_sheet(
    db: CentralDB, org_id: str, period: Period, contract: str = DEFAULT_CONTRACT
) -> InvoiceSheet:
    """The month's invoice: as issued if it is, else the draft (its own lines not billed
    elsewhere, and what arrived late or no longer counts for months already issued)."""
    return _month(db, org_id, period, contract)[0]


def _month(
    db: CentralDB, org_id: str, period: Period, contract: str
) -> tuple[InvoiceSheet, frozenset[str]]:
    """The month's sheet and the live invoices it was made against."""
    month = f"{period.start:%Y-%m}"
    with reading(db) as conn:
        org_name = require_org(conn, org_id)
        billing = read_billing(conn, org_id, contract)
        seen = frozenset(i.number for i in billing.issued.values())
        if month in billing.issued:
            row = conn.execute(
                select(invoices).where(invoices.c.number == billing.issued[month].number)
            ).one()
            return frozen_sheet(row, period), seen
        voided = tuple(
            _issue(r)
            for r in conn.execute(
                select(invoices)
                .where(
                    invoices.c.org_id == org_id,
                    invoices.c.contract == contract,
                    invoices.c.month == month,
                    invoices.c.voided_at.is_not(None),
                )
                .order_by(invoices.c.issued_at)
            )
        )
        # Months whose late lines and credits come here, besides the month's own lines.
        others = {m for m in billing.issued if billing.next_open(m) == month}
        others |= {
            f"{b.session_date:%Y-%m}"
            for b in billing.billed.values()
            if billing.next_open(f"{b.session_date:%Y-%m}") == month
        }
        others.discard(month)
        rows = invoice_rows(conn, org_id, [period, *(Period.month(m) for m in sorted(others))])
        gone = _billed_but_gone(conn, billing, rows, month)
    names = read_names(db, org_id)
    rates = rate_table(db, org_id, contract)
    lines = classify(rows, rates, names.sites_of(org_id), billing.billed)
    own, late, credits = [], [], []
    for line in lines:
        line_month = f"{line.session_date:%Y-%m}"
        billed = billing.billed.get(line.pair)
        if billed is not None:
            if line.status != "counted" and billing.next_open(line_month) == month:
                credits.append(_credit(line, billed))
            continue
        if line_month not in billing.issued:
            if line_month == month:
                own.append(line)
        elif billing.next_open(line_month) == month and (
            line.status == "counted" or line.pair not in billing.listed
        ):
            late.append(replace(line, late_of=billing.issued[line_month].number))
    credits += gone
    sheet_lines = (*own, *by_status(late), *credits)
    sheet = InvoiceSheet(
        org_id,
        contract,
        period,
        sheet_lines,
        rates,
        org_name=names.org(org_id) if org_name else "",
        voided=voided,
    )
    return sheet, seen


def _credit(line: InvoiceLine, billed: Billed) -> InvoiceLine:
    rate = None if billed.amount_pence is None else from_pence(billed.amount_pence)
    return replace(line, status="credit", rate=rate, credit_of=billed.number, late_of=None)


def _billed_but_gone(
    conn: Connection, billing: Billing, rows: Sequence[Any], month: str
) -> list[InvoiceLine]:
    """Credits for billed child-attendances no longer on record whose attendance still is
    (the child was taken off it). An attendance removed altogether (retention) is history,
    not a correction: no credit."""
    present = {(r.attendance_id, r.child_id) for r in rows}
    missing = {
        pair: b
        for pair, b in billing.billed.items()
        if pair not in present and billing.next_open(f"{b.session_date:%Y-%m}") == month
    }
    if not missing:
        return []
    still = set(
        conn.execute(
            select(attendances.c.attendance_id).where(
                attendances.c.attendance_id.in_(sorted({a for a, _c in missing})), qualifies()
            )
        ).scalars()
    )
    out = []
    stored: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for pair, billed in sorted(missing.items(), key=lambda kv: (kv[1].session_date, kv[0])):
        if pair[0] not in still:
            continue
        if billed.number not in stored:
            sheet = conn.execute(
                select(invoices.c.sheet).where(invoices.c.number == billed.number)
            ).scalar_one()
            stored[billed.number] = {
                (ln["attendance_id"], ln["child_id"]): ln for ln in sheet["lines"]
            }
        data = stored[billed.number].get(pair)
        if data is None:
            continue
        out.append(_credit(InvoiceLine.from_json(data), billed))
    return out


def frozen_sheet(row: Any, period: Period | None = None) -> InvoiceSheet:
    """An issued invoice's sheet exactly as it was issued."""
    sheet = row.sheet
    period = period or Period.month(row.month)
    rates = RateTable(
        row.org_id,
        row.contract,
        tuple(
            Rate(row.org_id, row.contract, date.fromisoformat(r["from"]), Decimal(r["amount"]))
            for r in sheet["rates"]
        ),
    )
    return InvoiceSheet(
        row.org_id,
        row.contract,
        period,
        tuple(InvoiceLine.from_json(ln) for ln in sheet["lines"]),
        rates,
        org_name=sheet.get("org_name") or "",
        issue=_issue(row),
        frozen_csv=row.sheet_csv,
    )


# -- issue and void ------------------------------------------------------------------------
def _number(conn: Connection, org_id: str, contract: str, month: str) -> str:
    before = conn.execute(
        select(func.count()).where(
            invoices.c.org_id == org_id,
            invoices.c.contract == contract,
            invoices.c.month == month,
        )
    ).scalar_one()
    middle = "" if contract == DEFAULT_CONTRACT else f"-{contract}"
    return f"{org_id}{middle}-{month}-{int(before) + 1}"


def issue_invoice(
    db: CentralDB,
    org_id: str,
    month: str,
    by: str,
    contract: str = DEFAULT_CONTRACT,
    today: date | None = None,
) -> InvoiceSheet:
    """Freeze ``month``'s sheet of ``org_id`` under a new invoice number; returns it issued.

    Refused for a month not yet over (kiosks may still send its attendances), one already
    issued (void it first), or when another invoice of the organisation was issued while the
    sheet was being made (run it again)."""
    period = Period.month(month)
    today = today or local_now().date()
    if period.end >= today:
        raise InvoiceError(
            f"{period.label} is not over yet: issue its invoice from "
            f"{long_day(period.end)} onwards, when every session of the month has been held"
        )
    for _attempt in range(3):
        draft, seen = _month(db, org_id, period, contract)
        if draft.issue is not None:
            raise InvoiceError(
                f"{org_id} {period.label} was already issued as {draft.issue.number} (fingerprint "
                f"{draft.issue.fingerprint[:16]}); to issue it again, void it first: "
                f"'kiosk-central invoice void {draft.issue.number} --reason \"...\"'"
            )
        with db.writing(org_id) as conn:
            live = set(
                conn.execute(
                    select(invoices.c.number).where(
                        invoices.c.org_id == org_id,
                        invoices.c.contract == contract,
                        invoices.c.voided_at.is_(None),
                    )
                ).scalars()
            )
            if live != seen:
                continue  # another invoice was issued or voided meanwhile: make it again
            number = _number(conn, org_id, contract, month)
            issued_at = utcnow()
            sheet = replace(draft, generated_at=local_now())
            csv_text = sheet.csv_text()
            issued = replace(
                sheet,
                issue=Issue(number, issued_at, by, _sha256(csv_text)),
                frozen_csv=csv_text,
                voided=(),
            )
            conn.execute(
                insert(invoices).values(
                    number=number,
                    org_id=org_id,
                    contract=contract,
                    month=month,
                    issued_at=issued_at,
                    issued_by=by[:200],
                    count=issued.count,
                    total_pence=to_pence(issued.total),
                    fingerprint=issued.issue.fingerprint,  # type: ignore[union-attr]
                    sheet_csv=csv_text,
                    sheet=_sheet_json(issued),
                )
            )
            if issued.lines:
                conn.execute(insert(invoice_lines), [_line_row(number, ln) for ln in issued.lines])
            return issued
    raise InvoiceError(
        f"other invoices of {org_id} were being issued at the same time: run it again"
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def long_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _sheet_json(sheet: InvoiceSheet) -> dict[str, Any]:
    return {
        "org_name": sheet.org_name,
        "rates": [
            {"from": r.effective_from.isoformat(), "amount": str(r.amount)}
            for r in sheet.rates.rates
        ],
        "lines": [ln.to_json() for ln in sheet.lines],
    }


def _line_row(number: str, line: InvoiceLine) -> dict[str, Any]:
    amount = line.amount
    return {
        "number": number,
        "attendance_id": line.attendance_id,
        "child_id": line.child_id,
        "family_id": line.family_id,
        "kind": line.kind,
        "status": line.status,
        "session_date": line.session_date,
        "amount_pence": None if amount is None else to_pence(amount),
    }


def void_invoice(db: CentralDB, number: str, reason: str, by: str) -> Issue:
    """Void an issued invoice: its month is a draft again. The reason is required."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvoiceError('say why it is voided: --reason "sent with the wrong rate"')
    with db.reading() as conn:  # an invoice's organisation never changes
        org_id = conn.execute(select(invoices.c.org_id).where(invoices.c.number == number)).scalar()
    if org_id is None:
        raise NotFound(f"no invoice {number!r}: see 'kiosk-central invoice list'")
    with db.writing(org_id) as conn:
        row = conn.execute(select(invoices).where(invoices.c.number == number)).first()
        if row is None:
            raise NotFound(f"no invoice {number!r}: see 'kiosk-central invoice list'")
        if row.voided_at is not None:
            raise InvoiceError(
                f"invoice {number} was already voided on {row.voided_at:%Y-%m-%d} by "
                f"{row.voided_by}: {row.void_reason}"
            )
        now = utcnow()
        conn.execute(
            update(invoices)
            .where(invoices.c.number == number)
            .values(voided_at=now, voided_by=by[:200], void_reason=reason)
        )
        return replace(_issue(row), voided_at=now, voided_by=by[:200], void_reason=reason)


# -- the list ------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvoiceMonth:
    """One row of ``invoice list``: a month issued, voided, or still a draft."""

    org_id: str
    org_name: str
    month: str
    state: str  # issued | void | draft
    number: str | None
    count: int
    total: Decimal
    fingerprint: str | None
    issue: Issue | None = None

    @property
    def label(self) -> str:
        return month_label(self.month)

    def line(self) -> str:
        from central.reports.money import plain_money

        return "\t".join(
            [
                self.org_id,
                self.month,
                self.state,
                self.number or "-",
                str(self.count),
                plain_money(self.total),
                self.fingerprint or "-",
            ]
        )


def invoice_months(
    db: CentralDB,
    org_id: str | None = None,
    contract: str = DEFAULT_CONTRACT,
    until: str | None = None,
) -> list[InvoiceMonth]:
    """Every invoice issued or voided, and every month not issued with something on it
    (its own qualifying attendances, or late lines and credits), up to ``until`` (default:
    this month), by organisation and month."""
    until = until or f"{local_now():%Y-%m}"
    with reading(db) as conn:
        org_rows = conn.execute(
            select(orgs.c.org_id, orgs.c.name).order_by(orgs.c.org_id)
            if org_id is None
            else select(orgs.c.org_id, orgs.c.name).where(orgs.c.org_id == org_id)
        ).all()
        if org_id is not None and not org_rows:
            raise NotFound(f"no organisation {org_id!r} (see 'kiosk-central org add')")
        stored = conn.execute(
            select(invoices)
            .where(invoices.c.contract == contract)
            .order_by(invoices.c.org_id, invoices.c.month, invoices.c.issued_at)
        ).all()
        active = _active_months(db, conn, org_id)
    out = []
    for org, name in org_rows:
        mine = [r for r in stored if r.org_id == org]
        for r in mine:
            out.append(
                InvoiceMonth(
                    org,
                    name or org,
                    r.month,
                    "void" if r.voided_at else "issued",
                    r.number,
                    r.count,
                    from_pence(r.total_pence),
                    r.fingerprint,
                    _issue(r),
                )
            )
        issued = {r.month for r in mine if r.voided_at is None}
        months = set(active.get(org, ()))
        with reading(db) as conn:
            billing = read_billing(conn, org, contract)
        months |= {billing.next_open(m) for m in billing.issued}
        months |= {r.month for r in mine}
        for month in sorted(m for m in months - issued if m <= until):
            sheet = month_sheet(db, org, Period.month(month), contract)
            if not sheet.lines:
                continue
            out.append(
                InvoiceMonth(org, name or org, month, "draft", None, sheet.count, sheet.total, None)
            )
    out.sort(key=lambda m: (m.org_id, m.month, m.state != "void", m.number or ""))
    return out


def _active_months(db: CentralDB, conn: Connection, org_id: str | None) -> dict[str, set[str]]:
    """Months with qualifying attendances, by organisation (one grouped query)."""
    a = attendances
    month = month_of(db, a.c.session_date)
    query = select(a.c.org_id, month).where(qualifies()).group_by(a.c.org_id, month)
    if org_id is not None:
        query = query.where(a.c.org_id == org_id)
    out: dict[str, set[str]] = {}
    for org, m in conn.execute(query):
        out.setdefault(org, set()).add(str(m))
    return out


def stored_totals(
    db: CentralDB, month: str, contract: str = DEFAULT_CONTRACT
) -> dict[str, tuple[Issue, int, Decimal]]:
    """Each organisation's issued invoice for ``month``: (issue, count, total)."""
    with reading(db) as conn:
        rows = conn.execute(
            select(invoices).where(
                and_(
                    invoices.c.month == month,
                    invoices.c.contract == contract,
                    invoices.c.voided_at.is_(None),
                )
            )
        ).all()
    return {r.org_id: (_issue(r), r.count, from_pence(r.total_pence)) for r in rows}


def orgs_with_invoices(db: CentralDB, contract: str = DEFAULT_CONTRACT) -> set[str]:
    """Organisations with a live issued invoice: their drafts can carry late lines."""
    with reading(db) as conn:
        return set(
            conn.execute(
                select(invoices.c.org_id)
                .where(invoices.c.contract == contract, invoices.c.voided_at.is_(None))
                .distinct()
            ).scalars()
        )


__all__ = [
    "Billing",
    "InvoiceError",
    "InvoiceMonth",
    "frozen_sheet",
    "invoice_months",
    "issue_invoice",
    "month_sheet",
    "void_invoice",
]
