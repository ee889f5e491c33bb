"""The dashboard over HTTP: who may see what, downloads, and accessible markup."""

from __future__ import annotations

import base64
from datetime import date
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.rates import set_rate
from tests.reports.helpers import Kiosk, at


@pytest.fixture
def site(db, kiosk):
    """Two organisations with April 2016 attendances, a staff user and a commissioner."""
    other = Kiosk(db, org="tamworth", site="hub", device="tam-1").timetable(
        ("play", "Stay and Play", "09:30", "11:30", "mon")
    )
    other.risk("WS7 1AA")
    kiosk.register(
        "Sarah",
        "WS7 1AA",
        ["Mia", "Leo"],
        card="04A00001",
        heard_from="friend",
        at=at("2016-04-01"),
    )
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002", at=at("2016-01-01"))
    other.register("Amira", "WS7 1AA", ["Isla"], card="04B00001")
    for day in ("2016-04-04", "2016-04-11"):
        kiosk.tap("04A00001", at(day))
        other.tap("04B00001", at(day))
    kiosk.tap("04A00002", at("2016-02-01"))
    kiosk.sync()
    other.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    set_rate(db, "tamworth", "2.50", date(2016, 4, 1))
    passwords = {
        "alice": db.add_user("alice", "staff", "lichfield"),
        "fred": db.add_user("fred", "finance", "lichfield"),
        "carol": db.add_user("carol", "commissioner"),
    }
    return passwords


@pytest.fixture
def client(db):
    with TestClient(create_app(db), base_url="http://testserver") as c:
        yield c


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def log_in(client, name, password, next_url="/dashboard"):
    return client.post(
        "/dashboard/login",
        data={"name": name, "password": password, "next": next_url},
        follow_redirects=False,
    )


def test_without_credentials_the_dashboard_asks_you_to_sign_in(client, site):
    r = client.get("/dashboard/org/lichfield?month=2016-04", follow_redirects=False)
    assert r.status_code == 303
    assert (
        r.headers["location"]
        == "/dashboard/login?next=%2Fdashboard%2Forg%2Flichfield%3Fmonth%3D2016-04"
    )
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and '<label for="password">Password</label>' in page.text


def test_the_login_form_sets_a_signed_cookie_that_opens_the_staffs_organisation(client, site):
    wrong = log_in(client, "alice", "guess")
    assert wrong.status_code == 401 and "not right" in wrong.text
    r = log_in(client, "alice", site["alice"], "/dashboard?month=2016-04")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard?month=2016-04"
    cookie = r.cookies.get("doorstep_session")
    assert cookie and "httponly" in r.headers["set-cookie"].lower()
    home = client.get("/dashboard?month=2016-04", follow_redirects=False)
    assert home.headers["location"] == "/dashboard/org/lichfield?month=2016-04"
    page = client.get(home.headers["location"])
    assert page.status_code == 200
    assert "£12.00" in page.text and "Sarah" not in page.text  # total; names only in registers
    assert "no-store" in page.headers["cache-control"]

    client.cookies.set("doorstep_session", cookie[:-2] + "xx", path="/dashboard")
    tampered = client.get("/dashboard/org/lichfield", follow_redirects=False)
    assert tampered.status_code == 303 and "/dashboard/login" in tampered.headers["location"]


def test_staff_see_only_their_own_organisation(client, site):
    auth = basic("alice", site["alice"])
    assert client.get("/dashboard/org/lichfield?month=2016-04", headers=auth).status_code == 200
    other = client.get("/dashboard/org/tamworth?month=2016-04", headers=auth)
    assert other.status_code == 403 and "Not your organisation" in other.text
    for path in ("invoice.csv", "invoice.pdf", "reach.csv", "register?date=2016-04-04"):
        assert client.get(f"/dashboard/org/tamworth/{path}", headers=auth).status_code == 403
    assert client.get("/dashboard/all/reach.csv?month=2016-04", headers=auth).status_code == 403
    bad = client.get("/dashboard/org/lichfield", headers=basic("alice", "nope"))
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Basic")


