"""Whatever the sequence of calls, the outbox's counters agree with what it lists."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.store import LocalStore
from tests.store.helpers import MONDAY, at, attended, family, registered

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("tap"), st.integers(-200, 3)),
        st.tuples(st.just("register"), st.integers(-200, 3)),
        st.tuples(st.just("batch"), st.integers(-200, 3)),
        st.tuples(st.just("send"), st.integers(1, 6)),
        st.tuples(st.just("send_some"), st.integers(0, 10)),
        st.tuples(st.just("reject"), st.integers(0, 10)),
        st.tuples(st.just("prune"), st.integers(0, 0)),
        st.tuples(st.just("requeue"), st.integers(1, 30)),
        st.tuples(st.just("reopen"), st.integers(0, 0)),
    ),
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(OPS)
def test_outbox_counters_agree_with_the_events_kept(tmp_path_factory, ops) -> None:
    folder = tmp_path_factory.mktemp("outbox")
    store = LocalStore(folder, retention_days=30)
    recorded: list[str] = []
    rejected: set[str] = set()
    try:
        for op, n in ops:
            day = MONDAY + timedelta(days=n)
            if op == "tap":
                recorded += [e.event_id for e in store.record([attended(family(), day=day)])]
            elif op == "register":
                recorded += [e.event_id for e in store.record([registered(family(), at(day))])]
            elif op == "batch":
                batch = [attended(family(), day=day), attended(family(), day=day + timedelta(1))]
                recorded += [e.event_id for e in store.record(batch)]
            elif op == "send":
                store.mark_sent([e.event_id for e in store.pending(n)])
            elif op == "send_some" and recorded:
                store.mark_sent([recorded[n % len(recorded)]])
            elif op == "reject":
                waiting = store.pending(100)
                if waiting:
                    target = waiting[n % len(waiting)].event_id
                    store.mark_rejected(target, "test")
                    rejected.add(target)
            elif op == "prune":
                store.prune(at(MONDAY))
            elif op == "requeue":
                store.requeue_from(n)
            elif op == "reopen":
                store.close()
                store = LocalStore(folder, retention_days=30)
            waiting = store.pending(10_000)
            assert store.waiting_count() == len(waiting)
            assert [e.seq for e in waiting] == sorted(e.seq for e in waiting)
            assert not {e.event_id for e in waiting} & rejected
            assert store.highest_seq() == len(recorded)
            kept = [e.seq for e in store.events()]
            assert kept == sorted(kept) and len(set(kept)) == len(kept)
        assert {r["event"]["event_id"] for r in store.rejected()} == rejected
    finally:
        store.close()
