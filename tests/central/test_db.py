"""The central database: schema and migrations, enrolment, idempotent ingest, the roster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from central.db import (
    LATEST_VERSION,
    AlreadyExists,
    CentralDB,
    CentralError,
    Device,
    NotFound,
    SchemaTooNew,
    attendance_children,
    attendances,
    cards,
    children,
    devices,
    events,
    families,
    rejections,
    schema_version,
    token_hash,
    users,
    verify_password,
)
from kiosk.domain.events import DeviceIdentity, Event
from tests.helpers import statements_run
from tests.schema_history import rewind
from tests.sync.fakes import T0, amendment, attendance, registration, taps

KIOSK = DeviceIdentity("kiosk-1", "library")


@pytest.fixture
def device(db: CentralDB) -> Device:
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    token = db.add_device("lichfield", "library", "kiosk-1")
    found = db.device_for_token(token)
    assert found is not None
    return found


def wire(events_: list[Event], first_seq: int = 1) -> list[dict]:
    return [e.with_seq(first_seq + i).to_dict() for i, e in enumerate(events_)]


def statuses(result) -> list[str]:
    return [r.status for r in result.results]


# -- schema --------------------------------------------------------------------------------------
def test_a_new_database_is_created_at_the_latest_schema_version(db):
    assert db.schema_version() == LATEST_VERSION
    assert db.schema_state().current == db.schema_state().head
    with db.engine.connect() as conn:  # what a server from before Alembic reads (issue 19)
        versions = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version))
        assert versions.scalars().all() == list(range(1, LATEST_VERSION + 1))


def test_opening_again_migrates_nothing_and_keeps_the_data(db_url, db):
    db.add_org("lichfield")
    again = CentralDB.open(db_url)
    assert again.schema_version() == LATEST_VERSION
    assert again.count(schema_version) == LATEST_VERSION
    again.add_site("lichfield", "library")  # the org is still there
    again.close()


def test_a_database_from_a_newer_server_is_refused(db_url, db):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNew, match="upgrade doorstep-kiosk"):
        CentralDB.open(db_url)
    with pytest.raises(SchemaTooNew, match="revision 9999"):
        CentralDB.open(db_url, upgrade=False)


def test_a_newer_home_made_version_is_refused_too(db_url, db):
    """A database whose schema_version is ahead and that never saw Alembic."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            insert(schema_version).values(
                version=LATEST_VERSION + 1, description="future", applied_at=T0
            )
        )
    with pytest.raises(SchemaTooNew, match="upgrade doorstep-kiosk"):
        CentralDB.open(db_url)


# -- enrolment -----------------------------------------------------------------------------------
def test_enrolment_refuses_duplicates_and_unknown_parents_with_clear_messages(db):
    db.add_org("lichfield")
    with pytest.raises(AlreadyExists, match="organisation 'lichfield' already exists"):
        db.add_org("lichfield")
    with pytest.raises(NotFound, match="no organisation 'tamworth'.*org add tamworth"):
        db.add_site("tamworth", "library")
    db.add_site("lichfield", "library")
    with pytest.raises(AlreadyExists, match="site 'library' already exists"):
        db.add_site("lichfield", "library")
    with pytest.raises(NotFound, match="has no site 'pool'.*site add lichfield pool"):
        db.add_device("lichfield", "pool", "kiosk-1")
    db.add_device("lichfield", "library", "kiosk-1")
    with pytest.raises(AlreadyExists, match="device 'kiosk-1' is already enrolled"):
        db.add_device("lichfield", "library", "kiosk-1")
    with pytest.raises(NotFound, match="no device 'kiosk-9'"):
        db.revoke_device("kiosk-9")
    with pytest.raises(CentralError, match="may not contain spaces"):
        db.add_org("two words")


def test_only_a_hash_of_the_device_token_is_stored(db, device):
    token = db.add_device("lichfield", "library", "kiosk-2")
    assert len(token) > 40
    with db.engine.connect() as conn:
        stored = conn.execute(
            select(devices.c.token_hash).where(devices.c.device_id == "kiosk-2")
        ).scalar_one()
    assert stored == token_hash(token) and token not in stored
    assert db.device_for_token(token).device_id == "kiosk-2"
    assert db.device_for_token(token + "x") is None


def test_a_revoked_device_is_known_but_marked_revoked(db, device):
    token = db.add_device("lichfield", "library", "kiosk-2")
    db.revoke_device("kiosk-2")
    db.revoke_device("kiosk-2")  # twice is fine
    assert db.device_for_token(token).revoked


def test_users_get_a_generated_password_stored_as_a_salted_hash(db):
    db.add_org("lichfield")
    password = db.add_user("alice", "staff", "lichfield")
    with db.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and password not in stored
    assert verify_password(password, stored)
    assert db.check_user("alice", password) == {
        "name": "alice",
        "role": "staff",
        "org_id": "lichfield",
    }
    assert db.check_user("alice", password + "!") is None
    assert db.add_user("bob", "commissioner") != db.add_user("carol", "commissioner")
    with pytest.raises(CentralError, match="staff user belongs to an organisation"):
        db.add_user("dave", "staff")
    with pytest.raises(AlreadyExists):
        db.add_user("alice", "commissioner")
    with pytest.raises(CentralError, match="role 'admin'"):
        db.add_user("erin", "admin")