def test_the_commissioner_sees_every_organisation_but_no_family_names(client, site):
    auth = basic("carol", site["carol"])
    page = client.get("/dashboard?month=2016-04", headers=auth)
    assert page.status_code == 200
    assert "lichfield" in page.text and "tamworth" in page.text
    assert "£17.00" in page.text  # 12.00 + 2 x 2.50
    reg = client.get("/dashboard/org/lichfield/register?date=2016-04-04", headers=auth)
    assert reg.status_code == 200 and "Sarah" not in reg.text and "Mia" not in reg.text
    staff_reg = client.get(
        "/dashboard/org/lichfield/register?date=2016-04-04", headers=basic("alice", site["alice"])
    )
    assert "Sarah" in staff_reg.text and "Leo, Mia" in staff_reg.text
    assert client.get("/dashboard/org/lichfield/outreach", headers=auth).status_code == 403
    outreach = client.get(
        "/dashboard/org/lichfield/outreach?month=2016-04", headers=basic("alice", site["alice"])
    )
    assert "Tom" in outreach.text and "1 February 2016" in outreach.text


def test_downloads_are_the_same_sheet_as_the_command_line(client, site, db):
    auth = basic("alice", site["alice"])
    # The sheet's lines are for the finance role: staff are refused the CSV.
    url = "/dashboard/org/lichfield/invoice.csv?month=2016-04"
    assert client.get(url, headers=auth).status_code == 403
    csv_file = client.get(url, headers=basic("fred", site["fred"]))
    assert csv_file.headers["content-disposition"] == (
        'attachment; filename="invoice-lichfield-2016-04.csv"'
    )
    assert csv_file.text == build_invoice(db, "lichfield", Period.month("2016-04")).csv_text()
    pdf = client.get("/dashboard/org/lichfield/invoice.pdf?month=2016-04", headers=auth)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    reach = client.get("/dashboard/org/lichfield/reach.pdf?month=2016-04", headers=auth)
    assert reach.content.startswith(b"%PDF")
    reg = client.get("/dashboard/org/lichfield/register.csv?date=2016-04-04", headers=auth)
    assert reg.text.splitlines()[0].startswith("date,site,session")
    assert client.get("/dashboard/org/lichfield?month=2016-4x", headers=auth).status_code == 400


def test_sign_in_with_the_browsers_password_prompt_then_a_cookie(client, site):
    challenge = client.get("/dashboard/login/basic?next=/dashboard/org/lichfield")
    assert challenge.status_code == 401 and "Basic" in challenge.headers["www-authenticate"]
    r = client.get(
        "/dashboard/login/basic?next=https://evil.example/",
        headers=basic("alice", site["alice"]),
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"  # no open redirect
    assert r.cookies.get("doorstep_session")


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict] = []
        self.inputs: list[dict] = []
        self.labels: set[str] = set()
        self.th: list[dict] = []
        self.html_lang = None
        self.h1 = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "img":
            self.imgs.append(a)
        elif tag == "input" and a.get("type") != "hidden":
            self.inputs.append(a)
        elif tag == "label":
            self.labels.add(a.get("for"))
        elif tag == "th":
            self.th.append(a)
        elif tag == "h1":
            self.h1 += 1


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_pages_are_accessible_markup(client, site, user):
    auth = basic(user, site[user])
    for path in ("/dashboard/org/lichfield?month=2016-04", "/dashboard/login"):
        m = _Markup()
        m.feed(client.get(path, headers=auth).text)
        assert m.html_lang == "en-GB" and m.h1 == 1
        assert all(img.get("alt", "").strip() for img in m.imgs)
        assert all(i.get("id") in m.labels for i in m.inputs)
        assert all(th.get("scope") in ("col", "row") for th in m.th)
        assert "<script" not in client.get(path, headers=auth).text
