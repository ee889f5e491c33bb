"""The HTTP client the sync daemon talks to the central server with (``requests``).

One method per endpoint; every failure becomes one of a few exceptions the daemon can act on:

- :class:`ServerUnreachable`: network down, DNS failure, connection refused or dropped,
  timeout, or a 5xx/429 answer. Retryable: nothing was marked sent.
- :class:`AuthRefused`: 401/403. Fatal until the token is fixed: stop sending.
- :class:`BatchTooLarge`: 413. Send fewer events at a time.
- :class:`ProtocolMismatch`: any other answer we do not understand (a wrong endpoint URL
  giving 404, a 422, a body that is not the protocol).

The client itself never retries: urllib3's retries are switched off (``max_retries=0``) and the
daemon decides, with :class:`sync.retry.RetryPolicy`, when to try again.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import requests
from pydantic import ValidationError
from requests.adapters import HTTPAdapter

from sync.endpoint import EndpointError
from sync.endpoint import check_endpoint as endpoint_url
from sync.protocol import (
    DEVICE_PATH,
    EVENTS_PATH,
    GAPS_PATH,
    MAX_BODY_BYTES,
    ROSTER_PATH,
    SETUP_PATH,
    STATUS_PATH,
    BatchResponse,
    DeviceInfo,
    Gap,
    GapAnswer,
    GapReport,
    RosterResponse,
    SetupResponse,
    StatusAnswer,
    StatusReport,
)

#: (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
#: The installed distribution whose version a kiosk reports (``kiosk-central`` shows it).
DISTRIBUTION = "doorstep-kiosk"


def software_version() -> str:
    """The installed release of this software, for the kiosk health panel: staff can tell a
    kiosk that missed an update. ``unknown`` when run from a checkout that is not installed."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class SyncError(Exception):
    """Root of the sync daemon's errors; messages say what happened and what to do."""


class ConfigError(SyncError, ValueError):
    """A setting that cannot work (no token, a plain-http endpoint, a missing CA file)."""


class ServerUnreachable(SyncError):
    """The server could not be reached or failed (retry later)."""


