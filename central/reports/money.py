"""Money as exact decimals (pounds and pence), never floats.

>>> parse_amount("£3.00"), parse_amount("3.5"), format_money(Decimal("1092"))
(Decimal('3.00'), Decimal('3.50'), '£1,092.00')
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from central.db import CentralError

PENNY = Decimal("0.01")
#: A rate per child-session above this is surely a typing mistake (pence typed as pounds).
MAX_RATE = Decimal("1000")

_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")


class MoneyError(CentralError, ValueError):
    """An amount that is not money."""


def parse_amount(text: str) -> Decimal:
    """``3``, ``3.5``, ``3.00`` or ``£3.00`` as ``Decimal('3.00')``; at most two decimals."""
    cleaned = text.strip().replace(",", "")
    cleaned = cleaned.removeprefix("£").removeprefix("GBP").strip()
    if not _AMOUNT.match(cleaned):
        raise MoneyError(
            f"amount {text!r} is not an amount of money like 3.00 or £3.00 "
            "(pounds, at most two decimal places, not negative)"
        )
    try:
        value = Decimal(cleaned).quantize(PENNY)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes these
        raise MoneyError(f"amount {text!r} is not a number") from None
    if value > MAX_RATE:
        raise MoneyError(f"amount {text!r} is more than £{MAX_RATE}: was it typed in pence?")
    return value


def to_pence(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_pence(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(PENNY)


def format_money(amount: Decimal | None) -> str:
    """``£1,092.00``, a credit ``-£3.00`` (or an em dash when there is no amount)."""
    if amount is None:
        return "—"
    if amount < 0:
        return f"-£{-amount.quantize(PENNY):,}"
    return f"£{amount.quantize(PENNY):,}"


def plain_money(amount: Decimal | None) -> str:
    """``1092.00`` for CSV (no symbol, no thousands separator)."""
    return "" if amount is None else f"{amount.quantize(PENNY)}"
