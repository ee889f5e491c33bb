"""The reach map: a choropleth of reach by LSOA, drawn from the council's boundary file.

Why this way: the kiosk project fetches nothing from outside and runs on a small server, so the
map is drawn by matplotlib alone from the GeoJSON the council supplied (``kiosk-central
boundaries import``), with no tile server, geopandas or shapely. Each LSOA is one path (its
polygons, with holes cut out by winding exterior rings one way and holes the other), coloured
by its reach on a sequential blue scale; LSOAs without a figure are grey and hatched, so "no
figure" is never read as "no children reached"; the risk areas (the ones the outreach plan
sends volunteers to: :func:`central.reports.outreach.risk_areas`) get a thick dark outline.

Boundary files come in longitude and latitude (RFC 7946) or British National Grid metres; on
lon/lat the map is stretched by 1/cos(latitude) so a square kilometre looks square.

    >>> chart = reach_map(db, build_area_reach(db, None, YEAR, AgeBand(0, 4)))  # doctest: +SKIP
    >>> Path("reach-map.png").write_bytes(chart.png())                       # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path
from matplotlib.ticker import PercentFormatter
from sqlalchemy import select

from central.db import CentralDB, lsoa_boundaries
from central.geography.boundaries import Boundary, boundaries
from central.reports.area_reach import AreaReach, AreaRow
from central.reports.charts import INK, STYLE, Chart
from central.reports.names import read_names

#: The chart's name (its id on the page, its file name).
MAP_NAME = "reach-map"
#: The blues of the other charts, from light (little reach) to dark, stopping short of the
#: darkest so the black risk outline stays visible on the best-reached areas.
COLOURS = ListedColormap(matplotlib.colormaps["Blues"](np.linspace(0.12, 0.85, 256)), "reach")
NO_FIGURE = "#e0e0e0"  # light grey, hatched: no population figure or not in the report
NO_FIGURE_HATCH = "#8c8c8c"
EDGE, EDGE_WIDTH = "white", 0.6  # between neighbouring LSOAs
RISK_EDGE, RISK_WIDTH = INK, 2.6  # around the risk areas
#: Longitude and latitude never leave these; British National Grid metres always do.
LON_LAT = (180.0, 90.0)
#: The map's width in inches; its height follows the county's shape within these.
WIDTH, MIN_HEIGHT, MAX_HEIGHT = 7.2, 3.2, 9.0
#: Each LSOA's reach is written on it when there are at most this many (a town, not a county).
MAX_LABELS = 30
#: Words for a missing map (the dashboard, the PDF and the HTML report say them).
HOW_TO_IMPORT = (
    "import the council's LSOA boundary file (GeoJSON, as the ONS publishes it) on the "
    "server with 'kiosk-central boundaries import FILE.geojson'"
)

Ring = Sequence[tuple[float, float]]


def is_lon_lat(shapes: Iterable[Boundary]) -> bool:
    """Whether every point is a longitude and latitude (else British National Grid metres)."""
    return all(
        abs(x) <= LON_LAT[0] and abs(y) <= LON_LAT[1]
        for b in shapes
        for polygon in b.polygons
        for ring in polygon
        for x, y in ring
    )


def _signed_area(ring: Ring) -> float:
    return 0.5 * sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, [*ring[1:], ring[0]], strict=True)
    )


def lsoa_path(polygons: Sequence[Sequence[Ring]]) -> Path:
    """One LSOA's polygons as one path: exterior rings anticlockwise, holes clockwise, so a
    hole stays empty whichever fill rule draws it (files do not always follow RFC 7946)."""
    vertices: list[tuple[float, float]] = []
    codes: list[int] = []
    for polygon in polygons:
        for number, ring in enumerate(polygon):
            points = list(ring[:-1] if len(ring) > 3 and ring[0] == ring[-1] else ring)
            anticlockwise = _signed_area(points) > 0
            if anticlockwise != (number == 0):  # the first ring is the exterior
                points.reverse()
            vertices += [*points, points[0]]
            codes += [Path.MOVETO] + [Path.LINETO] * (len(points) - 1) + [Path.CLOSEPOLY]
    return Path(vertices, codes)


def _who(db: CentralDB, report: AreaReach) -> str:
    if report.org_id is None:
        return "the county (every organisation)"
    return read_names(db, report.org_id).org(report.org_id)


def map_title(db: CentralDB, report: AreaReach) -> str:
    """The title: ``Reach of children aged 0-4 by LSOA: Spark CIC, 1 April 2016 to ...``."""
    return (
        f"Reach of children aged {report.ages.label} by LSOA: {_who(db, report)}, "
        f"{report.period.label}"
    )


def _drawn(db: CentralDB, report: AreaReach) -> list[Boundary]:
    """The boundaries to draw: all of the file, if it holds any of the report's LSOAs."""
    shapes = boundaries(db)
    codes = {r.code for r in report.lsoa_rows}
    return shapes if any(b.lsoa in codes for b in shapes) else []


