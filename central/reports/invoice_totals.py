"""Every organisation's invoice at once, in figures (the commissioner's overview): the same
counts and totals :func:`central.reports.invoice.build_invoice` gives, counted by the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select, true

from central.db import CentralDB, attendance_children, attendance_reviews, attendances, orgs
from central.reports._sql import qualifies, reading
from central.reports.invoice import build_invoice
from central.reports.money import PENNY
from central.reports.names import read_names
from central.reports.period import Period
from central.reports.rates import DEFAULT_CONTRACT, rate_table


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
    #: ``issued`` (then ``number`` is its invoice) or ``draft``.
    state: str = "draft"
    number: str | None = None
    org_name: str = ""
    credits: int = 0

    @property
    def org_label(self) -> str:
        return self.org_name or self.org_id


def invoice_totals(
    db: CentralDB,
    period: Period,
    org_ids: Sequence[str] | None = None,
    contract: str = DEFAULT_CONTRACT,
) -> list[InvoiceTotal]:
    """Each organisation's count and total for ``period``, counted by the database.

    Lines are counted by (organisation, date, status) in SQL; the rare sessions where a child
    is recorded twice are then read line by line and classified exactly as on the sheet. For a
    month, an issued invoice gives its stored figures, and an organisation with issued
    invoices has its draft made line by line (it may carry late lines and credits).
    """
    if period.is_month:
        return _month_totals(db, period, org_ids, contract)
    return _counted_totals(db, period, org_ids, contract)


def _month_totals(
    db: CentralDB, period: Period, org_ids: Sequence[str] | None, contract: str
) -> list[InvoiceTotal]:
    from central.reports.issued import orgs_with_invoices, stored_totals

    month = f"{period.start:%Y-%m}"
    names = read_names(db)
    issued = stored_totals(db, month, contract)
    with_invoices = orgs_with_invoices(db, contract)
    plain = [
        t
        for t in _counted_totals(db, period, org_ids, contract)
        if t.org_id not in issued and t.org_id not in with_invoices
    ]
    done = {t.org_id: replace(t, org_name=names.org(t.org_id)) for t in plain}
    wanted = org_ids if org_ids is not None else [org for org, _name in db.org_list()]
    for org in wanted:
        if org in done:
            continue
        sheet = build_invoice(db, org, period, contract)
        done[org] = InvoiceTotal(
            org,
            sheet.count,
            sheet.total,
            len(sheet.with_status("review")),
            len(sheet.with_status("excluded")),
            len(sheet.with_status("duplicate")),
            len(sheet.unpriced),
            state=sheet.state,
            number=sheet.issue.number if sheet.issue else None,
            org_name=names.org(org),
            credits=len(sheet.credits),
        )
    return [done[org] for org in sorted(done)]


def _counted_totals(
    db: CentralDB, period: Period, org_ids: Sequence[str] | None, contract: str
) -> list[InvoiceTotal]:
    """``invoice_totals`` from the attendances alone (no invoice issued)."""
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