# -- ingest --------------------------------------------------------------------------------------
def test_a_batch_is_answered_event_by_event_in_order(db, device):
    family, reg = registration(KIOSK, uid="04A23B1C")
    batch = wire([*reg, attendance(KIOSK, family)])
    batch.insert(1, {"event_id": "broken"})
    result = db.ingest(device, batch)
    assert statuses(result) == ["accepted", "rejected", "accepted", "accepted"]
    assert result.results[1].event_id == "broken"
    assert result.results[1].reason == "type: Field required"


def test_the_same_events_twice_are_applied_once(db, device):
    batch = wire(taps(KIOSK, 20))
    first = db.ingest(device, batch)
    second = db.ingest(device, batch)
    assert set(statuses(first)) == {"accepted"}
    assert set(statuses(second)) == {"duplicate"}
    assert db.count(events) == 20
    assert db.count(attendances) == sum(1 for e in batch if e["type"] == "attendance.recorded")


def test_an_event_sent_twice_in_one_batch_counts_once(db, device):
    [one] = wire(taps(KIOSK, 1))
    assert statuses(db.ingest(device, [one, one])) == ["accepted", "duplicate"]


def test_a_seq_reused_by_a_different_event_is_set_aside(db, device):
    first = wire(taps(KIOSK, 1))
    reused = wire(taps(KIOSK, 1, start=T0 + timedelta(days=1)))  # also seq 1
    db.ingest(device, first)
    result = db.ingest(device, reused)
    assert statuses(result) == ["rejected"]
    assert result.results[0].reason.startswith("seq: 1 is already used by event")


def test_holds_up_to_is_the_highest_contiguous_seq_held(db, device):
    batch = wire(taps(KIOSK, 10))
    assert db.ingest(device, batch[:3]).holds_up_to == 3
    assert db.ingest(device, batch[5:8]).holds_up_to == 3  # 4 and 5 missing
    broken = {**batch[3], "data": {"nonsense": True}}
    assert db.ingest(device, [broken]).holds_up_to == 4  # a rejected event is held too
    assert db.ingest(device, [batch[4]]).holds_up_to == 8
    assert db.holds_up_to("kiosk-1") == 8


def test_holds_up_to_walks_across_many_pages(db, device, monkeypatch):
    monkeypatch.setattr("central.db.batch_rows.HOLDS_PAGE", 7)
    batch = wire(taps(KIOSK, 60))
    db.ingest(device, batch[1:])
    assert db.holds_up_to("kiosk-1") == 0
    assert db.ingest(device, batch[:1]).holds_up_to == 60


def test_a_batch_takes_eight_statements_on_postgresql(db, device):
    """What one batch of registrations, cards and attendances costs the database: each
    statement is a round trip under the organisation's lock, so the budget is kept here.
    Families are read with their children, and held events by id and by seq, in one
    statement each; the new rows of six tables are written in one statement (SQLite, in
    the server's own process, takes one each); holds_up_to is read with the seqs after it
    (central.db.holds). There were 18."""
    tapped = wire(taps(KIOSK, 100))
    db.ingest(device, tapped[:50])
    with statements_run(db.engine) as sent:
        assert set(statuses(db.ingest(device, tapped[50:]))) == {"accepted"}
    statements: list[str] = []
    for statement in sent:
        words = statement.replace("(", " ( ").split()
        if words[0] == "SELECT" and "FROM" not in words:
            continue  # the pool's ping, the organisation's lock
        if words[0] == "SELECT":  # the first table read (not PostgreSQL's unnest(values))
            after = [b for a, b in zip(words, words[1:], strict=False) if a == "FROM"]
            statements.append("SELECT " + next(t for t in after if t != "unnest"))
        elif words[0] == "UPDATE":
            statements.append(f"UPDATE {words[1]}")
        elif words[0] in ("INSERT", "WITH"):  # INSERT INTO t, or several in one (WITH)
            into = [b for a, b in zip(words, words[1:], strict=False) if a == "INTO"]
            statements.append("INSERT " + " ".join(into))
    reads = [
        "SELECT events",  # held by id, or this device's seq already used
        "SELECT families",  # with their children
        "SELECT privacy_salts",  # erased families
        "SELECT cards",
        "SELECT events",  # amendments held for these attendances
    ]
    tables = ["events", "families", "children", "cards", "attendances", "attendance_children"]
    holds = [
        "SELECT devices",  # holds_up_to, the seqs after it, and the write-offs past it
        "UPDATE devices",
    ]
    if db.engine.dialect.name == "postgresql":
        assert statements == [*reads, "INSERT " + " ".join(tables), *holds]
    else:
        assert statements == [*reads, *(f"INSERT {t}" for t in tables), *holds]


