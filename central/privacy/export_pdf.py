"""The family export as a readable PDF, in the house style of ``central.reports.pdf``.

Written for the family who asked: what we hold, in plain words, then every attendance and the
events behind it, with "page N of M" in the footer.

    >>> data = family_export(db, "F-7K3M9QX2AB")                 # doctest: +SKIP
    >>> Path("export.pdf").write_bytes(export_pdf(data))       # doctest: +SKIP
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from central.reports.pdf import STYLES, a4_document, escape, grid_table, numbered_canvas

_CRITERIA = {
    "young_parent": "young parent",
    "single_parent": "single parent",
    "sen": "special educational needs",
}


def _text(value: Any) -> str:
    return "—" if value in (None, "", []) else str(value)


def export_pdf(data: dict[str, Any]) -> bytes:
    """Render ``central.privacy.export.family_export``'s result."""
    buf = io.BytesIO()
    family = data["family"] or {}
    name = family.get("greeting_name") or family.get("family_id", "")
    doc = a4_document(
        buf,
        f"What Doorstep holds about {name}",
        "A copy of the personal data held by the central server (UK GDPR, right of access)",
    )
    width = doc.width
    meta = data["export"]
    story: list[Any] = [
        Paragraph(f"What we hold about {escape(name)}", STYLES["title"]),
        Paragraph(
            f"Family reference <b>{escape(family.get('family_id', ''))}</b> &nbsp;·&nbsp; "
            f"{escape(meta['organisation'])} &nbsp;·&nbsp; produced {escape(meta['exported_at'])}",
            STYLES["subtitle"],
        ),
        Spacer(1, 6 * mm),
        Paragraph("The family record", STYLES["h2"]),
    ]
    criteria = ", ".join(_CRITERIA.get(c, c) for c in family.get("criteria", [])) or "none"
    record = [
        ["What", "Held"],
        ["Greeting name", _text(family.get("greeting_name"))],
        ["Postcode", _text(family.get("postcode"))],
        ["Recorded with consent", criteria],
        ["Consent given on", _text(family.get("consent_date"))],
        ["How you heard of us", _text(family.get("heard_from"))],
        ["Adults", _text(family.get("adults"))],
        ["Language", _text(family.get("language"))],
        ["Registered", _text(family.get("registered_at"))],
        ["Registered at site", _text(family.get("registered_site"))],
    ]
    story.append(grid_table(record, [width * 0.35, width * 0.65], size=9))

    story.append(Paragraph("Children", STYLES["h2"]))
    kids = [["Reference", "First name", "Month of birth"]] + [
        [c["child_id"], c["first_name"], _text(c["born"])] for c in data["children"]
    ]
    story.append(grid_table(kids, [width * f for f in (0.35, 0.35, 0.3)], size=9))

    story.append(Paragraph("Cards", STYLES["h2"]))
    cards = [["Card", "In use", "Last changed"]] + [
        [c["uid"], "yes" if c["active"] else "no (revoked)", _text(c["updated_at"])]
        for c in data["cards"]
    ]
    story.append(grid_table(cards, [width * f for f in (0.35, 0.25, 0.4)], size=9))

    story.append(Paragraph(f"Attendances ({len(data['attendances'])})", STYLES["h2"]))
    story.append(
        Paragraph(
            "Each visit as recorded at the door. 'Counts for the incentive' is the decision the "
            "kiosk recorded at the time for the council's family-support incentive, and why.",
            STYLES["body"],
        )
    )
    rows = [["Date", "Session", "Site", "Children", "Counts for the incentive", "How"]]
    for a in data["attendances"]:
        kids_text = ", ".join(c["first_name"] or c["child_id"] for c in a["children"]) or "—"
        decision = ("yes: " + ", ".join(a["reasons"])) if a["qualifies"] else "no"
        if a["held_for_review"]:
            decision += " (held for review)"
        rows.append([a["date"], a["session"], a["site"], kids_text, decision, a["method"]])
    story.append(
        grid_table(
            [[Paragraph(escape(c), STYLES["cell"]) for c in row] for row in rows],
            [width * f for f in (0.12, 0.2, 0.13, 0.22, 0.23, 0.1)],
        )
    )

    story.append(Paragraph(f"Stored events ({len(data['events'])})", STYLES["h2"]))
    evs = [["When", "What", "Kiosk", "Event id"]] + [
        [e["at"], e["type"], e["device_id"], e["event_id"]] for e in data["events"]
    ]
    story.append(grid_table(evs, [width * f for f in (0.22, 0.2, 0.18, 0.4)], size=7))

    if data["rejections"]:
        story.append(Paragraph("Refused records", STYLES["h2"]))
        rej = [["Received", "Kiosk", "Why"]] + [
            [
                r["received_at"],
                r["device_id"],
                Paragraph(escape(r["reason"]), STYLES["cell"]),
            ]
            for r in data["rejections"]
        ]
        story.append(grid_table(rej, [width * f for f in (0.25, 0.2, 0.55)], size=7))

    canvas = numbered_canvas(f"Personal data held: {name}", "Doorstep family export")
    doc.build(story, canvasmaker=canvas)
    return buf.getvalue()
