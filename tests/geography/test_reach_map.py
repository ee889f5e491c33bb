"""Issue 18 item 3: the reach map, drawn from a hand-made boundary file over the county.

The boundary file (one layout, in British National Grid metres and in longitude/latitude), in
1 km cells from the south-west corner; reach is the county's (test_county_scenario.py):

    y 1-2   C1 6.7% (risk)      NEIGHBOUR (no figure)
    y 0-1   L1 25.0% (risk)     L2 16.7% (risk)      L3 12.5%: x 2-4, y 0-2, a hole at
                                                     x 2.75-3.25, y 0.75-1.25, and an island
                                                     at x 4.5-5, y 0-0.5 (a MultiPolygon)
            x 0-1               x 1-2

C2 (25.0%) is not in the file. NEIGHBOUR is in the file and not in the postcode directory.
The risk areas are lichfield's risk list (built from the 0-30% most deprived): L1, L2, C1.

The pictures are looked at through the figure's own transform: a point of the map in the
file's coordinates is found on the rendered image, and its colour read there.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from matplotlib.backends.backend_agg import FigureCanvasAgg

from central.app import create_app
from central.reports.area_reach import AgeBand, build_area_reach
from central.reports.charts import Chart
from central.reports.maps import MAP_NAME, draw_reach_map, reach_map, why_no_map
from tests.geography.county import C1, C2, L1, L2, L3, YEAR, central
from tests.geography.map_sample import sample_county
from tests.reports.test_screens import CHROMIUM, assert_not_blank, chromium, screenshot, signed_in
from tests.sync.servers import CentralServer

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
NEIGHBOUR = "E01029999"
#: The south-west corner and a cell's size: in metres (BNG) and in degrees (lon/lat, a cell
#: 0.0148 degrees of longitude by 0.009 of latitude is about 1 km square at 52.7 N).
GRIDS = {
    "bng": ((404_000.0, 306_000.0), (1000.0, 1000.0)),
    "lonlat": ((-1.85, 52.68), (0.0148, 0.009)),
}


def _square(x0: float, y0: float, x1: float, y1: float, clockwise: bool = False) -> list:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return ring[::-1] if clockwise else ring


def layout() -> dict[str, list]:
    """Each LSOA's polygons (of rings) in cells; the hole is given anticlockwise like its
    exterior, as files sometimes do, so only the map's own winding keeps it empty."""
    return {
        L1: [[_square(0, 0, 1, 1)]],
        L2: [[_square(1, 0, 2, 1, clockwise=True)]],
        L3: [
            [_square(2, 0, 4, 2), _square(2.75, 0.75, 3.25, 1.25)],
            [_square(4.5, 0, 5, 0.5)],
        ],
        C1: [[_square(0, 1, 1, 2)]],
        NEIGHBOUR: [[_square(1, 1, 2, 2)]],
    }


def to_file(grid: str, x: float, y: float) -> tuple[float, float]:
    (ox, oy), (dx, dy) = GRIDS[grid]
    return ox + x * dx, oy + y * dy


