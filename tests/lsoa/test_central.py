"""``kiosk-central risk import-lsoa ORG``: the server builds the same list from the same files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from central import cli as central_cli
from kiosk.admin import main as admin_main
from tests.lsoa.helpers import Lsoa, Pc, write_imd, write_onspd


def central(db: str, *argv: str, capsys) -> tuple[int, str, str]:
    code = central_cli.main(["--db", db, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    onspd = write_onspd(
        tmp_path / "ONSPD_FEB_2023_UK.csv",
        [
            Pc("WV8 1AA", "E01029600"),
            Pc("WV8 2AA", "E01029601"),
            Pc("WV8 1AB", "E01029600", doterm="202001"),
        ],
    )
    imd = write_imd(
        tmp_path / "File_1_IoD2019.csv", [Lsoa("E01029600", 3), Lsoa("E01029601", 20_000)]
    )
    return ["--postcodes", str(onspd), "--imd", str(imd), "--most-deprived", "30%"]


def test_server_import_gives_the_digest_a_kiosk_gets(tmp_path, files, capsys):
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    assert central(db, "org", "add", "lichfield", capsys=capsys)[0] == 0
    code, out, err = central(db, "risk", "import-lsoa", "lichfield", *files, capsys=capsys)
    assert code == 0, err
    assert "rule: IMD 2019 rank <= 30% (9,853 LSOAs)" in out
    assert "postcodes: 1" in out and "terminated: 1" in out and "added: 1" in out
    server_version = out.split("version: ")[1].split()[0]

    kiosk_out = io.StringIO()
    admin_main(["--data", str(tmp_path / "kiosk"), "risk", "import-lsoa", *files], out=kiosk_out)
    kiosk_version = kiosk_out.getvalue().split("version: ")[1].split()[0]
    assert server_version.split("-")[1] == kiosk_version.split("-")[1]  # same digest

    code, out, _ = central(db, "risk", "history", "lichfield", capsys=capsys)
    assert "ONSPD_FEB_2023_UK.csv + File_1_IoD2019.csv" in out


def test_server_import_errors_are_one_line_with_status_1(tmp_path, files, capsys):
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    central(db, "org", "add", "lichfield", capsys=capsys)
    code, out, err = central(
        db, "risk", "import-lsoa", "lichfield", *files, "--county", "E10000099", capsys=capsys
    )
    assert code == 1 and "kiosk-central: --county E10000099: no postcode" in err


def test_server_dry_run_saves_nothing(tmp_path, files, capsys):
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    central(db, "org", "add", "lichfield", capsys=capsys)
    code, out, _ = central(
        db, "risk", "import-lsoa", "lichfield", *files, "--dry-run", capsys=capsys
    )
    assert code == 0 and "dry run: the risk list is unchanged" in out
    assert central(db, "risk", "history", "lichfield", capsys=capsys)[1] == ""


def test_server_keeps_the_rule_and_source_files_and_kiosks_receive_them(tmp_path, files, capsys):
    """The version record on the server names the rule and the files (with their hashes), as
    the kiosk's own does, and the setup pull hands them to every kiosk with the list."""
    from central.db import CentralDB
    from central.setup_data import risk_list, setup_for
    from kiosk.domain.risk import RiskList

    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    central(db, "org", "add", "lichfield", capsys=capsys)
    central(db, "site", "add", "lichfield", "library", capsys=capsys)
    central(db, "device", "add", "lichfield", "library", "kiosk-1", capsys=capsys)
    assert central(db, "risk", "import-lsoa", "lichfield", *files, capsys=capsys)[0] == 0
    kiosk_out = io.StringIO()
    admin_main(["--data", str(tmp_path / "kiosk"), "risk", "import-lsoa", *files], out=kiosk_out)

    database = CentralDB.open(db)
    try:
        saved = risk_list(database, "lichfield")
        [device] = database.devices()
        pulled = RiskList.from_dict(setup_for(database, device)["risk"])
    finally:
        database.close()
    assert saved is not None and saved.rule == "IMD 2019 rank <= 30% (9,853 LSOAs)"
    assert [(s.role, s.name) for s in saved.sources] == [
        ("postcodes", "ONSPD_FEB_2023_UK.csv"),
        ("imd", "File_1_IoD2019.csv"),
    ]
    assert pulled.rule == saved.rule and pulled.sources == saved.sources
    # The same files on a kiosk give the same hashes in its version record.
    capsys.readouterr()
    _, out, _ = central(db, "risk", "history", "lichfield", capsys=capsys)
    kiosk_history = io.StringIO()
    admin_main(["--data", str(tmp_path / "kiosk"), "risk", "history"], out=kiosk_history)
    for src in saved.sources:
        assert f"sha256:{src.sha256}" in out
        assert f"sha256:{src.sha256}" in kiosk_history.getvalue()
    assert "rule: IMD 2019 rank <= 30%" in out


def test_migration_7_adds_the_provenance_columns_to_an_older_risk_lists_table(tmp_path):
    from sqlalchemy import inspect, text

    from central.db import CentralDB
    from tests.schema_history import rewind

    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    database = CentralDB.open(url)
    database.add_org("lichfield")
    rewind(database, 6)  # risk_lists as a version 3-6 server made it
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO risk_lists VALUES ('lichfield', 1, 'abc', '[\"postcode:WS13 6YY\"]',"
                " 'old.txt', '2026-01-01 00:00:00')"
            )
        )
    assert database.migrate() == ("0006", "0012")
    assert database.migrate() == ("0012", "0012")  # safe to run twice
    with database.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("risk_lists")}
        row = conn.execute(text("SELECT source, rule, sources FROM risk_lists")).one()
    database.close()
    assert {"rule", "sources"} <= columns
    assert tuple(row) == ("old.txt", None, None)
