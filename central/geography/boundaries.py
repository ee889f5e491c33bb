"""LSOA boundaries from a GeoJSON file the council supplies, for the reach map.

The ONS publishes LSOA boundaries as GeoJSON (the Open Geography Portal's "LSOA (Dec 2021)
Boundaries EW BGC", and the 2011 ones); a council cuts out its county. ``kiosk-central
boundaries import FILE.geojson`` keeps each feature's LSOA code (``LSOA21CD`` or ``LSOA11CD``,
any case), its name (``LSOA21NM``) and its Polygon or MultiPolygon. Nothing is fetched from
anywhere: the map is drawn from this file alone (``central.reports.maps``). Coordinates may be
longitude and latitude (RFC 7946) or British National Grid metres (EPSG:27700); the map works
out which.

A file with a bad feature changes nothing: every bad feature is reported by its number.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from central.db import CentralDB, CentralError, area_imports, lsoa_boundaries, utcnow
from central.geography.population import LSOA_CODE

_CODE_KEYS = ("lsoa21cd", "lsoa11cd", "lsoa_code", "lsoacd", "lsoa")
_NAME_KEYS = ("lsoa21nm", "lsoa11nm", "lsoa_name", "lsoanm", "name")
#: Bad features kept with their message.
PROBLEM_LIMIT = 200


class BoundaryError(CentralError):
    """A boundary file that cannot be imported; ``problems``: (feature number, message)."""

    def __init__(self, message: str, problems: Sequence[tuple[int, str]] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Boundary:
    lsoa: str
    name: str
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # polygon > ring > point


@dataclass(frozen=True)
class BoundaryImport:
    features: int
    source: str


def _prop(props: dict[str, Any], keys: Sequence[str]) -> str:
    lowered = {str(k).lower(): v for k, v in props.items()}
    for key in keys:
        if lowered.get(key) not in (None, ""):
            return str(lowered[key]).strip()
    return ""


def _ring(points: Any) -> tuple[tuple[float, float], ...]:
    if not isinstance(points, list) or len(points) < 3:
        raise ValueError("a ring needs at least 3 points")
    out = []
    for p in points:
        if not isinstance(p, list) or len(p) < 2:
            raise ValueError(f"a point must be [x, y], not {p!r}"[:80])
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("a point is not a finite number")
        out.append((round(x, 6), round(y, 6)))
    return tuple(out)


def _polygons(geometry: Any) -> tuple[tuple[tuple[tuple[float, float], ...], ...], ...]:
    if not isinstance(geometry, dict):
        raise ValueError("no geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        parts = [coords]
    elif kind == "MultiPolygon":
        parts = coords
    else:
        raise ValueError(f"the geometry is a {kind!r}, not a Polygon or MultiPolygon")
    if not isinstance(parts, list) or not parts:
        raise ValueError("the geometry has no coordinates")
    out = []
    for polygon in parts:
        if not isinstance(polygon, list) or not polygon:
            raise ValueError("a polygon has no rings")
        out.append(tuple(_ring(r) for r in polygon))
    return tuple(out)


def read_boundaries(path: Path) -> list[Boundary]:
    """The LSOA features of a GeoJSON FeatureCollection; :class:`BoundaryError` lists bad ones."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise BoundaryError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BoundaryError(f"{path.name}: not a GeoJSON (JSON) file: {exc}") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise BoundaryError(f"{path.name}: not a GeoJSON FeatureCollection with features")
    out: list[Boundary] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            problems.append((number, "not a GeoJSON Feature"))
            continue
        props = feature.get("properties")
        props = props if isinstance(props, dict) else {}
        code = _prop(props, _CODE_KEYS).upper()
        if not LSOA_CODE.match(code):
            problems.append(
                (number, f"no LSOA code (a property LSOA21CD or LSOA11CD like E01029750): {code!r}")
            )
            continue
        if code in seen:
            problems.append((number, f"LSOA {code} is given twice (first as feature {seen[code]})"))
            continue
        seen[code] = number
        try:
            polygons = _polygons(feature.get("geometry"))
        except (ValueError, TypeError) as exc:
            problems.append((number, f"LSOA {code}: {exc}"))
            continue
        out.append(Boundary(code, _prop(props, _NAME_KEYS)[:200], polygons))
    if problems:
        raise BoundaryError(
            f"{path.name}: {len(problems)} bad feature(s); nothing imported",
            problems[:PROBLEM_LIMIT],
        )
    return out


def import_boundaries(db: CentralDB, path: Path, now: datetime | None = None) -> BoundaryImport:
    """Replace the boundaries with ``path``'s, in one transaction."""
    found = read_boundaries(path)
    with db.writing_shared("boundaries") as conn:
        conn.execute(delete(lsoa_boundaries))
        rows = [
            {"lsoa": b.lsoa, "name": b.name, "geometry": [list(map(list, p)) for p in b.polygons]}
            for b in found
        ]
        for start in range(0, len(rows), 500):
            conn.execute(insert(lsoa_boundaries), rows[start : start + 500])
        conn.execute(delete(area_imports).where(area_imports.c.kind == "boundaries"))
        conn.execute(
            insert(area_imports).values(
                kind="boundaries",
                source=path.name,
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                vintage=None,
                rows=len(rows),
                imported_at=now or utcnow(),
            )
        )
    return BoundaryImport(len(found), path.name)


def boundaries(db: CentralDB) -> list[Boundary]:
    """Every boundary kept, by LSOA code."""
    with db.reading() as conn:
        rows = conn.execute(select(lsoa_boundaries).order_by(lsoa_boundaries.c.lsoa)).all()
    return [
        Boundary(
            r.lsoa,
            r.name,
            tuple(
                tuple(tuple((float(x), float(y)) for x, y in ring) for ring in p)
                for p in r.geometry
            ),
        )
        for r in rows
    ]


def lsoa_names(db: CentralDB) -> dict[str, str]:
    """LSOA code -> name (``Lichfield 001A``), from the boundary file."""
    with db.reading() as conn:
        rows = conn.execute(select(lsoa_boundaries.c.lsoa, lsoa_boundaries.c.name)).all()
    return {code: name for code, name in rows if name}
