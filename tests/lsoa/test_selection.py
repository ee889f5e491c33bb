"""The selection rule, header matching and the postcode fast path: pure, and property-tested."""

from __future__ import annotations

import doctest
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import kiosk.domain.lsoa as lsoa_module
import kiosk.lsoa_import as lsoa_import_module
from kiosk.domain.lsoa import ENGLAND_LSOAS, LsoaError, Selection, normalise_header
from kiosk.domain.lsoa_postcodes import CANONICAL_POSTCODE, normalise_postcode_fast
from kiosk.domain.postcodes import PostcodeError, parse_postcode


def test_thirty_percent_of_2011_lsoas_is_ranks_up_to_9853():
    share = Selection.most_deprived("30%")
    assert share.max_rank(ENGLAND_LSOAS[2011]) == 9_853
    assert share.max_rank(ENGLAND_LSOAS[2021]) == 10_126
    table = share.ranks(32_844)
    assert table[9_853] and not table[9_854] and not table[0]


def test_rule_reads_as_in_the_version_record():
    assert Selection.most_deprived("30%").describe("IMD 2019", 32_844) == (
        "IMD 2019 rank <= 30% (9,853 LSOAs)"
    )
    assert Selection.most_deprived("12.5").describe("IMD 2019", 32_844) == (
        "IMD 2019 rank <= 12.5% (4,105 LSOAs)"
    )
    assert Selection.from_deciles("1-2,5").describe("IMD 2025", 33_755) == (
        "IMD 2025 deciles 1-2,5"
    )


@pytest.mark.parametrize("text", ["0%", "-5%", "101%", "thirty", "", "1/0"])
def test_a_share_outside_0_to_100_percent_is_refused(text):
    with pytest.raises(LsoaError, match="--most-deprived"):
        Selection.most_deprived(text)


@pytest.mark.parametrize("text", ["0-3", "1-11", "3-1", "a", "1-", ""])
def test_deciles_outside_1_to_10_are_refused(text):
    with pytest.raises(LsoaError, match="--deciles"):
        Selection.from_deciles(text)


def test_deciles_accept_ranges_and_lists():
    assert Selection.from_deciles("1-3").deciles == {1, 2, 3}
    assert Selection.from_deciles("1, 3,5-6").deciles == {1, 3, 5, 6}


def test_a_share_in_whole_deciles_maps_to_deciles_for_a_decile_only_file():
    assert Selection.most_deprived("30%").deciles_for_share("imd.csv") == {1, 2, 3}
    with pytest.raises(LsoaError, match="whole deciles"):
        Selection.most_deprived("25%").deciles_for_share("imd.csv")


@given(
    lsoas=st.sampled_from([32_844, 33_755, 10, 11, 1_909, 997]),
    tenths=st.integers(min_value=1, max_value=10),
)
def test_most_deprived_share_and_deciles_select_the_same_ranks(lsoas, tenths):
    share = Selection(percent=Fraction(10 * tenths))
    deciles = Selection(deciles=frozenset(range(1, tenths + 1)))
    assert share.ranks(lsoas) == deciles.ranks(lsoas)


@given(
    lsoas=st.integers(min_value=1, max_value=40_000),
    percent=st.fractions(min_value=Fraction(1, 100), max_value=100),
)
def test_a_share_takes_exactly_the_ranks_at_most_that_share(lsoas, percent):
    table = Selection(percent=percent).ranks(lsoas)
    taken = [r for r in range(1, lsoas + 1) if table[r]]
    assert taken == list(range(1, len(taken) + 1))  # the most deprived, none skipped
    assert len(taken) <= percent * lsoas / 100 < len(taken) + 1


@given(
    header=st.sampled_from(
        [
            "LSOA code (2011)",
            "Index of Multiple Deprivation (IMD) Rank",
            "Local Authority District name (2019)",
            "lsoa11",
        ]
    ),
    data=st.data(),
)
def test_headers_match_whatever_the_case_spacing_punctuation_or_bom(header, data):
    upper = data.draw(st.lists(st.booleans(), min_size=len(header), max_size=len(header)))
    cased = "".join(c.upper() if u else c.lower() for c, u in zip(header, upper, strict=True))
    messy = data.draw(st.sampled_from(["", "\ufeff", "  "])) + cased.replace(" ", "_") + " "
    assert normalise_header(messy) == normalise_header(header)


OUTWARD = st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]?", fullmatch=True)
INWARD = st.from_regex(r"[0-9][A-Z]{2}", fullmatch=True)


@given(outward=OUTWARD, inward=INWARD, space=st.sampled_from([" ", "", "  "]))
@example(outward="GIR", inward="0AA", space=" ")
@example(outward="EC1A", inward="1BB", space=" ")
@example(outward="W1A", inward="0AX", space=" ")
@example(outward="QA1", inward="1AA", space=" ")
def test_fast_postcode_path_agrees_with_the_full_parser(outward, inward, space):
    text = f"{outward}{space}{inward}"
    try:
        expected = str(parse_postcode(text))
    except PostcodeError:
        with pytest.raises(PostcodeError):
            normalise_postcode_fast(text)
        return
    assert normalise_postcode_fast(text) == expected
    # Every valid postcode in its standard form takes the fast path (no parser needed).
    assert CANONICAL_POSTCODE.fullmatch(expected)


def test_docstring_examples_run():
    for module in (lsoa_module, lsoa_import_module):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
