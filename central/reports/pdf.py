"""Printable PDFs (reportlab): the invoice backing sheet and the reach report.

Page 1 of the invoice is its summary (the count, the rate or rates with the date each took
effect, the total, and what is not in the total and why); the lines follow, with the table
header repeated on every page and "page N of M" in the footer.

    >>> Path("april.pdf").write_bytes(invoice_pdf(sheet))        # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from central.reports.invoice import InvoiceLine, InvoiceSheet
from central.reports.money import format_money
from central.reports.names import reason_words
from central.reports.period import REPORT_TZ, long_date
from central.reports.reach import Counts, Reach, percent
from central.reports.wording import plural

NAVY = colors.HexColor("#1f4e79")
INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#c8d3df")
BAND = colors.HexColor("#f2f6fa")
AMBER = colors.HexColor("#fff4e0")
MARGIN = 16 * mm

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle(
        "title", parent=_base["Title"], fontSize=20, leading=24, alignment=0, textColor=NAVY
    ),
    "subtitle": ParagraphStyle(
        "subtitle", parent=_base["Normal"], fontSize=12, leading=16, textColor=INK
    ),
    "h2": ParagraphStyle(
        "h2", parent=_base["Heading2"], fontSize=13, leading=16, textColor=NAVY, spaceBefore=10
    ),
    "body": ParagraphStyle("body", parent=_base["Normal"], fontSize=9.5, leading=13),
    "note": ParagraphStyle(
        "note", parent=_base["Normal"], fontSize=9.5, leading=13, leftIndent=8, bulletIndent=0
    ),
    "small": ParagraphStyle("small", parent=_base["Normal"], fontSize=8, leading=10),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontSize=7, leading=8.5),
    "label": ParagraphStyle(
        "label", parent=_base["Normal"], fontSize=8.5, leading=11, textColor=MUTED
    ),
    "figure": ParagraphStyle(
        "figure",
        parent=_base["Normal"],
        fontSize=18,
        leading=22,
        textColor=INK,
        fontName="Helvetica-Bold",
    ),
    "figure_right": ParagraphStyle(
        "figure_right",
        parent=_base["Normal"],
        fontSize=18,
        leading=22,
        textColor=NAVY,
        fontName="Helvetica-Bold",
    ),
    "caption": ParagraphStyle(
        "caption", parent=_base["Normal"], fontSize=8, leading=10, textColor=MUTED
    ),
    "num": ParagraphStyle("num", parent=_base["Normal"], fontSize=8, alignment=TA_RIGHT),
    # Header cells that wrap inside their column instead of running into the next one.
    "head": ParagraphStyle(
        "head",
        parent=_base["Normal"],
        fontName="Helvetica-Bold",
        fontSize=7.5,
        leading=9,
        textColor=colors.white,
    ),
}
STYLES["head_right"] = ParagraphStyle("head_right", parent=STYLES["head"], alignment=TA_RIGHT)
# Family and child references (F-7K3M9QX2AB) in a fixed-width face: twelve characters always fit
# their column, whichever letters they have (in Helvetica, "C-W78NR0MTW6" did not).
STYLES["ref"] = ParagraphStyle(
    "ref", parent=_base["Normal"], fontName="Courier", fontSize=6.5, leading=8.5
)


def header_cells(labels: Sequence[str], right: Sequence[int] = ()) -> list[Paragraph]:
    """A table's header row as paragraphs: a long label wraps within its column."""
    return [
        Paragraph(escape(label), STYLES["head_right" if i in right else "head"])
        for i, label in enumerate(labels)
    ]


def escape(text: object) -> str:
    """``text`` safe inside a ReportLab ``Paragraph`` (its markup is XML-like: & < > escaped)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def numbered_canvas(header: str, footer: str) -> type[Canvas]:
    """A canvas that draws the running header and "page N of M" once the page count is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.6)
            self.line(MARGIN, height - 11 * mm, width - MARGIN, height - 11 * mm)
            self.line(MARGIN, 11 * mm, width - MARGIN, 11 * mm)
            self.setFont("Helvetica-Bold", 8)
            self.setFillColor(NAVY)
            self.drawString(MARGIN, height - 9.5 * mm, "Doorstep")
            self.setFont("Helvetica", 8)
            self.setFillColor(MUTED)
            self.drawRightString(width - MARGIN, height - 9.5 * mm, header)
            self.drawString(MARGIN, 7.5 * mm, footer)
            self.drawRightString(width - MARGIN, 7.5 * mm, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def a4_document(buf: io.BytesIO, title: str, subject: str) -> SimpleDocTemplate:
    """An A4 document in our margins, titled and attributed to the central server."""
    return SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        subject=subject,
        author="Doorstep central server",
        creator="Doorstep (kiosk-central)",
        lang="en-GB",
    )


