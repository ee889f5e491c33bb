"""``kiosk-central``: what each command leaves in the audit log, and ``audit show|verify``."""

from __future__ import annotations

from sqlalchemy import text

from central import audit
from central.cli import main
from central.db import CentralDB
from central.reports.rates import DEFAULT_CONTRACT
from tests.reports.helpers import MON_PLAY, Kiosk, at


def run(db_url: str, *argv: str) -> int:
    return main(["--db", db_url, "--as", "jo.admin", *argv])


def actions(db: CentralDB) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.subject) for e in audit.entries(db)]


def test_enrolment_users_grants_and_rates_are_logged(db_url, db, capsys):
    assert run(db_url, "org", "add", "lichfield") == 0
    assert run(db_url, "site", "add", "lichfield", "library") == 0
    assert run(db_url, "device", "add", "lichfield", "library", "kiosk-1") == 0
    assert run(db_url, "device", "revoke", "kiosk-1") == 0
    assert run(db_url, "user", "add", "carol", "--role", "commissioner") == 0
    assert run(db_url, "user", "grant", "carol", "names") == 0
    assert run(db_url, "user", "revoke", "carol", "names") == 0
    assert run(db_url, "user", "disable", "carol") == 0
    assert run(db_url, "org", "rate", "lichfield", "3.00", "--from", "2016-04-01") == 0
    assert run(db_url, "user", "list") == 0  # reads are not logged
    assert actions(db) == [
        ("jo.admin", "org.add", "lichfield"),
        ("jo.admin", "site.add", "lichfield/library"),
        ("jo.admin", "device.add", "kiosk-1"),
        ("jo.admin", "device.revoke", "kiosk-1"),
        ("jo.admin", "user.add", "carol"),
        ("jo.admin", "user.grant", "carol"),
        ("jo.admin", "user.revoke", "carol"),
        ("jo.admin", "user.disable", "carol"),
        ("jo.admin", "org.rate", "lichfield"),
    ]
    [rate] = audit.entries(db, action="org.rate")
    assert rate.detail == {
        "amount": "3.00",
        "effective_from": "2016-04-01",
        "contract": DEFAULT_CONTRACT,
        "via": "cli",
    }
    out = capsys.readouterr().out
    assert "carol\tcommissioner\t-\tdisabled\t-" in out
    assert db.check_user("carol", "anything") is None


def test_imports_and_report_exports_are_logged_but_dry_runs_are_not(db_url, db, tmp_path):
    kiosk = Kiosk(db).timetable(MON_PLAY)
    fam = kiosk.register("Sam", "WS7 1AA", ["Mia"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()
    risk = tmp_path / "council.txt"
    risk.write_text("WS7 1AA\n")
    paper = tmp_path / "paper.csv"
    paper.write_text(f"family_id,children,adults\n{fam.family_id},all,1\n")
    session = [
        "--org",
        "lichfield",
        "--site",
        "library",
        "--date",
        "2016-04-11",
        "--session-name",
        "Stay and Play",
        "--start",
        "09:30",
        "--end",
        "11:30",
    ]
    assert run(db_url, "risk", "import", "lichfield", str(risk), "--dry-run") == 0
    assert run(db_url, "risk", "import", "lichfield", str(risk)) == 0
    assert run(db_url, "import", "register", str(paper), *session, "--dry-run") == 0
    assert run(db_url, "import", "register", str(paper), *session) == 0
    out = tmp_path / "out"
    assert (
        run(
            db_url,
            "report",
            "invoice",
            "--org",
            "lichfield",
            "--month",
            "2016-04",
            "--out",
            str(out),
        )
        == 0
    )
    assert (
        run(db_url, "report", "reach", "--month", "2016-04", "--format", "csv", "--out", str(out))
        == 0
    )
    assert (
        run(
            db_url,
            "report",
            "register",
            "--org",
            "lichfield",
            "--date",
            "2016-04-04",
            "--out",
            str(out),
        )
        == 0
    )
    logged = list(audit.entries(db))
    assert [(e.action, e.subject) for e in logged] == [
        ("risk.import", "lichfield"),
        ("paper.import", "lichfield"),
        ("report.download", "lichfield"),
        ("report.download", "all"),
        ("report.download", "lichfield"),
    ]
    assert logged[0].detail["file"] == "council.txt"
    assert logged[1].detail["file"] == "paper.csv" and logged[1].detail["date"] == "2016-04-11"
    assert [e.detail["report"] for e in logged[2:]] == ["invoice", "reach", "register"]
    assert logged[3].detail["names"] is False and logged[4].detail["names"] is True
    assert "Sam" not in "".join(e.line() for e in logged)


def test_a_failed_command_is_not_logged(db_url, db):
    assert run(db_url, "device", "revoke", "no-such-kiosk") == 1
    assert actions(db) == []


def test_the_actor_defaults_to_the_person_behind_sudo(db_url, db, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "sam")
    monkeypatch.setenv("USER", "root")
    assert main(["--db", db_url, "org", "add", "lichfield"]) == 0
    assert actions(db) == [("sam", "org.add", "lichfield")]


def test_audit_show_and_verify(db_url, db, capsys):
    run(db_url, "org", "add", "lichfield")
    run(db_url, "user", "add", "carol", "--role", "commissioner")
    capsys.readouterr()
    assert run(db_url, "audit", "show", "--action", "user") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[2:5] == ["jo.admin", "user.add", "carol"]
    assert run(db_url, "audit", "show", "--actor", "nobody", "--since", "2026-01-01") == 0
    assert capsys.readouterr().out == ""
    assert run(db_url, "audit", "verify") == 0
    assert "audit log intact: 2 rows" in capsys.readouterr().out
    with db.engine.begin() as conn:  # tamper: drop the guard, change the first row
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET subject = 'tamworth' WHERE id = 1"))
    assert run(db_url, "audit", "verify") == 1
    assert "audit log broken at row 1" in capsys.readouterr().err
