"""``central.metrics``: the Prometheus text itself (escaping, lines left out) and ``/metrics``
switched off without a secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from central.app import create_app
from central.db import CentralDB
from central.metrics import KioskCounts, escape_label, render

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_label_values_are_escaped_as_the_text_format_says():
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_a_kiosk_never_in_contact_has_counts_but_no_last_contact_line():
    text = render(
        [
            KioskCounts('k"1', "org", 7, 2, NOW - timedelta(seconds=90)),
            KioskCounts("k2", "org", 0, 0, None),
        ],
        NOW,
    )
    lines = text.splitlines()
    assert 'doorstep_central_events_ingested{device="k\\"1",org="org"} 7' in lines
    assert 'doorstep_central_events_rejected{device="k\\"1",org="org"} 2' in lines
    assert 'doorstep_central_device_last_contact_seconds{device="k\\"1",org="org"} 90.0' in lines
    assert 'doorstep_central_events_ingested{device="k2",org="org"} 0' in lines
    assert not any(
        line.startswith('doorstep_central_device_last_contact_seconds{device="k2"')
        for line in lines
    )
    assert text.endswith("\n")


def test_metrics_are_off_without_a_secret(tmp_path):
    db = CentralDB.open(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    try:
        answer = TestClient(create_app(db)).get("/metrics")
        assert answer.status_code == 404 and "[server] secret" in answer.text
    finally:
        db.close()


def test_a_scrape_does_not_wait_for_a_writer(tmp_path):
    """On SQLite a plain connection would BEGIN IMMEDIATE and queue behind a kiosk's batch."""
    from sqlalchemy import text

    from central.metrics import kiosk_counts

    db = CentralDB.open(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    try:
        with db.engine.begin() as writer:  # a batch being applied: holds the write lock
            writer.execute(text("UPDATE server_meta SET value = value"))
            assert kiosk_counts(db) == []
    finally:
        db.close()
