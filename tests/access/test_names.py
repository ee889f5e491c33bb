"""A commissioner sees family and child references, never names, unless granted them."""

from __future__ import annotations

import re

import pytest

from central.audit import entries
from tests.access.helpers import (
    COUNTY_PAGES,
    LICHFIELD_NAMES,
    NAMES,
    TAMWORTH_NAMES,
    basic,
    pages,
    text_of,
)


def names_in(text: str) -> set[str]:
    return {name for name in NAMES if re.search(rf"\b{name}\b", text)}


def every_page() -> list[str]:
    return COUNTY_PAGES + pages("lichfield") + pages("tamworth")


def test_a_commissioner_without_the_grant_never_sees_a_family_name(client, county):
    who = basic("carol", county.passwords["carol"])
    seen: dict[str, int] = {}
    for url in every_page():
        r = client.get(url, headers=who)
        seen[url] = r.status_code
        assert names_in(text_of(r)) == set(), url
    # Everything but the outreach list (names only) was shown, not refused.
    refused = {url for url, status in seen.items() if status != 200}
    assert refused == {
        "/dashboard/org/lichfield/outreach?month=2016-04",
        "/dashboard/org/tamworth/outreach?month=2016-04",
    }
    assert all(seen[url] == 403 for url in refused)


def test_without_the_grant_the_register_shows_references_where_the_names_were(client, county):
    who = basic("carol", county.passwords["carol"])
    csv_text = client.get("/dashboard/org/lichfield/register.csv?date=2016-04-04", headers=who).text
    page = client.get("/dashboard/org/lichfield/register?date=2016-04-04", headers=who).text
    zephyrine = county.family_ids["Zephyrine"]
    kids = {county.child_ids["Quillonet"], county.child_ids["Marigoldia"]}
    [row] = [line for line in csv_text.splitlines() if zephyrine in line]
    assert all(kid in row for kid in kids)
    assert zephyrine in page


def test_with_the_names_grant_a_commissioner_sees_them(client, county):
    who = basic("gina", county.passwords["gina"])
    register = client.get("/dashboard/org/lichfield/register.csv?date=2016-04-04", headers=who)
    assert {"Zephyrine", "Quillonet", "Marigoldia"} <= names_in(register.text)
    page = client.get("/dashboard/org/tamworth/register?date=2016-04-04", headers=who)
    assert {"Perpetuax", "Wilhelmyna"} <= names_in(page.text)
    outreach = client.get("/dashboard/org/lichfield/outreach?month=2016-04", headers=who)
    assert outreach.status_code == 200 and "Thaddeusz" in names_in(outreach.text)
    reach_pdf = client.get("/dashboard/org/lichfield/reach.pdf?month=2016-04", headers=who)
    assert "Thaddeusz" in names_in(text_of(reach_pdf))


def test_revoking_the_grant_takes_the_names_away_at_once(client, county, db):
    who = basic("gina", county.passwords["gina"])
    url = "/dashboard/org/lichfield/register.csv?date=2016-04-04"
    assert "Zephyrine" in client.get(url, headers=who).text
    db.revoke_grant("gina", "names")
    assert names_in(client.get(url, headers=who).text) == set()


def test_a_commissioner_signed_in_by_cookie_is_held_to_the_grant_too(client, county, db):
    r = client.post(
        "/dashboard/login",
        data={"name": "carol", "password": county.passwords["carol"], "next": "/dashboard"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for url in pages("lichfield"):
        assert names_in(text_of(client.get(url))) == set(), url
    db.grant("carol", "names", by="test")
    assert "Zephyrine" in client.get("/dashboard/org/lichfield/register?date=2016-04-04").text


def test_staff_see_their_own_families_names(client, county):
    who = basic("alice", county.passwords["alice"])
    register = client.get("/dashboard/org/lichfield/register.csv?date=2016-04-04", headers=who)
    assert names_in(register.text) == {"Zephyrine", "Quillonet", "Marigoldia"}
    outreach = client.get("/dashboard/org/lichfield/outreach?month=2016-04", headers=who)
    assert names_in(outreach.text) == {"Thaddeusz"}


@pytest.mark.parametrize("org, other", [("lichfield", "tamworth"), ("tamworth", "lichfield")])
def test_staff_are_refused_every_page_and_download_of_another_organisation(
    client, county, org, other
):
    user = {"lichfield": "alice", "tamworth": "tess"}[org]
    who = basic(user, county.passwords[user])
    foreign = TAMWORTH_NAMES if other == "tamworth" else LICHFIELD_NAMES
    for url in pages(other) + COUNTY_PAGES[1:]:
        r = client.get(url, headers=who)
        assert r.status_code in (403, 404), url
        assert not names_in(text_of(r)) & set(foreign), url
    # Their own organisation's pages answer (the refusals above are about the organisation).
    assert client.get(pages(org)[0], headers=who).status_code == 200
    # The county overview sends staff to their own organisation.
    home = client.get(COUNTY_PAGES[0], headers=who, follow_redirects=False)
    assert home.status_code == 303 and f"/dashboard/org/{org}?" in home.headers["location"]


def test_refusals_and_what_was_shown_are_in_the_audit_log(client, county, db):
    client.get(
        "/dashboard/org/tamworth/register.csv?date=2016-04-04",
        headers=basic("alice", county.passwords["alice"]),
    )
    client.get(
        "/dashboard/org/lichfield/register.csv?date=2016-04-04",
        headers=basic("carol", county.passwords["carol"]),
    )
    client.get(
        "/dashboard/org/lichfield/register.csv?date=2016-04-04",
        headers=basic("gina", county.passwords["gina"]),
    )
    refused = [e for e in entries(db, action="access.refused")]
    assert [(e.actor, e.subject) for e in refused] == [("alice", "tamworth")]
    downloads = [(e.actor, e.detail["names"]) for e in entries(db, action="report.download")]
    assert downloads == [("carol", False), ("gina", True)]
