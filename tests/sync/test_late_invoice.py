"""An issued month stays as issued when a kiosk offline for weeks syncs its attendances late:
real parts end to end.

A real kiosk store with a door desk, ``kiosk-sync`` run as a subprocess against a
``kiosk-central serve`` process, and the ``kiosk-central`` commands an admin runs: April 2016
is issued from what the server holds; the kiosk, offline since 11 April, then sends 18 and 25
April. April keeps its fingerprint, and May's invoice carries the late lines with their dates.
"""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from central.cli import main
from central.db import attendance_children
from kiosk.domain.desk import KIOSK_TZ
from kiosk.domain.postcodes import parse_risk_area
from sync import daemon
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    REPO,
    command,
    door,
    enrol,
    subprocess_env,
)

APRIL_MONDAYS = ("2016-04-04", "2016-04-11", "2016-04-18", "2016-04-25")


def kiosk_sync(data: Path, endpoint: str, token_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *command("kiosk-sync", "sync.daemon"),
            *KEEP_DATED_EVENTS,
            "--data",
            str(data),
            "--endpoint",
            endpoint,
            "--token-file",
            str(token_file),
            "--once",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(),
        cwd=REPO,
    )


def central_cli(capsys, db_url: str, *args: str) -> tuple[str, str]:
    code = main(["--db", db_url, "--as", "fran", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def monday(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=KIOSK_TZ)


@pytest.fixture
def spark(central, tmp_path):
    """Spark CIC's kiosk at Chase Terrace, in use at the door since January 2016."""
    central.db.add_org("spark", "Spark CIC")
    kiosk = enrol(
        central.db,
        "spark",
        "chase-terrace",
        "kiosk-1",
        in_use_since=datetime(2016, 1, 1, tzinfo=UTC),
    )
    token = tmp_path / "token"
    token.write_text(kiosk.token + "\n")
    token.chmod(0o600)
    desk = door(tmp_path / "kiosk-data", kiosk.device, kiosk.site)
    desk.store.save_risk_list(
        frozenset({parse_risk_area("WS7 1AA")}), "council", datetime(2016, 1, 1, tzinfo=UTC)
    )
    yield desk, token
    desk.store.close()


def test_a_late_sync_leaves_the_issued_month_alone_and_lands_on_the_next(
    capsys, central, spark, tmp_path
):
    desk, token = spark
    data = tmp_path / "kiosk-data"
    uids = [f"04C0000{n}" for n in range(1, 4)]
    for n, uid in enumerate(uids):  # two children each, in a risk-area postcode
        desk.register_family(
            f"Parent {n}",
            "WS7 1AA",
            [("Ben", "2015-03"), ("Cara", None)],
            at=monday("2016-03-28"),
            card_uid=uid,
        )
    for day in APRIL_MONDAYS[:2]:
        for uid in uids:
            assert desk.tap(uid, monday(day)).kind == "welcome"
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    central_cli(capsys, central.db_url, "org", "rate", "spark", "3.00", "--from", "2016-04-01")

    # Offline from here: two more Mondays are recorded at the door and wait in the outbox.
    for day in APRIL_MONDAYS[2:]:
        for uid in uids[:2]:
            assert desk.tap(uid, monday(day)).kind == "welcome"
    assert desk.store.waiting_count() > 0

    number, err = central_cli(
        capsys, central.db_url, "invoice", "issue", "--org", "spark", "--month", "2016-04"
    )
    number = number.strip()
    assert number == "spark-2016-04-1"
    assert "12 qualifying child-attendances, total £36.00" in err  # 3 families x 2 x 2 Mondays
    april_csv, _ = central_cli(
        capsys, central.db_url, "report", "invoice", "--org", "spark", "--month", "2016-04"
    )
    [(_o, _m, state, listed_number, _n, _t, fingerprint)] = [
        line.split("\t")
        for line in central_cli(capsys, central.db_url, "invoice", "list", "--org", "spark")[
            0
        ].splitlines()
    ]
    assert (state, listed_number) == ("issued", number)

    # Back online weeks later: the kiosk sends 18 and 25 April.
    result = kiosk_sync(data, central.url, token)
    assert result.returncode == daemon.EXIT_OK, result.stderr
    assert desk.store.waiting_count() == 0

    april_after, _ = central_cli(
        capsys, central.db_url, "report", "invoice", "--org", "spark", "--month", "2016-04"
    )
    assert april_after == april_csv  # byte for byte: the same fingerprint
    listing = central_cli(capsys, central.db_url, "invoice", "list", "--org", "spark")[0]
    rows = [line.split("\t") for line in listing.splitlines()]
    assert rows[0] == ["spark", "2016-04", "issued", number, "12", "36.00", fingerprint]
    assert rows[1] == ["spark", "2016-05", "draft", "-", "8", "24.00", "-"]

    may_csv, err = central_cli(
        capsys, central.db_url, "report", "invoice", "--org", "spark", "--month", "2016-05"
    )
    may = list(csv.DictReader(io.StringIO(may_csv)))
    late = [r for r in may if r["date"] != "TOTAL"]
    assert sorted({r["date"] for r in late}) == ["2016-04-18", "2016-04-25"]
    assert all(r["status"].startswith("late: counted") and number in r["status"] for r in late)
    assert {r["amount"] for r in late} == {"3.00"} and len(late) == 8  # 2 families x 2 x 2
    assert may[-1]["amount"] == "24.00"
    assert "8 qualifying child-attendances, total £24.00" in err

    # May issued holds them; June carries nothing again; April is still as issued.
    _, err = central_cli(
        capsys, central.db_url, "invoice", "issue", "--org", "spark", "--month", "2016-05"
    )
    assert "(8 late line(s)), total £24.00" in err
    june, _ = central_cli(
        capsys, central.db_url, "report", "invoice", "--org", "spark", "--month", "2016-06"
    )
    assert june.splitlines()[1:] == ["TOTAL,0 qualifying child-attendances,,,,,,,,,,0.00,"]
    again, _ = central_cli(
        capsys, central.db_url, "report", "invoice", "--org", "spark", "--month", "2016-04"
    )
    assert again == april_csv
    # Every child-attendance the server holds is billed exactly once, on April's or May's.
    assert central.db.count(attendance_children, org_id="spark") == 12 + 8