def grid_table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    right: Sequence[int] = (),
    total_row: bool = False,
    shade: colors.Color | None = None,
    size: float = 7.5,
) -> Table:
    """A table with a navy header row (repeated on each page) and banded rows."""
    table = Table(list(rows), colWidths=list(widths), repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size + 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
    ]
    for i in range(1, len(rows)):
        if shade is not None:
            style.append(("BACKGROUND", (0, i), (-1, i), shade))
        elif i % 2 == 0:
            style.append(("BACKGROUND", (0, i), (-1, i), BAND))
    for col in right:
        style.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    if total_row:
        style += [
            ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ("LINEABOVE", (0, -1), (-1, -1), 1, NAVY),
            ("BACKGROUND", (0, -1), (-1, -1), colors.white),
        ]
    table.setStyle(TableStyle(style))
    return table


def key_figures_table(cells: Sequence[tuple[str, str, str]], width: float) -> Table:
    """Boxes of (label, figure, small print) side by side; the last one is emphasised."""
    row = []
    for i, (label, figure, small) in enumerate(cells):
        style = STYLES["figure_right"] if i == len(cells) - 1 else STYLES["figure"]
        row.append(
            [
                Paragraph(escape(label), STYLES["label"]),
                Paragraph(escape(figure), style),
                Paragraph(escape(small), STYLES["caption"]),
            ]
        )
    table = Table([row], colWidths=[width / len(cells)] * len(cells))
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, RULE),
                ("LINEAFTER", (0, 0), (-2, -1), 0.8, RULE),
                ("BACKGROUND", (-1, 0), (-1, -1), BAND),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return table