def reach_map(db: CentralDB, report: AreaReach) -> Chart | None:
    """The map of ``report``'s reach by LSOA; None when no boundaries were imported or none of
    them is one of the report's LSOAs (then :func:`why_no_map` says what to do)."""
    shapes = _drawn(db, report)
    if not shapes:
        return None
    from central.reports.outreach import risk_areas

    risk = risk_areas(db, report.org_id, report.lsoa_rows)
    return draw_reach_map(report, shapes, risk.lsoas, risk.chosen_by, map_title(db, report))


def why_no_map(db: CentralDB, report: AreaReach) -> str | None:
    """Why :func:`reach_map` has no map for ``report``, and what to import; None if it has."""
    with db.reading() as conn:
        codes = set(conn.execute(select(lsoa_boundaries.c.lsoa)).scalars())
    if not codes:
        return f"No map yet: no LSOA boundaries are imported. To draw it, {HOW_TO_IMPORT}."
    if not codes & {r.code for r in report.lsoa_rows}:
        return (
            f"No map: the boundary file's {len(codes):,} LSOAs include none of the postcode "
            "directory's (another area, or another LSOA vintage). To draw it, "
            f"{HOW_TO_IMPORT}, with the same LSOAs as the directory."
        )
    return None


def draw_reach_map(
    report: AreaReach,
    shapes: Sequence[Boundary],
    risk: frozenset[str],
    chosen_by: str,
    title: str,
) -> Chart:
    """The map itself, from what :func:`reach_map` read (no database: a pure drawing)."""
    with matplotlib.rc_context(STYLE):
        return _draw(report, list(shapes), risk, chosen_by, title)


def _draw(
    report: AreaReach, shapes: list[Boundary], risk: frozenset[str], chosen_by: str, title: str
) -> Chart:
    rows: dict[str, AreaRow] = {r.code: r for r in report.lsoa_rows}
    lon_lat = is_lon_lat(shapes)
    paths = {b.lsoa: lsoa_path(b.polygons) for b in shapes}
    with_figure = [c for c in paths if c in rows and rows[c].reach is not None]
    without = [c for c in paths if c not in with_figure]
    outlined = [c for c in paths if c in risk]

    points = np.concatenate([p.vertices for p in paths.values()])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    stretch = 1 / math.cos(math.radians((y0 + y1) / 2)) if lon_lat else 1.0
    shape = stretch * (y1 - y0) / max(x1 - x0, 1e-9)
    height = min(max(WIDTH * 0.72 * shape + 1.3, MIN_HEIGHT), MAX_HEIGHT)
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    ax = fig.add_subplot()

    values = [rows[c].reach or 0.0 for c in with_figure]
    top = max(5.0, 5 * math.ceil(max(values, default=0.0) / 5))  # a round top: 25%, 30%...
    coloured = PatchCollection(
        [PathPatch(paths[c]) for c in with_figure],
        cmap=COLOURS,
        norm=Normalize(0, top),
        edgecolor=EDGE,
        linewidth=EDGE_WIDTH,
    )
    coloured.set_array(np.array(values, dtype=float))
    ax.add_collection(coloured)
    if len(paths) <= MAX_LABELS:
        _label(ax, shapes, rows, coloured.norm, stretch)
    handles: list[Patch] = []
    if without:
        ax.add_collection(
            PatchCollection(
                [PathPatch(paths[c]) for c in without],
                facecolor=NO_FIGURE,
                edgecolor=NO_FIGURE_HATCH,
                hatch="///",
                linewidth=EDGE_WIDTH,
            )
        )
        handles.append(
            Patch(
                facecolor=NO_FIGURE,
                edgecolor=NO_FIGURE_HATCH,
                hatch="///",
                label="no figure (no population estimate, or not in the postcode directory)",
            )
        )
    if outlined:
        ax.add_collection(
            PatchCollection(
                [PathPatch(paths[c]) for c in outlined],
                facecolor="none",
                edgecolor=RISK_EDGE,
                linewidth=RISK_WIDTH,
                joinstyle="round",
            )
        )
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=RISK_EDGE,
                linewidth=RISK_WIDTH,
                label=f"risk area: {chosen_by}",
            )
        )
    pad_x, pad_y = 0.02 * (x1 - x0), 0.02 * (y1 - y0)
    ax.set_xlim(x0 - pad_x, x1 + pad_x)
    ax.set_ylim(y0 - pad_y, y1 + pad_y)
    ax.set_aspect(stretch)
    ax.set_axis_off()
    ax.set_title(title.replace(" by LSOA: ", " by LSOA\n", 1), color=INK, fontsize=12)
    bar = fig.colorbar(coloured, ax=ax, shrink=0.9, pad=0.02)
    bar.set_label(f"reach: % of children aged {report.ages.label}", color=INK, fontsize=9)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", frameon=False, fontsize=9)
    alt = _alt(report, rows, paths, risk, chosen_by, with_figure)
    return Chart(MAP_NAME, title, alt, fig, raster=True)


