"""The HTTP client: settings it refuses, and how each kind of answer becomes an error the
daemon can act on (a tiny local HTTP server plays the central server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync.client import (
    AuthRefused,
    BatchTooLarge,
    ConfigError,
    ProtocolMismatch,
    ServerUnreachable,
    SyncClient,
    check_endpoint,
    read_token,
)
from sync.protocol import MAX_BODY_BYTES


@pytest.mark.parametrize(
    "url",
    [
        "https://central.example.org",
        "https://c.example.org/doorstep/",
        "http://127.0.0.1:8700",
        "http://localhost:8700",
        "http://[::1]:8700",
    ],
)
def test_https_or_loopback_endpoints_are_accepted(url):
    assert check_endpoint(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://central.example.org", "plain http"),
        ("http://10.0.0.5:8700", "plain http"),
        ("ftp://central.example.org", "must be a URL"),
        ("central.example.org", "must be a URL"),
        ("https://central.example.org/?x=1", "query"),
        ("https://central.example.org:99999", "bad port"),
    ],
)
def test_endpoints_that_would_leak_the_token_or_make_no_sense_are_refused(url, message):
    with pytest.raises(ConfigError, match=message):
        check_endpoint(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@central.example.org",  # passed the daemon's own check once
        "https://user:pass@central.example.org",
        "https://kiosk@central.example.org",
        "http://user:pass@127.0.0.1:8700",
    ],
)
def test_an_endpoint_with_credentials_in_it_is_refused_without_repeating_them(url):
    with pytest.raises(ConfigError, match="must not hold a user name or password") as caught:
        check_endpoint(url)
    assert "pass" not in str(caught.value).replace("password", "")


def test_the_token_file_must_hold_the_token_alone(tmp_path):
    path = tmp_path / "token"
    path.write_text("  dsk_abc123\n")
    assert read_token(path) == "dsk_abc123"
    path.write_text("")
    with pytest.raises(ConfigError, match="must hold the device token alone"):
        read_token(path)
    path.write_text("two words")
    with pytest.raises(ConfigError):
        read_token(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_token(tmp_path / "missing")


def test_a_missing_ca_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigError, match="CA file"):
        SyncClient("https://central.example.org", "t", ca_file=tmp_path / "nope.pem")


class _Handler(BaseHTTPRequestHandler):
    answers: list[tuple[int, bytes]] = []
    seen: list[dict] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).seen.append(
            {
                "method": self.command,
                "path": self.path,
                "auth": self.headers["Authorization"],
                "body": body,
            }
        )
        status, payload = type(self).answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[type[_Handler]]:
    _Handler.answers, _Handler.seen = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    _Handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield _Handler
    httpd.shutdown()
    httpd.server_close()


def _client(server) -> SyncClient:
    return SyncClient(server.url, "dsk_token", timeout=(1.0, 2.0))


def test_a_batch_is_posted_as_json_with_the_bearer_token(server):
    answer = {"results": [{"event_id": "e1", "status": "accepted"}], "server_holds_up_to": {}}
    server.answers = [(200, json.dumps(answer).encode())]
    response = _client(server).send_events([{"event_id": "e1"}])
    assert response.results[0].status == "accepted"
    [seen] = server.seen
    assert (seen["method"], seen["path"], seen["auth"]) == (
        "POST",
        "/api/v1/events",
        "Bearer dsk_token",
    )
    assert json.loads(seen["body"]) == {"events": [{"event_id": "e1"}]}


def test_a_batch_over_the_protocols_body_limit_is_refused_before_anything_is_sent(server):
    """The server answers such a body with 413 before reading it and closes the connection,
    which may reset it mid-upload: the client never sends one, so the syncer halves it."""
    event = {"event_id": "e1", "note": "x" * MAX_BODY_BYTES}
    with pytest.raises(BatchTooLarge, match="send fewer"):
        _client(server).send_events([event])
    assert server.seen == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthRefused),
        (403, AuthRefused),
        (413, BatchTooLarge),
        (500, ServerUnreachable),
        (502, ServerUnreachable),
        (503, ServerUnreachable),
        (429, ServerUnreachable),
        (404, ProtocolMismatch),
        (422, ProtocolMismatch),
    ],
)
def test_each_kind_of_refusal_becomes_an_error_the_daemon_can_act_on(server, status, error):
    server.answers = [(status, json.dumps({"detail": "because"}).encode())]
    with pytest.raises(error, match="because"):
        _client(server).send_events([])


def test_a_refused_token_says_what_to_do(server):
    server.answers = [(401, b'{"detail": "unknown device token"}')]
    with pytest.raises(AuthRefused) as caught:
        _client(server).roster(0)
    assert caught.value.status == 401
    assert "Check the token file" in str(caught.value)


def test_an_answer_that_is_not_the_protocol_is_a_mismatch(server):
    server.answers = [(200, b"<html>captive portal</html>")]
    with pytest.raises(ProtocolMismatch, match="not the sync protocol"):
        _client(server).send_events([])


def test_the_roster_is_asked_for_after_the_cursor(server):
    server.answers = [(200, b'{"events": [], "cursor": 12, "more": false}')]
    assert _client(server).roster(12).cursor == 12
    assert server.seen[0]["path"] == "/api/v1/roster?cursor=12"
