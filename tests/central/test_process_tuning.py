"""A serving process answers with few threads and a calmer garbage collector (issue 19's load)."""

from __future__ import annotations

import gc
import warnings

import anyio.to_thread
import pytest

from central.app import create_app
from central.process_tuning import (
    COLLECTOR_THRESHOLDS,
    REQUEST_THREADS,
    calm_collector,
    limit_request_threads,
)
from sync.protocol import DEVICE_PATH

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient


def _threads_of(client: TestClient) -> int:
    """The running app's thread limit, read inside its event loop."""
    return client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)


def test_the_app_caps_the_requests_it_answers_at_once_and_still_answers(db):
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    token = db.add_device("lichfield", "library", "kiosk-1")
    with TestClient(create_app(db, request_threads=3)) as client:
        assert _threads_of(client) == 3
        answer = client.get(DEVICE_PATH, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["device_id"] == "kiosk-1"


def test_without_a_cap_the_app_keeps_anyios_default(db):
    with TestClient(create_app(db)) as client:
        assert _threads_of(client) == 40


def test_serving_uses_fewer_threads_than_anyios_default_and_under_the_database_pool():
    from central.db.engine import POSTGRES_POOL_SIZE

    assert 1 <= REQUEST_THREADS < 40
    assert REQUEST_THREADS < POSTGRES_POOL_SIZE


def test_a_cap_below_one_thread_is_refused_with_the_number():
    with pytest.raises(ValueError, match="at least 1, not 0"):
        limit_request_threads(0)


def test_the_calm_collector_freezes_the_loaded_app_and_collects_less_often():
    before = gc.get_threshold()
    try:
        calm_collector()
        assert gc.get_threshold() == COLLECTOR_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert COLLECTOR_THRESHOLDS[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_each_sync_request_takes_one_worker_thread_hop(db, monkeypatch):
    """POST /events, GET /roster and GET /device each go to a worker thread once (token and
    work together); a plain ``def`` route with ``def`` dependencies took three or four hops."""
    from sync.protocol import EVENTS_PATH, ROSTER_PATH

    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    token = db.add_device("lichfield", "library", "kiosk-1")
    hops: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(db, request_threads=3)) as client:
        for method, path, body in (
            ("POST", EVENTS_PATH, {"events": []}),
            ("GET", ROSTER_PATH, None),
            ("GET", DEVICE_PATH, None),
        ):
            hops.clear()
            answer = client.request(method, path, json=body, headers=auth)
            assert answer.status_code == 200, answer.text
            assert len(hops) == 1, (path, hops)
