"""The pictures that go with reach by area: the trend over its months and the map.

A missing map is said in words, never left out in silence: :func:`area_pictures` gives the
words for where the map would be (no boundary file yet, or one of another area), so the
dashboard, the PDF and the HTML report tell the reader what to import.
"""

from __future__ import annotations

from dataclasses import dataclass

from central.db import CentralDB
from central.reports.area_reach import AreaReach
from central.reports.charts import Chart, trend_chart
from central.reports.maps import reach_map, why_no_map
from central.reports.trend import build_trend


@dataclass(frozen=True)
class AreaPictures:
    charts: list[Chart]
    no_map: str | None  # why there is no map and what to import; None when it is drawn


def area_pictures(db: CentralDB, report: AreaReach) -> AreaPictures:
    """The charts shown with ``report``: the trend over its months (when it spans more than
    one), then the map of reach by LSOA, or the words saying why there is no map."""
    charts = []
    if len(report.period.months()) > 1:
        charts.append(trend_chart(build_trend(db, report.org_id, report.period)))
    picture = reach_map(db, report)
    if picture is not None:
        charts.append(picture)
    return AreaPictures(charts, None if picture is not None else why_no_map(db, report))