class AuthRefused(SyncError):
    """The server refused the device token (401/403), or it belongs to another device."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class IdentityMismatch(AuthRefused):
    """The token is good, but not for the device and site this kiosk is (or is not yet)
    enrolled as: the fix is on the kiosk (``kiosk-admin enrol``), not the token."""


class BatchTooLarge(SyncError):
    """The server refused the request as too large (413)."""


class ProtocolMismatch(SyncError):
    """The server answered something this daemon does not understand."""


def check_endpoint(endpoint: str) -> str:
    """The base URL without a trailing slash, checked by ``sync.endpoint``; ConfigError if bad."""
    try:
        return endpoint_url(endpoint)
    except EndpointError as exc:
        raise ConfigError(f"endpoint: {exc}") from None


def read_token(path: str | Path) -> str:
    """The device token from its file (whitespace trimmed), or a ConfigError saying why not."""
    p = Path(path)
    try:
        token = p.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"token file {p} does not exist: put the token from 'kiosk-central device add' in it"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read token file {p}: {exc.strerror}") from None
    if not token or any(ch.isspace() for ch in token):
        raise ConfigError(f"token file {p} must hold the device token alone, on one line")
    return token


class SyncClient:
    """Talks to one central server as one device.

    ``ca_file`` is a PEM bundle to trust instead of the system's (a council's own CA); the
    server's certificate is always checked.
    """

    def __init__(
        self,
        endpoint: str,
        token: str,
        ca_file: str | Path | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.endpoint = check_endpoint(endpoint)
        if ca_file is not None and not Path(ca_file).is_file():
            raise ConfigError(f"CA file {ca_file} does not exist")
        self.verify: bool | str = str(ca_file) if ca_file else True
        self.timeout = timeout
        self.token = token
        self.session = session or requests.Session()
        no_retries = HTTPAdapter(max_retries=0)  # retries are the daemon's decision
        self.session.mount("https://", no_retries)
        self.session.mount("http://", no_retries)
        self.session.headers["User-Agent"] = "doorstep-kiosk-sync/1"

    def close(self) -> None:
        self.session.close()

    # -- endpoints -----------------------------------------------------------------------------
    def send_events(self, events: Sequence[Mapping[str, Any]]) -> BatchResponse:
        """POST a batch; the server answers every event. Raises on any whole-request failure."""
        body = json.dumps({"events": list(events)}, separators=(",", ":")).encode("utf-8")
        if len(body) > MAX_BODY_BYTES:
            # Refused here, as the server would: it answers 413 before reading such a body and
            # closes the connection, which can reset it while the body is still being sent, so
            # the kiosk would see "unreachable" instead of "send fewer".
            raise BatchTooLarge(
                f"the batch is {len(body)} bytes, over the protocol's {MAX_BODY_BYTES}: "
                "send fewer events"
            )
        response = self._request(
            "POST", EVENTS_PATH, data=body, headers={"Content-Type": "application/json"}
        )
        return self._parse(response, BatchResponse)

    def roster(
        self, cursor: int, own_through: int = 0, erasures_after: int | None = None
    ) -> RosterResponse:
        """A roster page after ``cursor``; ``own_through`` also asks for this device's own
        member and card events up to that seq (those a replaced store no longer has);
        ``erasures_after`` for the families erased since that erasure cursor."""
        params = {"cursor": cursor}
        if own_through > 0:
            params["own_through"] = own_through
        if erasures_after is not None:
            params["erasures_after"] = erasures_after
        response = self._request("GET", ROSTER_PATH, params=params)
        return self._parse(response, RosterResponse)

    def setup(self, have_risk: str | None = None) -> SetupResponse:
        """The site's timetable and the organisation's risk list (left out if ``have_risk``
        is its version already)."""
        # This kiosk merges the server's timetable with its own sessions (sync.recovery).
        params: dict[str, str] = {"merge": "true"}
        if have_risk:
            params["have_risk"] = have_risk
        return self._parse(self._request("GET", SETUP_PATH, params=params), SetupResponse)

    def report_gaps(self, gaps: Sequence[Gap]) -> GapAnswer:
        """Write off seqs this kiosk can never send; the answer says how far the server holds."""
        body = GapReport(gaps=list(gaps)).model_dump_json().encode("utf-8")
        response = self._request(
            "POST", GAPS_PATH, data=body, headers={"Content-Type": "application/json"}
        )
        return self._parse(response, GapAnswer)

    def report_status(self, report: StatusReport) -> StatusAnswer:
        """Tell the server how this kiosk is (after a pass). An older server without the
        endpoint answers 404: :class:`ProtocolMismatch`, like any answer we do not expect."""
        body = report.model_dump_json().encode("utf-8")
        response = self._request(
            "POST", STATUS_PATH, data=body, headers={"Content-Type": "application/json"}
        )
        return self._parse(response, StatusAnswer)

    def whoami(self) -> DeviceInfo:
        """The device the token belongs to (and how far the server holds its events)."""
        return self._parse(self._request("GET", DEVICE_PATH), DeviceInfo)

    # -- plumbing ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.endpoint + path
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        try:
            response = self.session.request(
                method, url, headers=headers, timeout=self.timeout, verify=self.verify, **kwargs
            )
        except requests.exceptions.SSLError as exc:
            # A certificate problem will not fix itself by retrying quickly, but it is not the
            # token's fault either; the daemon backs off and logs it.
            raise ServerUnreachable(
                f"TLS check of {self.endpoint} failed (is --ca-file right?): {_short(exc)}"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise ServerUnreachable(f"{self.endpoint} timed out: {_short(exc)}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise ServerUnreachable(f"cannot reach {self.endpoint}: {_short(exc)}") from exc
        except requests.exceptions.RequestException as exc:
            raise ServerUnreachable(f"request to {url} failed: {_short(exc)}") from exc
        status = response.status_code
        if status in (401, 403):
            raise AuthRefused(
                f"the server refused this kiosk's token (HTTP {status}: {_detail(response)}); "
                "nothing was sent. Check the token file against 'kiosk-central device add'.",
                status,
            )
        if status == 413:
            raise BatchTooLarge(f"the server refused the batch as too large: {_detail(response)}")
        if status >= 500 or status in (408, 429):
            raise ServerUnreachable(f"the server failed with HTTP {status}: {_detail(response)}")
        if status != 200:
            raise ProtocolMismatch(
                f"unexpected HTTP {status} from {url}: {_detail(response)} (is --endpoint right?)"
            )
        return response

    @staticmethod
    def _parse(response: requests.Response, model: type[Any]) -> Any:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise ProtocolMismatch(
                f"the server's answer from {response.url} is not the sync protocol: "
                f"{str(exc).splitlines()[0]}"
            ) from exc


def _detail(response: requests.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = detail if isinstance(detail, str) else (json.dumps(detail) if detail else response.text)
    return (text or response.reason or "").strip()[:300]


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
