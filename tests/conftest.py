"""Shared fixtures: every DoorDesk test runs against the in-memory store (tests.fakes.store, held
to LocalStore's contract by tests/store) and the real LocalStore.

Like TinyDB's own test fixture, running the same behaviour over both proves the domain depends
only on the DoorStore port, and that the real store keeps every promise the fake one does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The server refuses events dated past its today (central.claims); the tests' kiosks replay
# terms a few weeks past the real today (MONDAY is 2026-11-23 and they run on). Servers started
# by the tests inherit it.
os.environ.setdefault("KIOSK_CENTRAL_FUTURE_DAYS", "90")

from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.timetable import Timetable, make_slot
from tests.fakes.store import MemoryStore

pytest_plugins = ["tests.database_fixtures"]


# -- skips: a failure under CI=true; PostgreSQL's counted and explained outside it -------------
#: ``CI=true`` (.ci/run sets it, as CI services do): every test must run. A skip there means a
#: missing package, PostgreSQL not started or a test that cannot run as the CI's user, and it
#: would hide exactly the behaviour the test protects: it fails the run, naming the test and the
#: reason. There is no allow-list: the tests that could not run as root (tests/readonly) drop
#: to an unprivileged user instead of skipping.
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
PG_ENV = "KIOSK_TEST_POSTGRES_URL"
_postgres_skipped: list[str] = []


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = (
        f"{report.nodeid} was skipped under CI=true ({reason}). CI runs every test: install "
        "what it needs (./dev test does as root), start PostgreSQL (.ci/run does), or make the "
        "test run where it skipped."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    if PG_ENV in _skip_reason(report):
        _postgres_skipped.append(report.nodeid)
    if IN_CI:
        _fail_skip_in_ci(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    report = (yield).get_result()
    if IN_CI and report.skipped:
        _fail_skip_in_ci(report)


def pytest_terminal_summary(terminalreporter) -> None:
    """Outside CI, say in one line how many PostgreSQL tests did not run, and how to run them."""
    if _postgres_skipped and not IN_CI:
        count = len(_postgres_skipped)
        terminalreporter.write_line(
            f"{count} PostgreSQL test{'s were' if count != 1 else ' was'} skipped: {PG_ENV} is "
            'not set. Run them with: eval "$(bash scripts/ci-postgres.sh)" and pytest again.',
            yellow=True,
            bold=True,
        )


@pytest.fixture(autouse=True)
def _environment_as_it_was():
    """Put ``os.environ`` back after every test. Code under test may set variables for a program
    it is about to exec (``kiosk.config exec`` sets ``$KIOSK_DATA``); with a fake exec they would
    stay behind and send every later test's ``kiosk-admin`` to another test's data folder."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        os.environ.clear()
        os.environ.update(before)


@pytest.fixture(params=["memory", "local"])
def store(request, tmp_path: Path):
    """An empty store: in memory, and the real TinyDB LocalStore in a temporary folder."""
    if request.param == "memory":
        yield MemoryStore()
    else:
        from kiosk.store import LocalStore

        local = LocalStore(tmp_path / "data")
        yield local
        local.close()


@pytest.fixture
def desk(store) -> DoorDesk:
    """A desk with a Monday morning session (09:30-11:30) and a Wednesday evening one."""
    timetable = (
        Timetable()
        .add(make_slot("stay-play", "Stay and Play", "09:30", "11:30", weekday="mon"))
        .add(make_slot("dads-eve", "Dads' Evening", "18:00", "20:00", weekday="wed"))
    )
    store.save_timetable(timetable)
    return DoorDesk(store, DeviceIdentity("kiosk-1", "site-1"))