# -- the invoice -------------------------------------------------------------------------------
def invoice_pdf(sheet: InvoiceSheet, org_name: str | None = None, with_lines: bool = True) -> bytes:
    """The backing sheet as a PDF: summary page, then every line (``with_lines`` False: the
    summary alone, for staff, since the lines say which families qualify and why)."""
    buf = io.BytesIO()
    org = org_name or sheet.org_label
    issue = sheet.issue
    title = f"Invoice {issue.number}" if issue else "Invoice backing sheet"
    doc = a4_document(
        buf,
        f"{title}: {org}, {sheet.period.label}",
        "Qualifying child-attendances and the incentive due",
    )
    width = doc.width
    if issue:
        state = (
            f"Issued {issue.issued_at.astimezone(REPORT_TZ):%d %B %Y} by {escape(issue.issued_by)}"
            " · backing sheet as issued, never changed"
        )
    elif sheet.period.is_month:
        state = "DRAFT: not issued, may still change"
    else:
        state = "Backing sheet for a range of days (not an invoice)"
    story: list[Any] = [
        Paragraph(escape(title), STYLES["title"]),
        Paragraph(state, STYLES["label"]),
        Paragraph(
            f"<b>{escape(org)}</b> &nbsp;·&nbsp; {escape(sheet.period.label)}"
            + (
                f" ({long_date(sheet.period.start)} to {long_date(sheet.period.end)})"
                if sheet.period.is_month
                else ""
            )
            + f" &nbsp;·&nbsp; contract: {escape(sheet.contract)}",
            STYLES["subtitle"],
        ),
        Spacer(1, 8 * mm),
    ]
    rates = sheet.rates_in_force
    if len(rates) == 1:
        rate_text = format_money(rates[0].amount)
        rate_small = f"per qualifying child-session, from {long_date(rates[0].effective_from)}"
    elif rates:
        rate_text = " / ".join(format_money(r.amount) for r in rates)
        rate_small = "per child-session; the rate changed during the period (see below)"
    else:
        rate_text, rate_small = "none set", "kiosk-central org rate ORG AMOUNT --from DATE"
    story.append(
        key_figures_table(
            [
                (
                    "Qualifying child-attendances",
                    f"{sheet.count:,}",
                    f"{plural(sheet.children, 'child', 'children')} from "
                    f"{plural(sheet.families, 'family', 'families')} "
                    f"at {plural(sheet.sessions, 'session')}",
                ),
                ("Rate", rate_text, rate_small),
                ("Total due", format_money(sheet.total), "in pounds sterling, exact to the penny"),
            ],
            width,
        )
    )
    story.append(Spacer(1, 6 * mm))

    story.append(Paragraph("How the total is made", STYLES["h2"]))
    rows: list[list[Any]] = [
        ["Rate per child-session", "In force from", "Child-attendances", "Amount"]
    ]
    for sub in sheet.subtotals:
        if sub.rate is None:
            rows.append(["no rate set", "—", f"{sub.count:,}", "not priced"])
        else:
            rows.append(
                [
                    format_money(sub.rate.amount),
                    long_date(sub.rate.effective_from),
                    f"{sub.count:,}",
                    format_money(sub.subtotal),
                ]
            )
    if sheet.credits:
        rows.append(
            [
                "Credits (billed before)",
                "—",
                f"-{len(sheet.credits):,}",
                format_money(sheet.credit_total),
            ]
        )
    rows.append(["Total", "", f"{sheet.count:,}", format_money(sheet.total)])
    story.append(
        grid_table(rows, [width * f for f in (0.3, 0.3, 0.2, 0.2)], right=(2, 3), total_row=True)
    )

    notes = sheet.notes()
    story.append(Paragraph("Please note", STYLES["h2"]))
    for note in notes:
        story.append(Paragraph(escape(note), STYLES["note"], bulletText="•"))
    story.append(
        Paragraph(
            "Each line is one child at one session whose attendance qualified for the incentive "
            "when it was recorded at the door. The decision (the reasons and the version of the "
            "risk list in force) was recorded with the attendance and is never recomputed, so "
            "this sheet is the same whenever it is produced, whatever lists are imported later.",
            STYLES["note"],
            bulletText="•",
        )
    )
    story.append(Spacer(1, 4 * mm))
    review = sheet.with_status("review")
    details = [
        ["Sheet", ""],
        ["Invoice", f"{issue.number} (issued)" if issue else "draft: not issued"],
        ["Organisation", org if org == sheet.org_id else f"{org} ({sheet.org_id})"],
        ["Period", f"{long_date(sheet.period.start)} to {long_date(sheet.period.end)}"],
        ["Lines for review (not in the total)", f"{len(review):,}"],
        ["Risk-list versions on the lines", ", ".join(sheet.risk_versions) or "—"],
        ["Generated", sheet.generated_at.strftime("%d %B %Y %H:%M")],
        ["Fingerprint (SHA-256 of the CSV)", sheet.fingerprint[:32] + "…"],
    ]
    story.append(KeepTogether(grid_table(details, [width * 0.4, width * 0.6])))

    own = [line for line in sheet.lines if not line.late_of and line.status != "credit"]

    def own_with(status: str) -> list[InvoiceLine]:
        return [line for line in own if line.status == status]

    sections = [
        ("Qualifying child-attendances in the total", own_with("counted"), None, True),
        (
            "Late: recorded or reviewed after their month was issued, with their own dates",
            sheet.late,
            None,
            False,
        ),
        ("Credits: billed on an earlier invoice, no longer counted", sheet.credits, None, False),
        (
            "For review: recorded while the kiosk clock was not synchronised (not in the total)",
            own_with("review"),
            AMBER,
            False,
        ),
        ("Excluded after review (not in the total)", own_with("excluded"), None, False),
        (
            "Recorded twice for the same session (counted once, not in the total)",
            own_with("duplicate"),
            None,
            False,
        ),
    ]
    if not with_lines:
        story.append(
            Paragraph(
                "The lines (which child-attendances qualified, and why) are for the "
                "organisation's finance role and the commissioner.",
                STYLES["note"],
                bulletText="•",
            )
        )
        sections = []
    for heading, lines, shade, with_total in sections:
        if not lines and not with_total:
            continue
        story.append(PageBreak())
        story.append(Paragraph(escape(heading), STYLES["h2"]))
        story.append(Spacer(1, 2 * mm))
        story.extend(invoice_lines_table(lines, width, shade, sheet if with_total else None))

    header = f"{title} · {org} · {sheet.period.label}" + ("" if issue else " · draft")
    footer = f"Fingerprint {sheet.fingerprint[:16]} · generated {sheet.generated_at:%d %b %Y %H:%M}"
    doc.build(story, canvasmaker=numbered_canvas(header, footer))
    return buf.getvalue()


#: Lines per table on the line pages: small tables lay out in linear time (one big table that
#: splits across pages does not), and each starts with the header row.
LINES_PER_TABLE = 50