def write_geojson(path: Path, grid: str) -> Path:
    features = []
    for code, polygons in layout().items():
        coords = [[[list(to_file(grid, x, y)) for x, y in ring] for ring in p] for p in polygons]
        geometry = (
            {"type": "MultiPolygon", "coordinates": coords}
            if len(coords) > 1
            else {"type": "Polygon", "coordinates": coords[0]}
        )
        features.append(
            {
                "type": "Feature",
                "properties": {"LSOA21CD": code, "LSOA21NM": f"Test {code[-3:]}A"},
                "geometry": geometry,
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture(params=sorted(GRIDS))
def grid(request) -> str:
    return request.param


@pytest.fixture
def mapped(county, capsys, db_url, grid):
    """The county with the boundary file imported through the command line."""
    path = write_geojson(county / f"lsoa-{grid}.geojson", grid)
    code, out, err = central(capsys, db_url, "boundaries", "import", str(path))
    assert code == 0, err
    assert "boundaries: 5 LSOAs" in out
    return grid


class Picture:
    """A chart drawn as it is saved, read back pixel by pixel at points of the map."""

    def __init__(self, chart: Chart, grid: str) -> None:
        canvas = FigureCanvasAgg(chart.figure)
        canvas.draw()
        self.pixels = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
        self.ax = chart.figure.axes[0]  # the map; the colour bar comes after it
        self.grid = grid

    def at(self, x: float, y: float) -> tuple[int, int]:
        """The pixel (column, row) of the map's cell point (x, y)."""
        px, py = self.ax.transData.transform(to_file(self.grid, x, y))
        return int(round(px)), int(round(self.pixels.shape[0] - py))

    def colour(self, x: float, y: float) -> tuple[int, int, int]:
        col, row = self.at(x, y)
        return tuple(int(c) for c in self.pixels[row, col])

    def darkest_near(self, x: float, y: float, reach: int = 3) -> int:
        """The lowest brightest channel within ``reach`` pixels: an outline passing there."""
        col, row = self.at(x, y)
        patch = self.pixels[row - reach : row + reach + 1, col - reach : col + reach + 1]
        return int(patch.max(axis=2).min())


def brightness(rgb: tuple[int, int, int]) -> float:
    r, g, b = rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def is_grey(rgb: tuple[int, int, int]) -> bool:
    return max(rgb) - min(rgb) <= 12 and max(rgb) < 245


def county_map(db) -> Chart:
    chart = reach_map(db, build_area_reach(db, None, YEAR, AgeBand(0, 4), "lsoa"))
    assert chart is not None
    return chart


def test_more_reach_is_darker_blue(db, mapped):
    picture = Picture(county_map(db), mapped)
    # Off the middle, where the reach is written.
    l1, l2, l3, c1 = (picture.colour(*p) for p in [(0.2, 0.2), (1.2, 0.2), (2.2, 0.2), (0.2, 1.2)])
    # 25.0% > 16.7% > 12.5% > 6.7%: darker and darker, and blue (blue above red).
    assert brightness(l1) < brightness(l2) < brightness(l3) < brightness(c1)
    for rgb in (l1, l2, l3, c1):
        assert rgb[2] > rgb[0] + 30, rgb


def test_a_multipolygon_is_filled_in_every_part_but_its_hole(db, mapped):
    picture = Picture(county_map(db), mapped)
    main, island, hole = picture.colour(2.2, 0.2), picture.colour(4.6, 0.1), picture.colour(3, 1)
    assert island == main
    assert min(hole) >= 245, f"the hole of {L3} is filled: {hole}"


def test_each_reach_is_written_inside_its_lsoa_and_never_in_a_hole(db, mapped):
    chart = county_map(db)
    (ox, oy), (dx, dy) = GRIDS[mapped]
    written = {}
    for text in chart.figure.axes[0].texts:
        x, y = text.get_position()
        written[text.get_text()] = ((x - ox) / dx, (y - oy) / dy)
    assert set(written) == {"25.0%", "16.7%", "12.5%", "6.7%"}  # NEIGHBOUR has no figure
    x, y = written["12.5%"]
    assert 2 < x < 4 and 0 < y < 2 and not (2.75 <= x <= 3.25 and 0.75 <= y <= 1.25)
    x, y = written["25.0%"]
    assert 0 < x < 1 and 0 < y < 1


def test_the_risk_areas_are_outlined_and_the_others_not(db, mapped):
    picture = Picture(county_map(db), mapped)
    for edge in [(0, 0.5), (0.5, 0), (1.5, 0), (0, 1.5), (0.5, 2)]:  # L1, L2, C1's outer edges
        assert picture.darkest_near(*edge) < 60, edge
    for edge in [(4, 1.5), (3, 2), (5, 0.25), (1.5, 2)]:  # L3 and NEIGHBOUR: not risk areas
        assert picture.darkest_near(*edge) > 100, edge


def test_an_lsoa_with_no_figure_is_grey_and_the_legend_says_why(db, mapped):
    chart = county_map(db)
    picture = Picture(chart, mapped)
    assert is_grey(picture.colour(1.5, 1.5)) and is_grey(picture.colour(1.3, 1.7))
    legend = [t.get_text() for t in chart.figure.legends[0].get_texts()]
    assert legend == [
        "no figure (no population estimate, or not in the postcode directory)",
        "risk area: LSOAs with a postcode on the current risk list",
    ]
    colour_bar = chart.figure.axes[1]
    assert colour_bar.get_ylabel() == "reach: % of children aged 0-4"
    assert {t.get_text() for t in colour_bar.get_yticklabels()} >= {"0%", "25%"}


def test_a_square_kilometre_looks_square_in_either_coordinates(db, mapped):
    picture = Picture(county_map(db), mapped)
    (left, bottom), (right, top) = picture.at(0, 0), picture.at(1, 1)
    width, height = right - left, bottom - top
    assert width > 40 and abs(width - height) <= 0.04 * width, (width, height)
    assert not picture.ax.axison  # no ticks, no frame: a map, not a graph


def test_the_title_names_the_organisation_and_the_months_and_the_words_say_what_is_missing(
    db, mapped
):
    db.set_org_name("lichfield", "Lichfield Family Hub")
    chart = reach_map(db, build_area_reach(db, "lichfield", YEAR, AgeBand(0, 4), "lsoa"))
    assert chart is not None and chart.name == MAP_NAME
    assert "by LSOA" in chart.title and "1 April 2016 to 31 March 2017" in chart.title
    assert "Lichfield Family Hub" in chart.title
    assert chart.figure.axes[0].get_title().startswith("Reach of children aged 0-4 by LSOA\n")
    county = county_map(db)
    assert "the county" in county.title
    assert f"not in the boundary file, so not drawn: {C2}" in county.alt
    assert f"Lowest 6.7% ({C1} Test 800A), highest 25.0% ({L1} Test 700A)." in county.alt
    assert "1 grey (no figure)" in county.alt and "3 risk areas" in county.alt


def test_without_boundaries_there_is_no_map_and_words_say_how_to_import(db, county):
    report = build_area_reach(db, None, YEAR, AgeBand(0, 4), "lsoa")
    assert reach_map(db, report) is None
    assert "kiosk-central boundaries import FILE.geojson" in why_no_map(db, report)


def test_a_boundary_file_of_another_area_draws_no_map(db, county, capsys, db_url, tmp_path):
    other = tmp_path / "elsewhere.geojson"
    feature = {
        "type": "Feature",
        "properties": {"LSOA21CD": "E01000001"},
        "geometry": {"type": "Polygon", "coordinates": [_square(0, 0, 1, 1)]},
    }
    other.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    assert central(capsys, db_url, "boundaries", "import", str(other))[0] == 0
    report = build_area_reach(db, None, YEAR, AgeBand(0, 4), "lsoa")
    assert reach_map(db, report) is None
    words = why_no_map(db, report)
    assert "include none of the postcode directory's" in words
    assert "kiosk-central boundaries import FILE.geojson" in words


# -- the PDF and the dashboard ------------------------------------------------------------------
def reach_pdf(capsys, db_url: str, out: Path) -> Path:
    code, _out, err = central(
        capsys, db_url, "report", "reach", "--county", "--from", "2016-04", "--to", "2017-03",
        "--by", "lsoa", "--format", "pdf", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    return out


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))[6:])


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="poppler-utils (pdftotext, pdfinfo) not installed",
)


