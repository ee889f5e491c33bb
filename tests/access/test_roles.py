"""Who sees who qualifies: every role against every page and download.

The invoice's lines pair a family reference with the reasons it qualifies; registers pair the
same reference with the family's name. Staff see totals and registers with names but no
references and no reasons; finance (who sends the invoice) sees the lines; the commissioner
sees references and reasons but not names (unless granted them), as before.
"""

from __future__ import annotations

import re

import pytest

from central.audit import entries
from tests.access.helpers import COUNTY_PAGES, NAMES, basic, pages, text_of

#: How each reason the seeded families qualify for can appear: the code in CSVs, words in PDFs.
REASONS = re.compile(r"(^|[,;])postcode([,;]|$)|risk-area|young.parent", re.M)
INVOICE_CSV = "/dashboard/org/lichfield/invoice.csv?month=2016-04"
OUTREACH = "/dashboard/org/lichfield/outreach?month=2016-04"


def seen(client, county, user: str) -> dict[str, tuple[int, str]]:
    who = basic(user, county.passwords[user])
    out = {}
    for url in pages("lichfield") + COUNTY_PAGES:
        r = client.get(url, headers=who, follow_redirects=False)
        out[url] = (r.status_code, text_of(r) if r.status_code == 200 else "")
    return out


def refs_in(county, text: str) -> set[str]:
    ids = {*county.family_ids.values(), *county.child_ids.values()}
    return {ref for ref in ids if ref in text}


def names_in(text: str) -> set[str]:
    return {name for name in NAMES if re.search(rf"\b{name}\b", text)}


def test_staff_see_totals_and_named_registers_but_no_reference_or_reason(client, county):
    got = seen(client, county, "alice")
    statuses = {url: status for url, (status, _t) in got.items()}
    assert statuses == {
        **{url: 200 for url in pages("lichfield")},
        INVOICE_CSV: 403,
        COUNTY_PAGES[0]: 303,  # sent to their organisation's page
        COUNTY_PAGES[1]: 403,
        COUNTY_PAGES[2]: 403,
    }
    for url, (status, text) in got.items():
        if status != 200:
            continue
        assert refs_in(county, text) == set(), url
        assert not REASONS.search(text), url
    register = got["/dashboard/org/lichfield/register.csv?date=2016-04-04"][1]
    assert names_in(register) == {"Zephyrine", "Quillonet", "Marigoldia"}
    assert "Thaddeusz" in names_in(got[OUTREACH][1])  # outreach by name, no reference
    invoice_pdf = got["/dashboard/org/lichfield/invoice.pdf?month=2016-04"][1]
    assert "£12.00" in invoice_pdf and "finance role" in invoice_pdf  # the totals are there
    assert "£12.00" in got["/dashboard/org/lichfield?month=2016-04"][1]


def test_finance_sees_the_invoice_lines_with_references_and_reasons(client, county):
    got = seen(client, county, "fred")
    assert {url for url, (status, _t) in got.items() if status != 200} == {
        *COUNTY_PAGES,  # the county is the commissioner's
    }
    zephyrine = county.family_ids["Zephyrine"]
    csv_text = got[INVOICE_CSV][1]
    [line] = {
        row
        for row in csv_text.splitlines()
        if zephyrine in row and "2016-04-04" in row and county.child_ids["Quillonet"] in row
    }
    assert ",postcode," in line
    pdf = " ".join(got["/dashboard/org/lichfield/invoice.pdf?month=2016-04"][1].split())
    assert zephyrine in pdf and "risk-area postcode" in pdf  # the reason in words
    register = got["/dashboard/org/lichfield/register.csv?date=2016-04-04"][1]
    assert zephyrine in register and "Zephyrine" in names_in(register)


@pytest.mark.parametrize("user, names", [("carol", False), ("gina", True)])
def test_the_commissioner_sees_lines_and_references_as_before(client, county, user, names):
    got = seen(client, county, user)
    zephyrine = county.family_ids["Zephyrine"]
    assert got[INVOICE_CSV][0] == 200 and zephyrine in got[INVOICE_CSV][1]
    assert REASONS.search(got[INVOICE_CSV][1])
    register = got["/dashboard/org/lichfield/register?date=2016-04-04"][1]
    assert zephyrine in register
    assert bool(names_in(register)) is names
    assert got[OUTREACH][0] == (200 if names else 403)
    assert all(status == 200 for status, _t in (got[u] for u in COUNTY_PAGES))


def test_finance_and_staff_of_one_organisation_are_refused_another(client, county):
    for user in ("alice", "fred"):
        who = basic(user, county.passwords[user])
        for url in pages("tamworth"):
            r = client.get(url, headers=who)
            assert r.status_code == 403, (user, url)
            assert refs_in(county, r.text) == set()


def test_a_staff_refusal_of_the_lines_is_audited(client, county, db):
    client.get(INVOICE_CSV, headers=basic("alice", county.passwords["alice"]))
    client.get(INVOICE_CSV, headers=basic("fred", county.passwords["fred"]))
    refused = [(e.actor, e.detail.get("reason")) for e in entries(db, action="access.refused")]
    assert refused == [("alice", "invoice lines")]
    downloads = [(e.actor, e.detail["lines"]) for e in entries(db, action="report.download")]
    assert downloads == [("fred", True)]


def test_a_finance_user_belongs_to_an_organisation(db):
    from central.db import CentralError

    with pytest.raises(CentralError, match="a finance user belongs to an organisation"):
        db.add_user("flo", "finance")
