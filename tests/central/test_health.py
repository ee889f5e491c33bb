"""central.health: one pure function says whether a kiosk is OK, and never OK while anything
is refused, in conflict, stuck, out of contact or on an unsynchronised clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from central.health import (
    LABELS,
    RETRY_TODO,
    STUCK_AFTER,
    DeviceFacts,
    ReportedStatus,
    WriteOff,
    ago,
    device_health,
    explain_reason,
    summary,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WELL = ReportedStatus(
    received_at=NOW - timedelta(seconds=20),
    sent_at=NOW - timedelta(seconds=21),
    waiting=0,
    oldest_waiting_at=None,
    rejected=0,
    reasons=(),
    clock_synced=True,
    software_version="0.1.0",
)
REFUSED = "data.family_id: family F-1 belongs to another organisation"


def facts(report: ReportedStatus | None = WELL, **kw) -> DeviceFacts:
    contact = kw.pop("last_contact", report.received_at if report else None)
    return DeviceFacts("kiosk-1", "lichfield", "library", contact, report, **kw)


def test_a_kiosk_in_contact_with_nothing_wrong_is_ok():
    health = device_health(facts(), NOW)
    assert (health.level, health.label) == ("ok", "OK")
    assert health.sentence == "Working: in contact just now, nothing waiting."
    assert health.problems == () and health.clock_synced is True
    assert health.lines() == [
        "ok: kiosk-1 at lichfield/library: Working: in contact just now, nothing waiting."
    ]


def test_a_few_events_waiting_a_moment_are_fine():
    young = replace(WELL, waiting=3, oldest_waiting_at=WELL.sent_at - timedelta(minutes=2))
    health = device_health(facts(young), NOW)
    assert health.level == "ok" and "3 events waiting to be sent" in health.sentence


def test_a_refused_event_is_not_working_with_the_reason_in_plain_words():
    report = replace(WELL, rejected=1, reasons=((REFUSED, 1),))
    health = device_health(facts(report), NOW)
    assert (health.level, health.label) == ("fail", "Not working")  # as kiosk.health says
    assert "1 event refused by the server" in health.sentence
    assert RETRY_TODO in health.sentence
    [reason] = health.reasons
    assert (reason.reason, reason.count) == (REFUSED, 1)
    assert "another organisation" in reason.meaning and "F-1" not in reason.meaning


def test_refusals_the_server_stored_after_the_report_count_too():
    health = device_health(facts(server_rejected=((REFUSED, 2),)), NOW)
    assert health.level == "fail" and health.rejected == 2
    report = replace(WELL, rejected=1, reasons=((REFUSED, 1),))
    both = device_health(facts(report, server_rejected=((REFUSED, 2),)), NOW)
    assert both.rejected == 3 and [(r.reason, r.count) for r in both.reasons] == [(REFUSED, 3)]


def test_events_in_conflict_are_never_ok():
    health = device_health(facts(replace(WELL, conflicts=2)), NOW)
    assert health.level == "fail" and "2 events differ" in health.sentence


def test_a_backlog_older_than_an_hour_while_in_contact_is_not_working():
    stuck = replace(WELL, waiting=40, oldest_waiting_at=WELL.sent_at - timedelta(hours=3))
    health = device_health(facts(stuck), NOW)
    assert (health.level, health.label) == ("fail", "Not working")
    assert health.sentence.startswith("40 events waiting to be sent, the oldest for 3 hours")
    edge = replace(stuck, oldest_waiting_at=WELL.sent_at - STUCK_AFTER + timedelta(seconds=1))
    assert device_health(facts(edge), NOW).level == "ok"


def test_the_backlog_is_judged_by_the_kiosks_own_clock():
    # The kiosk's clock is two hours fast: its events are minutes old by that same clock.
    fast = replace(
        WELL,
        sent_at=NOW + timedelta(hours=2),
        waiting=2,
        oldest_waiting_at=NOW + timedelta(hours=2) - timedelta(minutes=5),
    )
    health = device_health(facts(fast), NOW)
    assert [p.what for p in health.problems] == [
        "its clock is 2 hours off the server's although it says it is synchronised"
    ]


def test_out_of_contact_for_a_day_needs_attention_and_for_a_week_is_not_working():
    old = replace(WELL, received_at=NOW - timedelta(days=3), sent_at=NOW - timedelta(days=3))
    health = device_health(facts(old), NOW)
    assert health.level == "warn" and "not been in contact for 3 days" in health.sentence
    assert health.last_contact_ago == "3 days ago"
    older = replace(old, received_at=NOW - timedelta(days=9), sent_at=NOW - timedelta(days=9))
    assert device_health(facts(older), NOW).level == "fail"


def test_a_kiosk_never_in_contact_or_that_never_reported_is_not_ok():
    never = device_health(facts(None), NOW)
    assert never.level == "warn" and "never been in contact" in never.sentence
    assert never.waiting is None and never.clock_synced is None
    silent = device_health(facts(None, last_contact=NOW - timedelta(minutes=1)), NOW)
    assert silent.level == "warn" and "never said how it is" in silent.sentence


def test_an_unsynchronised_clock_needs_attention():
    health = device_health(facts(replace(WELL, clock_synced=False)), NOW)
    assert health.level == "warn" and "clock is not synchronised" in health.sentence
    assert "`timedatectl`" in health.sentence


def test_recent_write_offs_need_attention_old_ones_are_only_counted():
    recent = WriteOff("lost", 3, NOW - timedelta(days=1))
    old = WriteOff("lost", 5, NOW - timedelta(days=30))
    health = device_health(facts(write_offs=(recent, old)), NOW)
    assert health.level == "warn" and "3 events it could no longer send" in health.sentence
    assert health.written_off == 8
    assert device_health(facts(write_offs=(old,)), NOW).level == "ok"


def test_the_worst_problem_leads_and_the_others_follow():
    bad = replace(
        WELL,
        waiting=5,
        oldest_waiting_at=WELL.sent_at - timedelta(hours=2),
        clock_synced=False,
        rejected=1,
        reasons=((REFUSED, 1),),
    )
    health = device_health(facts(bad), NOW)
    assert [p.level for p in health.problems] == ["fail", "fail", "warn"]
    assert health.sentence.endswith("(2 more problems below.)")
    lines = health.lines()
    assert lines[0].startswith("fail: kiosk-1 at lichfield/library: 5 events waiting")
    assert lines[1].startswith("  fail: 1 event refused by the server")
    assert lines[2].startswith("  warn: its clock is not synchronised")
    assert lines[-1] == f"  refused 1: {explain_reason(REFUSED)} (server said: {REFUSED})"


def test_reasons_in_plain_words():
    assert "enrol the kiosk again" in explain_reason(
        "site_id: 'hall' is not the site device 'kiosk-1' is enrolled at ('library')"
    )
    assert "already used" in explain_reason("seq: 4 is already used by event e from this device")
    assert "(data.session) is missing" in explain_reason("data.session: Field required")
    odd = explain_reason("data.greeting_name: String should have at most 200 characters (got 'Z')")
    assert "data.greeting_name" in odd and "'Z'" not in odd
    assert explain_reason("something else") == (
        "The server refused it: ask whoever looks after the kiosks."
    )


def test_times_and_summaries_read_as_people_say_them():
    assert ago(None, NOW) == "never"
    assert ago(NOW - timedelta(seconds=30), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=5), NOW) == "5 minutes ago"
    assert ago(NOW - timedelta(hours=5), NOW) == "5 hours ago"
    healths = [
        device_health(facts(), NOW),
        device_health(facts(None), NOW),
        device_health(facts(None), NOW),
    ]
    assert summary(healths) == "3 kiosks: 1 OK, 2 need attention"
    assert summary([]) == "No kiosks enrolled"
    assert set(LABELS.values()) == {"OK", "Needs attention", "Not working"}


_times = st.one_of(
    st.none(),
    st.integers(min_value=-3000, max_value=20 * 86400).map(lambda s: NOW - timedelta(seconds=s)),
)


@st.composite
def any_facts(draw) -> DeviceFacts:
    report = None
    if draw(st.booleans()):
        received = NOW - timedelta(seconds=draw(st.integers(0, 20 * 86400)))
        sent = received + timedelta(seconds=draw(st.integers(-7200, 7200)))
        waiting = draw(st.integers(0, 50))
        oldest = sent - timedelta(seconds=draw(st.integers(0, 5 * 3600))) if waiting else None
        rejected = draw(st.integers(0, 3))
        report = ReportedStatus(
            received_at=received,
            sent_at=sent,
            waiting=waiting,
            oldest_waiting_at=oldest,
            rejected=rejected,
            reasons=((REFUSED, rejected),) if rejected else (),
            clock_synced=draw(st.booleans()),
            software_version="0.1.0",
            conflicts=draw(st.integers(0, 2)),
        )
    server = draw(st.integers(0, 2))
    return DeviceFacts(
        "k",
        "o",
        "s",
        last_contact=draw(_times),
        report=report,
        server_rejected=((REFUSED, server),) if server else (),
    )


@settings(max_examples=300, deadline=None)
@given(any_facts())
def test_ok_is_never_said_while_anything_is_wrong(f: DeviceFacts):
    health = device_health(f, NOW)
    if health.level != "ok":
        assert health.problems and health.label != "OK"
        return
    report = f.report
    assert report is not None  # no report: nothing to vouch for
    assert report.rejected == 0 and not f.server_rejected and report.conflicts == 0
    assert report.clock_synced
    assert health.last_contact is not None and NOW - health.last_contact <= timedelta(days=1)
    if report.waiting:
        assert report.sent_at - report.oldest_waiting_at <= STUCK_AFTER