def _inside(polygon: Sequence[Ring], point: tuple[float, float]) -> bool:
    """In the exterior ring and in none of the holes (``Path.contains_point`` of a compound
    path does not leave holes out, so each ring is asked on its own)."""
    exterior, *holes = polygon
    return Path(exterior).contains_point(point) and not any(
        Path(hole).contains_point(point) for hole in holes
    )


def _edge_distance(
    polygon: Sequence[Ring], point: tuple[float, float], y_scale: float = 1.0
) -> float:
    """How far ``point`` is from the nearest edge of ``polygon`` (any ring), on the map (its
    y stretched by ``y_scale``, as lon/lat is drawn)."""
    best = math.inf
    px, py = point[0], point[1] * y_scale
    point = (px, py)
    for ring in polygon:
        a = np.asarray(ring, dtype=float) * (1.0, y_scale)
        b = np.roll(a, -1, axis=0)
        d = b - a
        length = np.maximum((d**2).sum(axis=1), 1e-18)
        t = np.clip(((px - a[:, 0]) * d[:, 0] + (py - a[:, 1]) * d[:, 1]) / length, 0, 1)
        nearest = a + t[:, None] * d
        best = min(best, float(np.sqrt(((nearest - point) ** 2).sum(axis=1)).min()))
    return best


def label_point(
    polygons: Sequence[Sequence[Ring]], y_scale: float = 1.0
) -> tuple[float, float] | None:
    """A point well inside the largest polygon, to write on: of a 9 x 9 grid over its box,
    the inside point (not in a hole) farthest from every edge as drawn (``y_scale``)."""
    if not polygons:
        return None
    biggest = max(polygons, key=lambda p: abs(_signed_area(p[0])))
    xs, ys = [x for x, _y in biggest[0]], [y for _x, y in biggest[0]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    grid = [
        (x0 + (x1 - x0) * (i + 0.5) / 9, y0 + (y1 - y0) * (j + 0.5) / 9)
        for i in range(9)
        for j in range(9)
    ]
    inside = [p for p in grid if _inside(biggest, p)]
    if not inside:
        return None
    return max(inside, key=lambda p: _edge_distance(biggest, p, y_scale))


def _label(
    ax: Any, shapes: list[Boundary], rows: dict[str, AreaRow], norm: Any, y_scale: float
) -> None:
    """Each LSOA's reach written on it, white on the darker blues."""
    for shape in shapes:
        code = shape.lsoa
        if code not in rows:
            continue
        point = label_point(shape.polygons, y_scale)
        row = rows[code]
        if point is None or row.reach is None:
            continue
        dark = norm(row.reach) > 0.55
        ax.text(
            *point,
            row.reach_text,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if dark else INK,
        )


def _alt(
    report: AreaReach,
    rows: dict[str, AreaRow],
    paths: dict[str, Path],
    risk: frozenset[str],
    chosen_by: str,
    with_figure: list[str],
) -> str:
    """The map in words: what is drawn, the lowest and highest reach, what is outlined, what
    is missing."""
    parts = [
        f"Map of reach of children aged {report.ages.label} by LSOA, {report.period.label}: "
        f"{len(paths):,} LSOAs from the boundary file, darker blue for more reach."
    ]
    if with_figure:
        ranked = sorted(with_figure, key=lambda c: (rows[c].reach or 0.0, c))
        low, high = rows[ranked[0]], rows[ranked[-1]]
        parts.append(
            f"Lowest {low.reach_text} ({low.code} {low.name}".rstrip()
            + f"), highest {high.reach_text} ({high.code} {high.name}".rstrip()
            + ")."
        )
    grey = len(paths) - len(with_figure)
    if grey:
        parts.append(f"{grey:,} grey (no figure).")
    outlined = sorted(c for c in paths if c in risk)
    if outlined:
        parts.append(f"Outlined, {len(outlined):,} risk areas ({chosen_by}).")
    missing = sorted(c for c in rows if c not in paths)
    if missing:
        shown = ", ".join(missing[:10]) + (" and more" if len(missing) > 10 else "")
        parts.append(
            f"{len(missing):,} of the report's LSOAs are not in the boundary file, so not "
            f"drawn: {shown}."
        )
    parts.append("The figures by LSOA are in the report's table and CSV.")
    return " ".join(parts)