def test_the_latest_amendment_wins_in_whatever_order_they_arrive(db, device):
    family, reg = registration(KIOSK)
    recorded = attendance(KIOSK, family)
    ben, cara = (c.child_id for c in family.children)
    early = amendment(KIOSK, recorded, [ben], T0 + timedelta(minutes=5))
    late = amendment(KIOSK, recorded, [cara], T0 + timedelta(minutes=9))
    batch = wire([*reg, recorded, early, late])
    # The late amendment and the early one arrive before the attendance itself (after the
    # family's registration: an attendance of a family the server does not hold is refused).
    db.ingest(device, batch[:1])
    db.ingest(device, [batch[3]])
    db.ingest(device, [batch[2]])
    db.ingest(device, batch[1:2])
    with db.engine.connect() as conn:
        kids = conn.execute(select(attendance_children.c.child_id)).scalars().all()
    assert kids == [cara]


def test_an_older_family_update_does_not_overwrite_a_newer_one(db, device):
    family, reg = registration(KIOSK)
    newer = Event(
        type="member.updated",
        at=T0 + timedelta(hours=2),
        data={"family": {**family.to_dict(), "greeting_name": "Amy B"}},
        device_id=KIOSK.device_id,
        site_id=KIOSK.site_id,
    )
    older = Event(
        type="member.updated",
        at=T0 + timedelta(hours=1),
        data={"family": {**family.to_dict(), "greeting_name": "Amy A", "children": []}},
        device_id=KIOSK.device_id,
        site_id=KIOSK.site_id,
    )
    db.ingest(device, wire([reg[0], newer, older]))
    with db.engine.connect() as conn:
        row = conn.execute(select(families)).one()
    assert row.greeting_name == "Amy B"
    assert row.registered_device_id == "kiosk-1"
    assert db.count(children) == 2


def test_a_revoked_card_stays_revoked_until_assigned_again(db, device):
    family, reg = registration(KIOSK, uid="04A23B1C")
    revoke = Event(
        type="card.revoked",
        at=T0 + timedelta(days=1),
        data={"uid": "04A23B1C", "family_id": family.family_id, "volunteer": "Val"},
        device_id=KIOSK.device_id,
        site_id=KIOSK.site_id,
    )
    db.ingest(device, wire([*reg, revoke]))
    with db.engine.connect() as conn:
        assert conn.execute(select(cards.c.active)).scalar_one() is False


def test_a_device_cannot_touch_another_organisations_families(db, device):
    db.add_org("tamworth")
    db.add_site("tamworth", "hall")
    intruder = db.device_for_token(db.add_device("tamworth", "hall", "kiosk-x"))
    family, reg = registration(KIOSK)
    db.ingest(device, wire(reg))
    x = DeviceIdentity("kiosk-x", "hall")
    result = db.ingest(intruder, wire([attendance(x, family)]))
    assert statuses(result) == ["rejected"]
    assert "belongs to another organisation" in result.results[0].reason


def test_events_for_another_device_are_rejected(db, device):
    other = DeviceIdentity("kiosk-2", "library")
    result = db.ingest(device, wire(taps(other, 2)))
    assert statuses(result) == ["rejected", "rejected"]
    assert result.results[0].reason.startswith("device_id:")


# -- the roster ----------------------------------------------------------------------------------
def test_the_roster_serves_member_and_card_events_from_the_other_kiosks_page_by_page(db, device):
    db.add_site("lichfield", "pool")
    other = db.device_for_token(db.add_device("lichfield", "pool", "kiosk-2"))
    k2 = DeviceIdentity("kiosk-2", "pool")
    mine = taps(KIOSK, 8)
    theirs = taps(k2, 8)
    db.ingest(device, wire(mine))
    db.ingest(other, wire(theirs))

    expected = [e.event_id for e in theirs if not e.type.startswith("attendance")]
    seen, cursor = [], 0
    while True:
        page = db.roster(device, cursor, limit=2)
        seen += [e["event_id"] for e in page.events]
        cursor = page.cursor
        if not page.more:
            break
    assert seen == expected
    assert db.roster(device, cursor).events == []
    assert all(e["device_id"] == "kiosk-2" for e in db.roster(device, 0).events)


def test_migration_9_gives_an_older_database_refusal_digests_and_conflicts(db_url, db):
    """A version 8 database (before issue 16) gains the digest, the quota count and the
    conflicts table, keeping its refusals; running the step again is safe."""
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    db.add_device("lichfield", "library", "kiosk-1")
    db.ingest(db.devices()[0], [{"junk": True}])
    rewind(db, 8)  # back to what a version 8 server made
    again = CentralDB.open(db_url)
    try:
        assert again.schema_version() == LATEST_VERSION
        assert again.count(rejections) == 1
        answer = again.ingest(again.devices()[0], [{"junk": True}, {"other junk": 1}])
        assert [r.status for r in answer.results] == ["rejected", "rejected"]
        assert again.count(rejections) == 3  # the old row has no digest: kept; the new once
        assert again.migrate() == ("0012", "0012")  # nothing left to do
    finally:
        again.close()
