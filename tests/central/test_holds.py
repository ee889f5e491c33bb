"""``central.db.holds``: ``holds_up_to`` worked out from one read, as the paged walk did."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import insert, select

from central.db import CentralDB, Device, devices, rejections
from central.db.holds import advance, walk
from central.db.records import device_from_row
from central.db.schema import seq_gaps, utcnow
from kiosk.domain.events import DeviceIdentity
from tests.helpers import statements_run
from tests.sync.fakes import taps

KIOSK = DeviceIdentity("kiosk-1", "library")


# -- the walk itself -----------------------------------------------------------------------------
def test_it_steps_over_each_next_seq_and_stops_at_the_first_missing():
    assert walk(0, [1, 2, 3, 5], None, []) == (3, False)
    assert walk(3, [1, 2, 3, 5], None, []) == (3, False)
    assert walk(0, [2, 3], None, []) == (0, False)


def test_a_written_off_range_is_jumped_when_it_reaches_the_next_seq():
    # 4..6 written off: from 3 it jumps to 6, then steps over 7 and 8.
    assert walk(0, [1, 2, 3, 7, 8], None, [(4, 6)]) == (8, False)
    # A range starting before the next seq and reaching past it counts too.
    assert walk(0, [1, 2, 3, 9], None, [(2, 8)]) == (9, False)
    # One starting beyond the next seq does not.
    assert walk(0, [1, 2, 3], None, [(5, 8)]) == (3, False)
    # Ranges chain, and the furthest wins.
    assert walk(0, [], None, [(1, 4), (3, 6), (5, 10), (12, 20)]) == (10, False)


def test_it_stops_at_the_end_of_what_was_read_and_says_so():
    # Seqs were read a page at a time and the page ended at 3: 4 may be held, unread.
    assert walk(0, [1, 2, 3], 3, []) == (3, True)
    # Reaching the end of the page comes first: what was unread may go further than a jump.
    assert walk(0, [1, 2], 2, [(3, 9)]) == (2, True)
    # A jump past the end of the page stops after it, and says so too.
    assert walk(0, [1], 2, [(2, 9)]) == (9, True)
    assert walk(0, [1, 3], 3, []) == (1, False)


# -- against a real database: every shape of held seqs, paged or not ---------------------------
@pytest.fixture
def device_id(db: CentralDB) -> str:
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    db.add_device("lichfield", "library", "kiosk-1")
    return "kiosk-1"


def _device(db: CentralDB) -> Device:
    with db.engine.connect() as conn:
        row = conn.execute(select(devices).where(devices.c.device_id == "kiosk-1")).one()
    return device_from_row(row)


def _hold(db: CentralDB, device_id: str, events_: set[int], refused: set[int], gaps) -> None:
    """Events held as accepted, refusals set aside, and write-offs, written directly."""
    if events_:
        device = _device(db)
        tapped = [e.with_seq(i + 1).to_dict() for i, e in enumerate(taps(KIOSK, max(events_)))]
        db.ingest(device, [tapped[s - 1] for s in sorted(events_)])
    now = utcnow()
    with db.engine.begin() as conn:
        for seq in sorted(refused):
            conn.execute(
                insert(rejections).values(
                    device_id=device_id, seq=seq, reason="r", raw="{}", received_at=now
                )
            )
        for start, end in gaps:
            conn.execute(
                insert(seq_gaps).values(
                    device_id=device_id,
                    from_seq=start,
                    to_seq=end,
                    kind="lost",
                    detail="",
                    sessions=[],
                    reported_at=now,
                )
            )
        conn.execute(devices.update().values(holds_up_to=0))


def _expected(events_: set[int], refused: set[int], gaps) -> int:
    held = set(events_) | set(refused)
    for start, end in gaps:
        held.update(range(start, end + 1))
    current = 0
    while current + 1 in held:
        current += 1
    return current


@pytest.mark.parametrize("page", [3, 2000])
@pytest.mark.parametrize("seed", range(6))
def test_it_agrees_with_counting_one_by_one(db, device_id, monkeypatch, page, seed):
    monkeypatch.setattr("central.db.batch_rows.HOLDS_PAGE", page)
    rng = random.Random(seed)
    seqs = list(range(1, 41))
    events_ = {s for s in seqs if rng.random() < 0.6}
    refused = {s for s in seqs if s not in events_ and rng.random() < 0.4}
    gaps = []
    for _ in range(rng.randrange(4)):
        start = rng.randrange(1, 45)
        gaps.append((start, start + rng.randrange(6)))
    _hold(db, device_id, events_, refused, gaps)
    with db.engine.begin() as conn:
        got = advance(conn, device_id, utcnow())
        stored = conn.execute(
            select(devices.c.holds_up_to).where(devices.c.device_id == device_id)
        ).scalar_one()
    assert got == stored == _expected(events_, refused, gaps)


def test_a_batch_within_a_page_moves_holds_in_two_statements(db, device_id):
    _hold(db, device_id, set(range(1, 51)), {51}, [(52, 60)])
    with db.engine.begin() as conn, statements_run(db.engine) as statements:
        assert advance(conn, device_id, utcnow()) == 60
    # One read (holds, the seqs after it, the write-offs) and the update: the four reads of
    # the paged walk (holds, events, refusals, write-offs) were four round trips a batch.
    assert len(statements) == 2
    assert statements[1].lstrip().upper().startswith("UPDATE")


def test_an_unknown_device_is_an_error_not_a_zero(db):
    with db.engine.begin() as conn, pytest.raises(LookupError, match="no device 'ghost'"):
        advance(conn, "ghost", utcnow())
