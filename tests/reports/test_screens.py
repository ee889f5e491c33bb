"""The dashboard in a real browser: headless Chromium against ``kiosk-central serve`` on
loopback. Screenshots go to ``artifacts/screenshots/`` (look at them; the README's come from
here). Skipped when Debian's ``chromium`` is not installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from central.db import CentralDB
from central.reports.invoice import build_invoice
from central.reports.pdf import invoice_pdf
from central.reports.period import Period
from tests.reports.sample import build_sample
from tests.sync.servers import REPO, CentralServer

SHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="doorstep-chromium-") as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )


def screenshot(url: str, name: str, height: int = 900) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    path.unlink(missing_ok=True)
    result = chromium(url, f"--screenshot={path}", f"--window-size=1280,{height}")
    assert path.exists(), result.stderr[-2000:]
    return path


def assert_not_blank(path: Path) -> None:
    from matplotlib.image import imread

    pixels = imread(str(path))
    assert pixels.shape[1] == 1280
    assert pixels.std() > 0.05  # not a blank page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screens")
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    db = CentralDB.open(url)
    build_sample(db)
    users = {
        "alice": db.add_user("alice", "staff", "lichfield"),
        "carol": db.add_user("carol", "commissioner"),
    }
    with CentralServer(url, folder / "server.log") as srv:
        yield srv, users, db
    db.close()


def signed_in(server, user: str, page: str) -> str:
    """A URL that signs ``user`` in with Basic credentials, then opens ``page`` (a GET)."""
    srv, users, _db = server
    host = srv.url.removeprefix("http://")
    return f"http://{user}:{users[user]}@{host}/dashboard/login/basic?next={quote(page)}"


def test_staff_dashboard_in_chromium(server):
    url = signed_in(server, "alice", "/dashboard/org/lichfield?month=2016-04")
    dom = chromium(url, "--dump-dom").stdout
    assert "Invoice backing sheet" in dom and "Signed in as" in dom and "£" in dom
    assert_not_blank(screenshot(url, "dashboard-staff.png"))
    assert_not_blank(screenshot(url, "dashboard-staff-full.png", height=2700))


def test_commissioner_overview_in_chromium(server):
    url = signed_in(server, "carol", "/dashboard?month=2016-04")
    dom = chromium(url, "--dump-dom").stdout
    assert "All organisations" in dom and "tamworth" in dom
    assert_not_blank(screenshot(url, "dashboard-commissioner.png", height=1500))


def test_register_and_login_pages_in_chromium(server):
    url = signed_in(server, "alice", "/dashboard/org/lichfield/register?date=2016-04-04")
    assert "Registers" in chromium(url, "--dump-dom").stdout
    assert_not_blank(screenshot(url, "dashboard-register.png"))
    srv, _users, _db = server
    login = chromium(srv.url + "/dashboard", "--dump-dom").stdout
    assert 'name="password"' in login  # redirected to the form
    assert_not_blank(screenshot(srv.url + "/dashboard", "dashboard-login.png", height=700))


def test_invoice_pdf_first_page_as_an_image(server, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    _srv, _users, db = server
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(invoice_pdf(build_invoice(db, "lichfield", Period.month("2016-04"))))
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-f",
            "1",
            "-l",
            "1",
            "-r",
            "110",
            "-png",
            "-singlefile",
            str(pdf),
            str(SHOTS / "invoice-page1"),
        ],
        check=True,
    )
    from matplotlib.image import imread

    page = imread(str(SHOTS / "invoice-page1.png"))
    assert page.shape[0] > page.shape[1] > 800  # A4 portrait