@needs_poppler
def test_the_reach_pdf_has_the_map_page(capsys, db_url, county, tmp_path):
    before = reach_pdf(capsys, db_url, tmp_path / "before.pdf")
    words = " ".join(pdf_text(before).split())
    assert "No map yet: no LSOA boundaries are imported" in words
    assert "kiosk-central boundaries import FILE.geojson" in words
    path = write_geojson(tmp_path / "lsoa.geojson", "bng")
    assert central(capsys, db_url, "boundaries", "import", str(path))[0] == 0
    after = reach_pdf(capsys, db_url, tmp_path / "after.pdf")
    words = " ".join(pdf_text(after).split())
    assert "Reach of children aged 0-4 by LSOA: the county (every organisation)" in words
    assert "No map yet" not in words
    assert pdf_pages(after) > pdf_pages(before)


def test_the_html_report_has_the_map_or_says_how_to_import_boundaries(capsys, db_url, county):
    args = ["report", "reach", "--org", "lichfield", "--from", "2016-04", "--to", "2017-03"]
    args += ["--by", "lsoa"]  # reach by area (without --by: the engagement reach report)
    code, before, err = central(capsys, db_url, *args, "--format", "html")
    assert code == 0, err
    assert "kiosk-central boundaries import FILE.geojson" in before
    assert f'id="chart-{MAP_NAME}-title"' not in before
    path = write_geojson(county / "lsoa.geojson", "bng")
    assert central(capsys, db_url, "boundaries", "import", str(path))[0] == 0
    code, after, err = central(capsys, db_url, *args, "--format", "html")
    assert code == 0, err
    assert f'id="chart-{MAP_NAME}-title"' in after and "No map yet" not in after


