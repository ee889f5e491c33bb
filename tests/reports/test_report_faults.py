"""The report faults found, each with the check that shows it gone.

- the invoice PDF's reasons overprinted its risk-list column on the line pages;
- the reach PDF's table headers ran into each other ("FamiliesQualifying families");
- empty charts drew axes from -0.04 to 0.04 and a legend with both colours the same;
- "1 organisations";
- the headline share (of children, each once) beside a chart's share (of child-attendances)
  with no word on the difference;
- the login page told a centre manager to run a shell command.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph

from central.app import create_app
from central.reports import charts, pdf
from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.reach import build_reach
from tests.reports.helpers import at

APRIL = Period.month("2016-04")


@contextmanager
def tables_built() -> Iterator[list[Any]]:
    """Every table the PDF module lays out while the block runs."""
    made: list[Any] = []
    real = pdf.grid_table

    def keep(*args: Any, **kwargs: Any) -> Any:
        table = real(*args, **kwargs)
        made.append((table, kwargs.get("size", 7.5)))
        return table

    pdf.grid_table = keep
    try:
        yield made
    finally:
        pdf.grid_table = real


def overflowing_cells(tables: list[Any]) -> list[str]:
    """Cells whose text is wider than their column (so it runs into the next one)."""
    out = []
    for table, size in tables:
        rows, cols = len(table._cellvalues), len(table._colWidths)
        spans = {}
        for _cmd, (c0, r0), (c1, _r1) in table._spanCmds:
            spans[(c0 % cols, r0 % rows)] = c1 % cols
        for r, row in enumerate(table._cellvalues):
            for c, cell in enumerate(row):
                last = spans.get((c, r), c)
                room = sum(table._colWidths[c : last + 1]) - 7  # padding, 3.5 each side
                if isinstance(cell, Paragraph):
                    needed = cell.minWidth()
                elif isinstance(cell, str):
                    font = "Helvetica-Bold" if r == 0 else "Helvetica"
                    needed = stringWidth(cell, font, size)
                else:
                    continue
                if needed > room + 0.01:
                    out.append(f"row {r} col {c}: {cell if isinstance(cell, str) else cell.text!r}")
    return out


@pytest.fixture
def month(db, kiosk):
    """A family with every reason there is, two children, two sessions in April."""
    kiosk.register(
        "Sarah",
        "WS7 1AA",
        ["Mia", "Leo"],
        card="04A00001",
        criteria=("young_parent", "single_parent", "sen"),
        consent=True,
    )
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")
    for day in ("2016-04-04", "2016-04-11"):
        kiosk.tap("04A00001", at(day))
        kiosk.tap("04A00002", at(day))
    kiosk.sync()
    return kiosk


def test_invoice_line_cells_stay_inside_their_columns(db, month):
    sheet = build_invoice(db, "lichfield", APRIL)
    assert any(len(", ".join(line.reasons)) > 20 for line in sheet.lines)
    with tables_built() as tables:
        pdf.invoice_pdf(sheet)
    assert overflowing_cells(tables) == []


def test_the_widest_references_fit_their_columns(db, month):
    """References are random: one of wide letters only must fit too."""
    from dataclasses import replace

    sheet = build_invoice(db, "lichfield", APRIL)
    wide = [
        replace(line, family_id="F-WWWWWWWWWW", child_id="C-MMMMMMMMMM") for line in sheet.lines
    ]
    with tables_built() as tables:
        pdf.invoice_lines_table(wide, 500, None, None)
    assert overflowing_cells(tables) == []


def test_reach_pdf_headers_and_cells_stay_inside_their_columns(db, month):
    reach = build_reach(db, "lichfield", APRIL)
    with tables_built() as tables:
        document = pdf.reach_pdf(reach, charts.reach_charts(reach))
    assert overflowing_cells(tables) == []
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=document, capture_output=True, check=True
        ).stdout.decode()
        assert "FamiliesQualifying" not in text


def test_empty_charts_say_so_in_words(db, kiosk):
    reach = build_reach(db, "lichfield", APRIL)
    for chart in charts.reach_charts(reach):
        [ax] = chart.figure.axes
        assert not ax.axison, chart.name  # no axis counting from -0.04 to 0.04
        assert ax.get_legend() is None, chart.name
        words = [t.get_text() for t in ax.texts]
        assert any(w.startswith("No ") for w in words), (chart.name, words)


def test_a_chart_with_bars_keeps_two_legend_colours(db, month):
    chart = charts.reach_chart(build_reach(db, "lichfield", APRIL))
    [ax] = chart.figure.axes
    legend = ax.get_legend()
    colours = {tuple(h.get_facecolor()) for h in legend.legend_handles}
    assert len(colours) == 2


@pytest.fixture
def client(db):
    with TestClient(create_app(db), base_url="http://testserver") as c:
        yield c


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_one_organisation_is_one_organisation(db, month, client):
    password = db.add_user("carol", "commissioner")
    page = client.get("/dashboard?month=2016-04", headers=basic("carol", password)).text
    assert "1 organisations" not in page and "1 organisation<" in page
    reach = build_reach(db, "lichfield", Period.between("2016-04-04", "2016-04-04"))
    with tables_built():
        text = pdf.reach_pdf(reach, [])
    if shutil.which("pdftotext"):
        words = subprocess.run(
            ["pdftotext", "-", "-"], input=text, capture_output=True, check=True
        ).stdout.decode()
        assert "at 1 sessions" not in words and "at 1 session" in words


def test_the_two_shares_say_what_they_count(db, month, client):
    password = db.add_user("alice", "staff", "lichfield")
    page = client.get("/dashboard/org/lichfield?month=2016-04", headers=basic("alice", password))
    text = page.text
    assert "each child counted once" in text
    mix = charts.mix_chart(build_reach(db, "lichfield", APRIL))
    assert "child-attendances" in mix.title
    assert "each child counted at every session" in text


def test_the_login_page_names_no_command(client):
    page = client.get("/dashboard/login").text
    assert "kiosk-central" not in page and "<code>" not in page
    assert "the person who set up the reports" in page
