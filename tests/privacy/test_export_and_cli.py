"""``kiosk-central family export`` (JSON and PDF) and ``family erase`` from the command line."""

from __future__ import annotations

import json
import subprocess

from central.audit import entries as audit_entries
from central.cli import main
from central.privacy.export import family_export
from tests.privacy.helpers import SARAH_CARD, Families, leaks


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    status = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_json_export_holds_everything_about_the_family(capsys, db_url, families: Families):
    status, out, _ = run(capsys, db_url, "family", "export", families.sarah.family_id)

    assert status == 0
    data = json.loads(out)
    assert set(data) == {
        "export",
        "family",
        "children",
        "cards",
        "attendances",
        "events",
        "rejections",
    }
    fam = data["family"]
    assert (fam["greeting_name"], fam["postcode"], fam["criteria"]) == (
        "Sarahjane",
        "WS11 4QT",
        ["single_parent"],
    )
    assert (fam["heard_from"], fam["language"], fam["adults"]) == ("leaflet", "pl", 1)
    assert fam["consent_date"] and fam["registered_at"].startswith("2016-01-04")
    assert {c["first_name"] for c in data["children"]} == {"Miabelle", "Leonardo"}
    assert {c["child_id"] for c in data["children"]} == {
        c.child_id for c in families.sarah.children
    }
    assert data["cards"] == [
        {"uid": SARAH_CARD, "active": True, "updated_at": data["cards"][0]["updated_at"]}
    ]
    atts = data["attendances"]
    assert len(atts) == 6
    assert {a["method"] for a in atts} == {"card", "manual"}
    assert all(a["qualifies"] and "sector" in a["reasons"] for a in atts)
    wednesday = next(a for a in atts if a["date"] == "2016-04-06")
    assert [c["first_name"] for c in wednesday["children"]] == ["Miabelle"]
    unsynced = next(a for a in atts if not a["clock_synced"])
    assert unsynced["review"]["decision"] == "counted" and not unsynced["held_for_review"]
    # Every stored event that mentions the family: registration, card, 5 taps, 1 sign-in.
    assert sorted(e["type"] for e in data["events"]) == sorted(
        ["member.registered", "card.assigned"] + ["attendance.recorded"] * 6
    )
    assert all(e["event_id"] and e["at"] for e in data["events"])
    assert [r["reason"] for r in data["rejections"]] == [
        "data.qualifies: Input should be a valid boolean (got 'yes')"
    ]
    # Tom's data is not in Sarah's export.
    assert families.tom.family_id not in out and "Tomasz" not in out


def test_the_pdf_export_is_a_pdf_with_the_familys_name(capsys, db_url, families, tmp_path):
    path = tmp_path / "sarah.pdf"
    status, _, err = run(
        capsys,
        db_url,
        "family",
        "export",
        families.sarah.family_id,
        "--format",
        "pdf",
        "--out",
        str(path),
    )

    assert status == 0 and str(path) in err
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "What we hold about Sarahjane" in text
    for expected in ("WS11 4QT", "Miabelle", "Leonardo", SARAH_CARD, "single parent"):
        assert expected in text
    assert "Attendances (6)" in text


def test_an_unknown_family_gets_a_clear_error_and_status_1(capsys, db_url, families):
    for action in (["export"], ["erase", "--yes"]):
        status, out, err = run(capsys, db_url, "family", *action, "F-NOSUCH00")
        assert (status, out) == (1, "")
        assert "no family 'F-NOSUCH00' on this server" in err


def test_erase_says_what_it_erased_and_kept_and_needs_yes(capsys, db_url, db, families):
    status, _, err = run(capsys, db_url, "family", "erase", families.sarah.family_id)
    assert status == 1 and "add --yes" in err  # no terminal to ask on
    assert leaks(db, families.secrets)

    status, out, _ = run(
        capsys, db_url, "family", "erase", families.sarah.family_id, "--yes", "--by", "Jo Smith"
    )

    assert status == 0
    assert "children (first names, months of birth): 2" in out
    assert "attendances: 6" in out and "child-attendances: 11" in out
    assert "asked by Jo Smith" in out
    assert leaks(db, families.secrets) == []
    # Export now finds nothing (the family is gone), and says so.
    status, _, err = run(capsys, db_url, "family", "export", families.sarah.family_id)
    assert status == 1 and "no family" in err


def test_export_is_recorded_in_the_audit_log_under_a_pseudonym(db, families):
    family_export(db, families.sarah.family_id, requested_by="alice")

    entry = [e for e in audit_entries(db) if e.action == "family.export"][-1]
    assert entry.actor == "alice" and entry.subject.startswith("family-")
    assert families.sarah.family_id not in entry.line()
