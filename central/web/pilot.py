"""The dashboard's pilot panel: the trend over the months to the one shown, and
reach against the population over the same months, with the map.

The window is the twelve months ending with the month shown (``PILOT_MONTHS``), or from
``?from=YYYY-MM`` when given; the baseline is its first month unless ``?baseline=YYYY-MM``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from central.db import CentralDB
from central.geography.directory import import_record
from central.geography.population import current_version
from central.reports.area_reach import AgeBand, AreaReach, build_area_reach
from central.reports.charts import trend_chart
from central.reports.maps import reach_map, why_no_map
from central.reports.period import EARLIEST, Period
from central.reports.trend import Trend, build_trend
from central.web.pages import chart_views

#: Months the panel looks back over, the month shown included.
PILOT_MONTHS = 12
#: The ages the panel's reach is of (the county's under-fives).
DASHBOARD_AGES = AgeBand(0, 4)


def window(period: Period, start: str | None = None) -> Period:
    """From ``start`` (a month) or ``PILOT_MONTHS - 1`` months before ``period``'s, to the end
    of ``period``'s month."""
    end = Period.month(f"{period.start:%Y-%m}").end
    if start:
        first = Period.month(start).start
    else:
        months = period.start.year * 12 + period.start.month - 1 - (PILOT_MONTHS - 1)
        first = max(date(months // 12, months % 12 + 1, 1), EARLIEST)  # no months before 2000
    return Period(first, end)


@dataclass(frozen=True)
class PilotPanel:
    window: Period
    trend: Trend
    area: AreaReach | None  # None until a population and a directory are imported
    charts: list[dict[str, str]]
    area_charts: list[dict[str, str]]
    query: str  # the window as a query string, for the downloads
    no_map: str | None = None  # why the map is missing, and what to import


def pilot_panel(
    db: CentralDB,
    org_id: str | None,
    period: Period,
    start: str | None = None,
    baseline: str | None = None,
) -> PilotPanel:
    span = window(period, start)
    trend = build_trend(db, org_id, span, baseline)
    area = None
    area_charts: list[Any] = []
    no_map = None
    if current_version(db) is not None and import_record(db, "directory") is not None:
        area = build_area_reach(db, org_id, span, DASHBOARD_AGES, "lsoa")
        picture = reach_map(db, area)
        area_charts = [picture] if picture is not None else []
        no_map = why_no_map(db, area) if picture is None else None
    query = f"from={span.start:%Y-%m}&to={span.end:%Y-%m}&baseline={trend.baseline}"
    return PilotPanel(
        span,
        trend,
        area,
        chart_views([trend_chart(trend)]),
        chart_views(area_charts),
        query,
        no_map,
    )