def invoice_lines_table(
    lines: Sequence[InvoiceLine],
    width: float,
    shade: colors.Color | None,
    totals: InvoiceSheet | None,
) -> list[Table]:
    header = header_cells(
        ["Date", "Session", "Site", "Family", "Child", "Reasons", "Risk list", "Method", "Amount"],
        right=(8,),
    )
    cell = STYLES["cell"]
    rows: list[list[Any]] = []
    for line in lines:
        amount = format_money(line.amount) if line.in_total else "—"
        if line.in_total and line.rate is None:
            amount = "no rate"
        # Text that can be long wraps inside its own column (a plain string ran on over the
        # next column: the reasons over the risk list).
        rows.append(
            [
                line.session_date.isoformat(),
                Paragraph(escape(_fit(line.session_name, 60)), cell),
                Paragraph(escape(_fit(line.site_label, 40)), cell),
                Paragraph(escape(line.family_id), STYLES["ref"]),
                Paragraph(escape(line.child_id), STYLES["ref"]),
                Paragraph(escape(reason_words(line.reasons, short=True)), cell),
                Paragraph(escape(line.risk_version), cell),
                line.method,
                amount,
            ]
        )
    if not lines:
        rows.append(["No qualifying attendances in this period.", "", "", "", "", "", "", "", ""])
    if totals is not None:
        whole = not totals.late and not totals.credits
        mine = [line for line in lines if line.in_total]
        subtotal = sum((line.amount or 0 for line in mine), Decimal(0))
        rows.append(
            [
                "Total" if whole else "Subtotal",
                f"{len(mine):,} child-attendances",
                "",
                "",
                "",
                "",
                "",
                "",
                format_money(totals.total if whole else subtotal),
            ]
        )
    fractions = (0.095, 0.145, 0.115, 0.125, 0.125, 0.115, 0.12, 0.07, 0.09)
    tables = []
    for start in range(0, len(rows), LINES_PER_TABLE):
        chunk = rows[start : start + LINES_PER_TABLE]
        last = start + LINES_PER_TABLE >= len(rows)
        table = grid_table(
            [header, *chunk],
            [width * f for f in fractions],
            right=(8,),
            total_row=totals is not None and last,
            shade=shade,
            size=7,
        )
        if totals is not None and last:
            table.setStyle(TableStyle([("SPAN", (1, -1), (4, -1))]))
        tables.append(table)
    return tables


def _fit(text: str, most: int) -> str:
    """Cut to ``most`` characters (an ellipsis shows it was cut): plain cells stay one line."""
    return text if len(text) <= most else text[: most - 1] + "…"


# -- the reach report --------------------------------------------------------------------------
#: Said under the mix chart, whose share is not the headline's.
MIX_NOTE = (
    "This chart counts child-attendances: each child counted at every session they came to. So "
    "its share can differ from 'Children who qualify' on page 1, where each child is counted once."
)


