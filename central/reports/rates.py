"""The rate per qualifying child-session, per organisation and contract, from a date.

A rate holds from its ``effective_from`` day until the next one takes effect, so a rate change
mid-month prices each line at the rate in force on its session's date.

    >>> set_rate(db, "lichfield", "£3.00", date(2016, 4, 1))         # doctest: +SKIP
    >>> rate_table(db, "lichfield").rate_on(date(2016, 4, 18))       # doctest: +SKIP
    Rate(org_id='lichfield', contract='incentive', effective_from=..., amount=Decimal('3.00'))
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select, update

from central.db import CentralDB, CentralError, NotFound, org_rates, orgs, utcnow
from central.reports.money import from_pence, parse_amount, to_pence

#: The contract a rate belongs to when none is named.
DEFAULT_CONTRACT = "incentive"


@dataclass(frozen=True)
class Rate:
    org_id: str
    contract: str
    effective_from: date
    amount: Decimal


@dataclass(frozen=True)
class RateTable:
    """An organisation's rates for one contract, oldest first."""

    org_id: str
    contract: str
    rates: tuple[Rate, ...]

    def rate_on(self, day: date) -> Rate | None:
        """The rate in force on ``day`` (None before the first one)."""
        starts = [r.effective_from for r in self.rates]
        i = bisect.bisect_right(starts, day)
        return self.rates[i - 1] if i else None

    def in_force_during(self, start: date, end: date) -> list[Rate]:
        """Every rate that applies to some day from ``start`` to ``end``."""
        first = self.rate_on(start)
        later = [r for r in self.rates if start < r.effective_from <= end]
        return ([first] if first else []) + later


def set_rate(
    db: CentralDB,
    org_id: str,
    amount: str | Decimal,
    effective_from: date,
    contract: str = DEFAULT_CONTRACT,
    replace: bool = False,
) -> tuple[Rate, str]:
    """Record a rate from ``effective_from``; returns it and what happened (for the admin).

    Setting the same rate again changes nothing. A different amount for a day that already has
    a rate would change sheets already sent, so it needs ``replace=True``.
    """
    value = amount if isinstance(amount, Decimal) else parse_amount(amount)
    if value <= 0:
        raise CentralError(f"rate {value} must be more than zero")
    contract = contract.strip() or DEFAULT_CONTRACT
    rate = Rate(org_id, contract, effective_from, value)
    with db.writing(org_id) as conn:
        if conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first() is None:
            raise NotFound(
                f"no organisation {org_id!r}: add it first with 'kiosk-central org add {org_id}'"
            )
        key = (
            org_rates.c.org_id == org_id,
            org_rates.c.contract == contract,
            org_rates.c.effective_from == effective_from,
        )
        held = conn.execute(select(org_rates.c.amount_pence).where(*key)).scalar()
        if held is None:
            conn.execute(
                insert(org_rates).values(
                    org_id=org_id,
                    contract=contract,
                    effective_from=effective_from,
                    amount_pence=to_pence(value),
                    created_at=utcnow(),
                )
            )
            return rate, "set"
        if held == to_pence(value):
            return rate, "unchanged"
        if not replace:
            raise CentralError(
                f"{org_id} already has a rate of £{from_pence(held)} ({contract}) from "
                f"{effective_from}; sheets for those months may have been sent. Give --replace "
                "to change it, or choose another --from date"
            )
        conn.execute(
            update(org_rates).where(*key).values(amount_pence=to_pence(value), created_at=utcnow())
        )
        return rate, f"replaced £{from_pence(held)}"


def rate_table(db: CentralDB, org_id: str, contract: str = DEFAULT_CONTRACT) -> RateTable:
    with db.reading() as conn:
        rows = conn.execute(
            select(org_rates.c.effective_from, org_rates.c.amount_pence)
            .where(org_rates.c.org_id == org_id, org_rates.c.contract == contract)
            .order_by(org_rates.c.effective_from)
        ).all()
    return RateTable(
        org_id,
        contract,
        tuple(Rate(org_id, contract, r.effective_from, from_pence(r.amount_pence)) for r in rows),
    )


def all_rates(db: CentralDB, org_id: str) -> list[Rate]:
    """Every rate of ``org_id``, by contract then date."""
    with db.reading() as conn:
        rows = conn.execute(
            select(org_rates)
            .where(org_rates.c.org_id == org_id)
            .order_by(org_rates.c.contract, org_rates.c.effective_from)
        ).all()
    return [Rate(r.org_id, r.contract, r.effective_from, from_pence(r.amount_pence)) for r in rows]
