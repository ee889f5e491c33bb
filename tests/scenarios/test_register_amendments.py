"""The register put right at the door reaches the invoice, end to end.

A volunteer undoes a sign-in made by mistake (``attendance.amended`` with no children and
``undone``) and signs a family out (``signed_out_at`` on an amendment); ``kiosk-sync`` sends
them to a real ``kiosk-central serve`` and the invoice, made by ``kiosk-central report
invoice``, counts nothing for the undone attendance and everything for the one signed out,
whether the undo travels with the sign-in or in a later sync.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.scenarios.test_seams import Server, counted, demo_kiosk, families, organisation
from tests.sync.servers import MONDAY, CentralServer

pytestmark = pytest.mark.slow

SESSION = "2026-11-23/play-mon"


@pytest.fixture
def server(tmp_path):
    """``kiosk-central serve`` on a SQLite file, as in tests/scenarios/test_seams.py."""
    db_url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    process = CentralServer(db_url, tmp_path / "server.log").start()
    try:
        yield Server(process.url, db_url, tmp_path)
    finally:
        process.stop()


def invoiced_families(server, org: str) -> list[str]:
    rows = server.invoice(org, "2026-11")
    header = rows[0]
    return sorted({r[header.index("family_ref")] for r in counted(rows)})


def total(server, org: str) -> str:
    return next(r for r in server.invoice(org, "2026-11") if r and r[0] == "TOTAL")[-2]


def test_an_undone_sign_in_counts_nothing_and_a_sign_out_changes_nothing(server, tmp_path):
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    kiosk = demo_kiosk(tmp_path / "kiosk")
    kiosk.admin("enrol", "--device", "kiosk-1", "--site", "library")
    uids = families(kiosk, 3, "B")  # each with two children, in a risk postcode
    taps = [kiosk.desk.tap(uid, MONDAY + timedelta(minutes=5 + n)) for n, uid in enumerate(uids)]
    assert [t.kind for t in taps] == ["welcome"] * 3
    mistaken, leaving, staying = taps

    # Sent with the sign-in itself: both in the same sync.
    kiosk.desk.undo_sign_in(SESSION, mistaken.attendance_id, MONDAY + timedelta(minutes=20), "Jo")
    kiosk.desk.sign_out(SESSION, leaving.attendance_id, MONDAY + timedelta(hours=1), "Jo")
    kiosk.sync(server, token)
    assert kiosk.status()["rejected"] == "0"

    assert invoiced_families(server, "lichfield") == sorted([leaving.family_id, staying.family_id])
    assert len(counted(server.invoice("lichfield", "2026-11"))) == 4
    assert total(server, "lichfield") == "12.00"

    # An undo sent in a later sync than the sign-in it undoes.
    kiosk.desk.undo_sign_in(SESSION, staying.attendance_id, MONDAY + timedelta(hours=2), "Jo")
    kiosk.sync(server, token)
    assert invoiced_families(server, "lichfield") == [leaving.family_id]
    assert total(server, "lichfield") == "6.00"

    # The mistaken family turns up after all and taps: the same attendance counts again.
    back = kiosk.desk.tap(uids[0], MONDAY + timedelta(hours=2, minutes=30))
    assert (back.kind, back.attendance_id) == ("welcome", mistaken.attendance_id)
    kiosk.sync(server, token)
    assert invoiced_families(server, "lichfield") == sorted([mistaken.family_id, leaving.family_id])
    assert total(server, "lichfield") == "12.00"
    assert kiosk.status()["rejected"] == "0"
