"""On the dashboard: the trend and reach against the population for the months to the
one shown, their downloads, and who may see them."""

from __future__ import annotations

import base64
import csv
import io

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.reports.trend import build_trend, write_trend_csv
from tests.geography.county import YEAR


@pytest.fixture
def client(db):
    with TestClient(create_app(db), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def people(db, county):
    return {
        "alice": db.add_user("alice", "staff", "lichfield"),
        "carol": db.add_user("carol", "commissioner"),
    }


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_the_commissioner_sees_the_trend_and_the_county_headline(client, people):
    page = client.get("/dashboard?month=2017-03", headers=basic("carol", people["carol"]))
    assert page.status_code == 200
    assert "The trend: 1 April 2016 to 31 March 2017" in page.text
    assert "Children reached month by month" in page.text
    assert "Reach against the population: children aged 0-4" in page.text
    assert "13.3%" in page.text and "8 of 60 children aged 0-4" in page.text
    assert 'href="/dashboard/all/area-reach.pdf?from=2016-04&amp;to=2017-03' in page.text


def test_staff_see_their_own_organisation_and_not_the_county(client, people):
    auth = basic("alice", people["alice"])
    page = client.get("/dashboard/org/lichfield?month=2017-03", headers=auth)
    assert page.status_code == 200 and "8.3%" in page.text  # 5 of 60: lichfield's own children
    assert client.get("/dashboard/all/trend.csv", headers=auth).status_code == 403
    assert client.get("/dashboard/org/cannock/trend.csv", headers=auth).status_code == 403


def test_the_trend_download_is_the_command_lines(client, people, db):
    auth = basic("carol", people["carol"])
    got = client.get("/dashboard/all/trend.csv?from=2016-04&to=2017-03", headers=auth)
    assert got.status_code == 200
    buf = io.StringIO()
    write_trend_csv(build_trend(db, None, YEAR), buf)
    assert got.text == buf.getvalue()
    rows = {r["month"]: r for r in csv.DictReader(io.StringIO(got.text))}
    # June: Amy's 2, Bea's 2, Cat's 2, Dee's 1, Eve's 3, Gus's 1, Hal's 1, Jo's 2, Kim's 3,
    # Max's 1, Ned's 1 (every child who came, of any age); no risk list, so none qualify.
    assert rows["2016-06"]["qualifying_children"] == "0" and rows["2016-06"]["children"] == "19"


def test_reach_against_the_population_downloads(client, people):
    auth = basic("carol", people["carol"])
    pdf = client.get("/dashboard/all/area-reach.pdf?from=2016-04&to=2017-03", headers=auth)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    got = client.get(
        "/dashboard/org/lichfield/area-reach.csv?from=2016-04&to=2017-03", headers=auth
    )
    headline = {
        r["name"]: r for r in csv.DictReader(io.StringIO(got.text)) if r["section"] == "headline"
    }
    assert headline["0-30% most deprived LSOAs"]["reach_percent"] == "8.3"
    bad = client.get("/dashboard/all/trend.csv?from=2016-13&to=2017-03", headers=auth)
    assert bad.status_code == 400
    assert client.get("/dashboard/all/trend.xls", headers=auth).status_code == 404