@pytest.fixture
def client(db):
    with TestClient(create_app(db), base_url="http://testserver") as c:
        yield c


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_the_dashboard_shows_the_map_for_the_county_and_an_organisation(client, db, mapped):
    carol = basic("carol", db.add_user("carol", "commissioner"))
    alice = basic("alice", db.add_user("alice", "staff", "lichfield"))
    county = client.get("/dashboard?month=2017-03", headers=carol)
    assert county.status_code == 200
    assert f'id="chart-{MAP_NAME}-title"' in county.text
    assert "by LSOA: the county (every organisation)" in county.text
    # A PNG (a county's boundaries are megabytes as SVG), right after the map's title.
    assert (
        'src="data:image/png;base64,' in county.text.split(f'id="chart-{MAP_NAME}-title"')[1][:800]
    )
    org = client.get("/dashboard/org/lichfield?month=2017-03", headers=alice)
    assert org.status_code == 200 and f'id="chart-{MAP_NAME}-title"' in org.text
    assert "kiosk-central boundaries import" not in org.text


def test_the_dashboard_without_boundaries_says_how_to_import_them(client, db, county):
    carol = basic("carol", db.add_user("carol", "commissioner"))
    page = client.get("/dashboard?month=2017-03", headers=carol)
    assert page.status_code == 200 and f'id="chart-{MAP_NAME}-title"' not in page.text
    assert "No map yet" in page.text
    assert "kiosk-central boundaries import FILE.geojson" in page.text


# -- the pictures looked at ---------------------------------------------------------------------
def test_the_map_and_the_reach_pdf_pages_are_written_to_artifacts(db, mapped, capsys, db_url):
    """``artifacts/reach-map-<grid>.png`` (and ``reach-map.png``), and the reach PDF's pages as
    ``artifacts/reach-pdf-<grid>-N.png`` when pdftoppm is installed: to be looked at."""
    ARTIFACTS.mkdir(exist_ok=True)
    png = county_map(db).png()
    assert png.startswith(b"\x89PNG")
    (ARTIFACTS / f"reach-map-{mapped}.png").write_bytes(png)
    if mapped == "bng":
        (ARTIFACTS / "reach-map.png").write_bytes(png)
    pdf = reach_pdf(capsys, db_url, ARTIFACTS / f"reach-{mapped}.pdf")
    if shutil.which("pdftoppm"):
        for old in ARTIFACTS.glob(f"reach-pdf-{mapped}-*.png"):
            old.unlink()
        prefix = ARTIFACTS / f"reach-pdf-{mapped}"
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(prefix)], check=True)
        assert list(ARTIFACTS.glob(f"reach-pdf-{mapped}-*.png"))


def test_a_believable_county_map_for_the_readme():
    """``artifacts/reach-map-sample.png``: the README's picture (docs/screenshots/reach-map.png
    is a copy), a made-up county of irregular LSOAs drawn by the real map."""
    report, shapes, risk = sample_county()
    chart = draw_reach_map(
        report,
        shapes,
        risk,
        "LSOAs with a postcode on the current risk list",
        f"Reach of children aged 0-4 by LSOA: Spark CIC, {report.period.label}",
    )
    ax = chart.figure.axes[0]
    drawn = sum(len(c.get_paths()) for c in ax.collections)
    assert drawn == len(shapes) + len(risk)  # every LSOA filled once, the risk areas outlined
    assert not ax.texts  # too many LSOAs to write each reach on
    assert f"{len(shapes)} LSOAs from the boundary file" in chart.alt
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reach-map-sample.png").write_bytes(chart.png())
    readme = REPO / "docs" / "screenshots" / "reach-map.png"
    assert readme.read_bytes().startswith(b"\x89PNG"), f"copy {ARTIFACTS}/reach-map-sample.png"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_dashboard_with_the_map_in_chromium(db, db_url, county, capsys):
    """The commissioner's dashboard in a real browser, the map on it:
    ``artifacts/screenshots/dashboard-reach-map.png``."""
    path = write_geojson(county / "lsoa.geojson", "bng")
    assert central(capsys, db_url, "boundaries", "import", str(path))[0] == 0
    users = {"carol": db.add_user("carol", "commissioner")}
    with CentralServer(db_url, county / "server.log") as srv:
        url = signed_in((srv, users, db), "carol", "/dashboard?month=2017-03")
        dom = chromium(url, "--dump-dom").stdout
        assert f'id="chart-{MAP_NAME}-title"' in dom and "data:image/png;base64," in dom
        assert_not_blank(screenshot(url, "dashboard-reach-map.png", height=4200))
