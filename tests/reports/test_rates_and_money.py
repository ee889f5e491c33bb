"""Rates per organisation and contract, and money typed by a person."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from central.db import CentralError, NotFound
from central.reports.money import MoneyError, format_money, parse_amount
from central.reports.rates import all_rates, rate_table, set_rate


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("3", "3.00"), ("3.5", "3.50"), ("£3.00", "3.00"), (" 12.25 ", "12.25"), ("GBP 4", "4.00")],
)
def test_amounts_are_read_as_exact_pounds_and_pence(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["-3", "3.005", "three", "", "3,00.1x", "1e3", "1500"])
def test_amounts_that_are_not_money_are_refused_with_the_reason(typed):
    with pytest.raises(MoneyError, match="amount"):
        parse_amount(typed)


def test_money_is_shown_with_the_pound_sign_and_thousands():
    assert format_money(Decimal("1092")) == "£1,092.00"
    assert format_money(None) == "—"


def test_setting_a_rate_again_is_harmless_but_changing_it_needs_replace(db, kiosk):
    assert set_rate(db, "lichfield", "3.00", date(2016, 4, 1))[1] == "set"
    assert set_rate(db, "lichfield", "£3.00", date(2016, 4, 1))[1] == "unchanged"
    with pytest.raises(CentralError, match="--replace"):
        set_rate(db, "lichfield", "3.20", date(2016, 4, 1))
    assert set_rate(db, "lichfield", "3.20", date(2016, 4, 1), replace=True)[1] == (
        "replaced £3.00"
    )
    set_rate(db, "lichfield", "3.50", date(2016, 9, 1))
    set_rate(db, "lichfield", "5.00", date(2016, 4, 1), contract="holiday-club")
    table = rate_table(db, "lichfield")
    assert table.rate_on(date(2016, 3, 31)) is None
    assert table.rate_on(date(2016, 8, 31)).amount == Decimal("3.20")
    assert table.rate_on(date(2016, 9, 1)).amount == Decimal("3.50")
    assert [(r.contract, r.amount) for r in all_rates(db, "lichfield")] == [
        ("holiday-club", Decimal("5.00")),
        ("incentive", Decimal("3.20")),
        ("incentive", Decimal("3.50")),
    ]


def test_a_rate_for_an_unknown_organisation_is_refused(db):
    with pytest.raises(NotFound, match="org add nowhere"):
        set_rate(db, "nowhere", "3.00", date(2016, 4, 1))