def reach_pdf(reach: Reach, charts: Sequence[Any]) -> bytes:
    """The reach report as a PDF: key figures, the charts (with their figures) and the tables."""
    buf = io.BytesIO()
    doc = a4_document(
        buf,
        f"Reach and engagement: {reach.scope}, {reach.period.label}",
        "Families and children reached, how often they come, who has lapsed",
    )
    width = doc.width
    t = reach.total
    story: list[Any] = [
        Paragraph("Reach and engagement", STYLES["title"]),
        Paragraph(
            f"<b>{escape(reach.scope)}</b> &nbsp;·&nbsp; {escape(reach.period.label)}",
            STYLES["subtitle"],
        ),
        Spacer(1, 6 * mm),
        key_figures_table(
            [
                ("Families", f"{t.families:,}", plural(t.visits, "family visit")),
                ("Children", f"{t.children:,}", f"at {plural(t.sessions, 'session')}"),
                ("New registrations", f"{reach.registrations:,}", "in the period"),
                (
                    "Children who qualify",
                    percent(t.share),
                    f"{t.qualifying_children:,} of {plural(t.children, 'child', 'children')}, "
                    "each child counted once",
                ),
            ],
            width,
        ),
    ]
    for chart in charts:
        png = chart.png(dpi=160)
        img = Image(io.BytesIO(png))
        scale = min(width / img.imageWidth, 70 * mm / img.imageHeight)
        img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
        parts = [
            Paragraph(escape(chart.title), STYLES["h2"]),
            img,
            Paragraph(escape(chart.alt), STYLES["caption"]),
        ]
        if chart.name == "mix":
            parts.append(Paragraph(escape(MIX_NOTE), STYLES["caption"]))
        story.append(KeepTogether(parts))
    story.append(PageBreak())

    def counts_table(title: str, rows: Sequence[Counts], first: str) -> None:
        if not rows:
            return
        # Header cells wrap: plain strings ran into each other ("FamiliesQualifying families").
        data: list[list[Any]] = [
            header_cells(
                [
                    first,
                    "Families",
                    "Qualifying families",
                    "Children",
                    "Qualifying children",
                    "Share of the children",
                ],
                right=(1, 2, 3, 4, 5),
            )  # fmt: skip
        ]
        for c in rows:
            data.append(
                [
                    Paragraph(escape(c.label), STYLES["cell"]),
                    f"{c.families:,}",
                    f"{c.qualifying_families:,}",
                    f"{c.children:,}",
                    f"{c.qualifying_children:,}",
                    percent(c.share),
                ]
            )
        story.append(Paragraph(escape(title), STYLES["h2"]))
        story.append(
            grid_table(
                data,
                [width * f for f in (0.4, 0.12, 0.12, 0.12, 0.12, 0.12)],
                right=(1, 2, 3, 4, 5),
            )
        )

    counts_table("Unique families and children by month", reach.by_month, "Month")
    if reach.org_id is None:
        counts_table("By organisation", reach.by_org, "Organisation")
    counts_table("By site", reach.by_site, "Site")
    counts_table("By session", reach.by_session, "Session")

    story.append(Paragraph("How often families came", STYLES["h2"]))
    bands: list[list[Any]] = [["Visits in the period", "Families", "Of whom qualify"]]
    bands += [[b.label, f"{b.families:,}", f"{b.qualifying_families:,}"] for b in reach.visit_bands]
    story.append(grid_table(bands, [width * 0.4, width * 0.2, width * 0.2], right=(1, 2)))

    story.append(Paragraph("New registrations: how they first heard of us", STYLES["h2"]))
    heard: list[list[Any]] = [["First heard from", "New families"]]
    heard += [[label, f"{n:,}"] for _c, label, n in reach.heard_from]
    heard.append(["All new registrations", f"{reach.registrations:,}"])
    story.append(grid_table(heard, [width * 0.4, width * 0.2], right=(1,), total_row=True))

    if reach.occurrences:
        story.append(Paragraph("Qualifying share at each session", STYLES["h2"]))
        occ: list[list[Any]] = [["Session", "Families", "Children", "Qualify", "Share"]]
        occ += [
            [
                Paragraph(escape(c.label), STYLES["cell"]),
                f"{c.families:,}",
                f"{c.children:,}",
                f"{c.qualifying_children:,}",
                percent(c.attendance_share),
            ]
            for c in reach.occurrences
        ]
        story.append(
            grid_table(occ, [width * f for f in (0.52, 0.12, 0.12, 0.12, 0.12)], right=(1, 2, 3, 4))
        )

    story.append(
        Paragraph(
            f"Not seen for six weeks (since before {long_date(reach.not_seen_cutoff)})",
            STYLES["h2"],
        )
    )
    if reach.not_seen:
        refs = any(f.family_id for f in reach.not_seen)  # staff see names, no references
        lapsed: list[list[Any]] = [["Family", "Name", "Last seen", "Visits", "Registered"]]
        lapsed += [
            [
                f.family_id,
                Paragraph(escape(f.greeting_name), STYLES["cell"]),
                long_date(f.last_seen) if f.last_seen else "never came",
                f"{f.visits:,}",
                long_date(f.registered) if f.registered else "—",
            ]
            for f in reach.not_seen
        ]
        fractions = (0.2, 0.3, 0.2, 0.1, 0.2)
        if not refs:
            lapsed, fractions = [row[1:] for row in lapsed], (0.4, 0.25, 0.1, 0.25)
        story.append(grid_table(lapsed, [width * f for f in fractions], right=(3 if refs else 2,)))
    else:
        by_org = ", ".join(f"{org}: {n:,}" for org, n in reach.not_seen_by_org) or "none"
        story.append(
            Paragraph(escape(f"{reach.not_seen_count:,} families ({by_org})."), STYLES["body"])
        )

    header = f"Reach and engagement · {reach.scope} · {reach.period.label}"
    footer = f"Generated {reach.generated_at:%d %b %Y %H:%M}"
    doc.build(story, canvasmaker=numbered_canvas(header, footer))
    return buf.getvalue()
