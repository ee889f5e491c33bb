"""PDFs of reach against the population (the headline, what is counted apart, the
trend and the map, then every area) and the trend over a pilot."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, Spacer

from central.reports.area_reach import AreaReach, apart_lines
from central.reports.charts import Chart, trend_chart
from central.reports.maps import MAP_NAME
from central.reports.pdf import (
    STYLES,
    a4_document,
    escape,
    grid_table,
    header_cells,
    key_figures_table,
    numbered_canvas,
)
from central.reports.trend import Trend, points_text, share_text, signed

_FIRST = {"lsoa": "LSOA", "ward": "Ward", "district": "District"}


def chart_flowable(chart: Chart, width: float, height: float) -> KeepTogether:
    """A chart as a PNG scaled into ``width`` x ``height``, with its title and words."""
    img = Image(io.BytesIO(chart.png(dpi=160)))
    scale = min(width / img.imageWidth, height / img.imageHeight)
    img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
    return KeepTogether(
        [
            Paragraph(escape(chart.title), STYLES["h2"]),
            img,
            Paragraph(escape(chart.alt), STYLES["caption"]),
        ]
    )


def area_reach_pdf(
    report: AreaReach, charts: Sequence[Chart] = (), no_map: str | None = None
) -> bytes:
    """Reach by area as a PDF: the map (a chart named ``reach-map``) gets a page of its own;
    without one, ``no_map`` (why, and what to import) is said where it would be."""
    from reportlab.lib.units import mm

    buf = io.BytesIO()
    doc = a4_document(
        buf,
        report.title,
        "Children of an age band reached, against the ONS population, by area",
    )
    width = doc.width
    ages = report.ages.label
    story: list[Any] = [
        Paragraph("Reach against the population", STYLES["title"]),
        Paragraph(
            f"<b>{escape(report.scope)}</b> &nbsp;·&nbsp; children aged {escape(ages)} "
            f"&nbsp;·&nbsp; {escape(report.period.label)}",
            STYLES["subtitle"],
        ),
        Spacer(1, 5 * mm),
        key_figures_table(
            [
                (
                    "0-30% most deprived LSOAs",
                    report.deprived.reach_text,
                    f"{report.deprived.reached:,} of {report.deprived.population:,} children",
                ),
                (
                    "Everywhere else",
                    report.elsewhere.reach_text,
                    f"{report.elsewhere.reached:,} of {report.elsewhere.population:,} children",
                ),
                (
                    "All LSOAs",
                    report.total.reach_text,
                    f"{report.total.reached:,} of {report.total.population:,} children",
                ),
            ],
            width,
        ),
        Spacer(1, 2 * mm),
        Paragraph(
            escape(
                f"Reach: the distinct children aged {ages} who came at least once in the "
                "period, as a share of the ONS estimate of the children of those ages living "
                "there. Each child is counted once, where their family lives."
            ),
            STYLES["caption"],
        ),
    ]
    sources = []
    if report.population is not None:
        p = report.population
        sources.append(f"Population: version {p.number}, {p.source} ({p.layout})")
    if report.directory is not None:
        sources.append(f"Postcode directory: {report.directory.source}")
    for line in sources:
        story.append(Paragraph(escape(line), STYLES["caption"]))
    for note in report.notes:
        story.append(Paragraph(escape(note), STYLES["note"], bulletText="•"))
    story.append(Paragraph("Counted apart (not in the figures above)", STYLES["h2"]))
    for line in apart_lines(report):
        story.append(Paragraph(escape(line), STYLES["note"], bulletText="•"))
    for chart in charts:
        if chart.name == MAP_NAME:
            story += [PageBreak(), chart_flowable(chart, width, doc.height - 40 * mm), PageBreak()]
        else:
            story.append(chart_flowable(chart, width, 110 * mm))
    if no_map:
        story.append(Paragraph("The map", STYLES["h2"]))
        story.append(Paragraph(escape(no_map), STYLES["note"]))

    first = _FIRST[report.by]
    deprivation = "IMD decile" if report.by == "lsoa" else "LSOAs in 0-30%"
    rows: list[list[Any]] = [
        header_cells(
            [first, "Name", "District", deprivation, f"Children aged {ages}", "Reached", "Reach"]
        )
    ]
    for r in report.rows:
        rows.append(
            [
                r.code,
                Paragraph(escape(r.name), STYLES["cell"]),
                Paragraph(escape(r.district), STYLES["cell"]),
                str(r.imd_decile or "—")
                if r.kind == "lsoa"
                else f"{r.deprived_lsoas} of {r.lsoas}",
                "—" if r.population is None else f"{r.population:,}",
                f"{r.reached:,}",
                r.reach_text,
            ]
        )
    if len(rows) == 1:
        rows.append(["No areas: import the postcode directory", "", "", "", "", "", ""])
    story.append(Paragraph(escape(f"By {first if report.by != 'lsoa' else 'LSOA'}"), STYLES["h2"]))
    story.append(
        grid_table(
            rows,
            [width * f for f in (0.13, 0.2, 0.2, 0.11, 0.13, 0.11, 0.12)],
            right=(3, 4, 5, 6),
        )
    )
    header = f"Reach against the population · {report.scope} · {report.period.label}"
    footer = f"Generated {report.generated_at:%d %b %Y %H:%M}"
    doc.build(story, canvasmaker=numbered_canvas(header, footer))
    return buf.getvalue()


def trend_pdf(trend: Trend) -> bytes:
    """The trend as a PDF: the chart, then a month a row with its change on the baseline."""
    from reportlab.lib.units import mm

    buf = io.BytesIO()
    doc = a4_document(
        buf,
        f"Trend: {trend.scope}, {trend.period.label}",
        "Children reached, first visits and returning families, month by month",
    )
    width = doc.width
    story: list[Any] = [
        Paragraph("The trend month by month", STYLES["title"]),
        Paragraph(
            f"<b>{escape(trend.scope)}</b> &nbsp;·&nbsp; {escape(trend.period.label)} "
            f"&nbsp;·&nbsp; baseline {escape(trend.base.label)}",
            STYLES["subtitle"],
        ),
        Spacer(1, 4 * mm),
        chart_flowable(trend_chart(trend), width, 95 * mm),
        Spacer(1, 4 * mm),
    ]
    labels = [
        "Month",
        "Qualifying children",
        "Other children",
        "Qualifying share",
        "First visits",
        "Returning families",
        "Qualifying children on the baseline",
        "Share on the baseline",
        "First visits on the baseline",
    ]
    rows: list[list[Any]] = [header_cells(labels, right=range(1, len(labels)))]
    base = trend.base
    for m in trend.months:
        is_base = m.month == trend.baseline
        rows.append(
            [
                m.label + (" (baseline)" if is_base else ""),
                f"{m.qualifying_children:,}",
                f"{m.other_children:,}",
                share_text(m.share),
                f"{m.first_visits:,}",
                f"{m.returning_families:,}",
                "—" if is_base else signed(trend.change(m, "qualifying_children")),
                "—" if is_base else points_text(m.share, base.share),
                "—" if is_base else signed(trend.change(m, "first_visits")),
            ]
        )
    story.append(
        grid_table(
            rows,
            [width * f for f in (0.16, 0.1, 0.1, 0.1, 0.1, 0.1, 0.12, 0.11, 0.11)],
            right=range(1, len(labels)),
        )
    )
    story.append(Spacer(1, 2 * mm))
    story.append(
        Paragraph(
            "Children are counted once a month; the qualifying share is of those children, not "
            "of child-attendances. A first visit is a family's first attendance the server "
            "holds; returning families came that month and had come before.",
            STYLES["caption"],
        )
    )
    header = f"Trend · {trend.scope} · {trend.period.label}"
    footer = f"Generated {trend.generated_at:%d %b %Y %H:%M}"
    doc.build(story, canvasmaker=numbered_canvas(header, footer))
    return buf.getvalue()
