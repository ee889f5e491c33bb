"""A believable county for the README's map: about fifty LSOAs of irregular shapes, two towns
with deprived estates, reach highest near the two family hubs. Made up, and drawn by the real
:func:`central.reports.maps.draw_reach_map`.

The LSOAs are hexagons whose shared corners are all nudged the same way (a corner's nudge
depends only on where it is), so the shapes look like LSOAs yet fit together with no gap.
"""

from __future__ import annotations

import math
import random

from central.geography.boundaries import Boundary
from central.reports.area_reach import AgeBand, AreaReach, AreaRow, Share
from central.reports.period import Period

SIZE = 1_300.0  # a hexagon's radius in metres
ORIGIN = (395_000.0, 300_000.0)  # British National Grid, somewhere in Staffordshire
TOWNS = ((3.2, 3.0), (8.6, 5.8))  # in hexagon widths: the estates and the hubs near them
PERIOD = Period.between_months("2025-12", "2026-11")


def _nudge(x: float, y: float) -> tuple[float, float]:
    rng = random.Random(f"{round(x):d},{round(y):d}")
    return x + rng.uniform(-0.28, 0.28) * SIZE, y + rng.uniform(-0.28, 0.28) * SIZE


def _hexagon(cx: float, cy: float) -> list[tuple[float, float]]:
    corners = []
    for k in range(6):
        a = math.radians(60 * k + 30)
        corners.append(_nudge(cx + SIZE * math.cos(a), cy + SIZE * math.sin(a)))
    return [*corners, corners[0]]


def sample_county() -> tuple[AreaReach, list[Boundary], frozenset[str]]:
    """The report, the boundaries and the risk areas of the made-up county."""
    width, height = math.sqrt(3) * SIZE, 1.5 * SIZE
    shapes, rows, risk = [], [], set()
    number = 0
    for r in range(9):
        for c in range(12):
            u, v = c + (0.5 if r % 2 else 0.0), float(r)
            angle = math.atan2(v - 4, (u - 5.8) / 1.4)
            if ((u - 5.8) / 6.2) ** 2 + ((v - 4) / 4.4) ** 2 > 1 + 0.12 * math.sin(3 * angle):
                continue
            number += 1
            code = f"E0102{9600 + number:04d}"
            district = "Lichfield" if u < 6 else "Cannock Chase"
            cx, cy = ORIGIN[0] + u * width, ORIGIN[1] + v * height
            shapes.append(Boundary(code, f"{district} {number:03d}A", (tuple([_hexagon(cx, cy)]),)))
            near = min(math.hypot(u - tx, v - ty) for tx, ty in TOWNS)
            rng = random.Random(code)
            decile = max(1, min(10, round(1 + near * 1.6 + rng.uniform(-1.5, 1.5))))
            if decile <= 3:
                risk.add(code)
            population = None if number in (7, 33) else rng.randint(40, 160)
            share = max(0.02, 0.34 - 0.055 * near + rng.uniform(-0.05, 0.05))
            reached = round((population or 80) * share)
            rows.append(
                AreaRow(
                    "lsoa",
                    code,
                    f"{district} {number:03d}A",
                    district,
                    decile,
                    1,
                    int(decile <= 3),
                    population,
                    reached,
                )
            )
    rows = rows[:-1]  # the last LSOA is in the boundary file only: drawn grey
    counted = [r for r in rows if r.population is not None]
    deprived = [r for r in counted if r.deprived_lsoas]

    def share(label: str, part: list[AreaRow]) -> Share:
        return Share(
            label, sum(r.population or 0 for r in part), sum(r.reached for r in part), len(part)
        )

    report = AreaReach(
        org_id="spark",
        period=PERIOD,
        ages=AgeBand(0, 4),
        by="lsoa",
        rows=rows,
        lsoa_rows=rows,
        deprived=share("0-30% most deprived LSOAs", deprived),
        elsewhere=share("everywhere else", [r for r in counted if not r.deprived_lsoas]),
        total=share("all LSOAs", counted),
        apart=[],
        population=None,
        directory=None,
        notes=[],
    )
    return report, shapes, frozenset(risk)
