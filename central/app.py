"""The central server's HTTP API (FastAPI; OpenAPI at ``/openapi.json``).

- ``POST /api/v1/events``: a kiosk's batch, with its device bearer token. Every event is
  validated on its own and answered ``accepted``, ``duplicate`` or ``rejected`` with a reason
  naming the bad field; the batch is applied in one transaction, idempotently by ``event_id``.
- ``GET /api/v1/roster?cursor=N``: member and card events from the organisation's other kiosks.
- ``GET /api/v1/device``: who the token belongs to (the kiosk checks before sending), how far
  the server holds its events and the highest seq it knows of it.
- ``GET /api/v1/setup``: the site's timetable and the organisation's risk list.
- ``POST /api/v1/gaps``: seqs the kiosk can never send, written off.
- ``POST /api/v1/status``: how the kiosk is after a pass (waiting, refused and why, clock,
  software), kept as its latest for the dashboard's kiosk health panel (``central.health``).
- ``GET /healthz``: the database answers and its schema version; a SQLite database must also
  pass ``PRAGMA quick_check`` (``central.sqlite_check``), else 503 saying what is wrong.
- ``GET /metrics``: Prometheus text, with central.toml's secret as a bearer token
  (``central.metrics``). ``GET /`` sends a browser on to the dashboard.

Whole-request errors: 401 (no or unknown token), 403 (revoked device), 413 (body over
``MAX_BODY_BYTES`` or more than ``MAX_BATCH_EVENTS`` events), 422 (not ``{"events": [...]}``),
400 (a body that is not UTF-8), 415 (a body declared as something other than JSON).
"""

# No "from __future__ import annotations": FastAPI reads these annotations at run time.
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.db import CentralDB, Device, WriteOffRefused
from central.metrics import install_metrics
from central.process_tuning import limit_request_threads
from central.sqlite_check import HealthCheck
from sync.protocol import (
    DEVICE_PATH,
    EVENTS_PATH,
    GAPS_PATH,
    HEALTH_PATH,
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    MAX_SEQ,
    ROSTER_PAGE_SIZE,
    ROSTER_PATH,
    SETUP_PATH,
    STATUS_PATH,
    BatchRequest,
    BatchResponse,
    DeviceInfo,
    GapAnswer,
    GapReport,
    Problem,
    RosterResponse,
    SetupResponse,
    StatusAnswer,
    StatusReport,
)

log = logging.getLogger("central.api")


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(send)
            return
        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            # Frameworks turn errors raised while reading the body into their own 400, so
            # over the limit we answer 413 ourselves and tell the app the client has gone.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app says next goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"request body is larger than {self.max_bytes} bytes: send fewer events"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No bearer token, or one the server does not know"},
    403: {"model": Problem, "description": "The device's token was revoked"},
}
#: What a request with a body may also be answered.
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    400: {"model": Problem, "description": "The body is not text in UTF-8"},
    413: {"model": Problem, "description": "Body or batch too large: send fewer"},
    415: {"model": Problem, "description": "The body is not declared as application/json"},
}


# OpenAPI links: what a kiosk does next with an answer, so schemathesis' stateful phase walks
# the same sequences (a retry of the same batch, the roster page by page, a new store pulling
# its own events back) and checks each step.
_SEND_AGAIN = {
    "SendAgain": {
        "operationId": "post_events",
        "requestBody": "$request.body",
        "description": "A retry of the same batch: answered duplicate, nothing counted twice",
    }
}
_NEXT_PAGE = {
    "NextPage": {
        "operationId": "get_roster",
        "parameters": {"cursor": "$response.body#/cursor"},
        "description": "The next page of the roster",
    }
}
_WHAT_IT_LACKS = {
    "OwnEvents": {
        "operationId": "get_roster",
        "parameters": {"own_through": "$response.body#/highest_seq"},
        "description": "A new or restored store pulls back its own families and cards",
    }
}


_NO_EVENTS = '{"events":[]'


def with_events(answer: RosterResponse, texts: list[str]) -> Response:
    """``answer`` (its ``events`` empty) as JSON, with ``texts`` spliced in as its events: the
    events exactly as the server keeps them (compact JSON objects, written at ingest).

    A page is up to 500 events, and parsing each one only to encode it again (and check the
    answer against its model on the way) was most of a roster request's CPU; the kiosk reads
    the same JSON either way. ``response_model`` still documents the answer.
    """
    body = answer.model_dump_json()
    if not body.startswith(_NO_EVENTS):  # events must stay RosterResponse's first field
        raise AssertionError(f"a roster answer must begin with {_NO_EVENTS}, not {body[:40]}")
    spliced = '{"events":[' + ",".join(texts) + "]" + body[len(_NO_EVENTS) :]
    return Response(spliced.encode("utf-8"), media_type="application/json")


async def _json_body(request: Request) -> None:
    """Refuse a body declared as something other than JSON by name (not as a shapeless 422).

    ``async``, as it only reads a header: FastAPI runs a plain ``def`` dependency in a worker
    thread, a hop through the thread pool for nothing (``central.process_tuning``)."""
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared != "application/json" and not declared.endswith("+json"):
        shown = repr(declared) if declared else "(none)"
        raise HTTPException(
            415, f"Content-Type {shown} is not application/json: send the body as JSON"
        )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's handler, but a body that is not UTF-8 says so (not "error parsing the body")."""
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
        detail = f"request body is not UTF-8 text (bad byte at {cause.start}): send JSON in UTF-8"
        return JSONResponse({"detail": detail}, status_code=400)
    return await http_exception_handler(request, exc)


def create_app(
    db: CentralDB,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_batch_events: int = MAX_BATCH_EVENTS,
    on_shutdown: Callable[[], None] | None = None,
    metrics_secret: str | None = None,
    request_threads: int | None = None,
) -> FastAPI:
    """The API over ``db``. The caller owns ``db`` (and closes it, e.g. with ``on_shutdown``,
    called when the server shuts down). ``metrics_secret`` opens ``/metrics`` to a client
    that sends it as a bearer token (none: ``/metrics`` is off). ``request_threads`` caps the
    requests answered at once (``central.process_tuning``; none: anyio's default)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if request_threads is not None:
            limit_request_threads(request_threads)
        try:
            yield
        finally:
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="Doorstep central server",
        version="1",
        description="Receives kiosk events, serves the roster. See DESIGN.md, Sync.",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.state.db = db
    bearer = HTTPBearer(auto_error=False, description="The device token from 'device add'")

    async def bearer_token(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        """The bearer token sent, or 401 (``async``: no database, so no worker thread)."""
        if creds is None:
            raise HTTPException(
                401,
                "missing bearer token: send 'Authorization: Bearer <device token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return creds.credentials

    def admitted(device: Device | None) -> Device:
        """The device a token belongs to, or the answer that refuses the request."""
        if device is None:
            raise HTTPException(
                401,
                "unknown device token: check the kiosk's token file against 'device add'",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if device.revoked:
            raise HTTPException(
                403, f"device {device.device_id!r} was revoked: enrol the kiosk again"
            )
        return device

    def current_device(token: Annotated[str, Depends(bearer_token)]) -> Device:
        return admitted(db.device_for_token(token))

    DeviceDep = Annotated[Device, Depends(current_device)]

    @app.post(
        EVENTS_PATH,
        operation_id="post_events",
        response_model=BatchResponse,
        responses={**_BODY_ERRORS, 200: {"links": _SEND_AGAIN}},
        dependencies=[Depends(_json_body)],
        summary="Send a batch of events (idempotent by event_id)",
    )
    async def post_events(
        batch: BatchRequest, token: Annotated[str, Depends(bearer_token)]
    ) -> BatchResponse:
        # One hop to a worker thread for the whole batch (token, events, holds); the answer
        # is then checked and encoded here, not in a second hop as for a plain ``def`` route.
        def admitted_batch(found: Device | None) -> Device:
            device = admitted(found)
            if len(batch.events) > max_batch_events:
                raise HTTPException(
                    413,
                    f"batch of {len(batch.events)} events is over the limit of "
                    f"{max_batch_events}: send fewer",
                )
            return device

        # The token is looked up in the batch's own transaction (one connection per batch).
        device, outcome = await run_in_threadpool(
            db.ingest_for_token, token, batch.events, admitted_batch
        )
        counts: dict[str, int] = {}
        for r in outcome.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        log.info("device %s: %s", device.device_id, counts or "empty batch")
        return BatchResponse(
            results=outcome.results, server_holds_up_to={device.device_id: outcome.holds_up_to}
        )

    @app.get(
        ROSTER_PATH,
        operation_id="get_roster",
        response_model=RosterResponse,
        responses={**_ERRORS, 200: {"links": _NEXT_PAGE}},
        summary="Member and card events from the organisation's other kiosks",
    )
    async def get_roster(
        token: Annotated[str, Depends(bearer_token)],
        cursor: Annotated[
            int, Query(ge=0, le=MAX_SEQ, description="The cursor from the last page")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=ROSTER_PAGE_SIZE)] = ROSTER_PAGE_SIZE,
        own_through: Annotated[
            int,
            Query(
                ge=0,
                le=MAX_SEQ,
                description="Also this device's own events up to this seq (new store)",
            ),
        ] = 0,
        erasures_after: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_SEQ,
                description="Also the families erased after this erasure cursor",
            ),
        ] = None,
    ) -> Response:
        # One hop to a worker thread, and one connection, for the token and the page.
        page, epoch, max_cursor = await run_in_threadpool(
            db.roster_for_token, token, admitted, cursor, limit, own_through, erasures_after
        )
        answer = RosterResponse(
            events=[],
            cursor=page.cursor,
            more=page.more,
            epoch=epoch,
            max_cursor=max_cursor,
            erasures=page.erasures,
            erasure_cursor=page.erasure_cursor,
            erasures_more=page.erasures_more,
        )
        return with_events(answer, page.texts)

    @app.get(
        DEVICE_PATH,
        operation_id="get_device",
        response_model=DeviceInfo,
        responses={**_ERRORS, 200: {"links": _WHAT_IT_LACKS}},
    )
    async def get_device(token: Annotated[str, Depends(bearer_token)]) -> DeviceInfo:
        def info() -> DeviceInfo:
            device, highest_seq = db.device_and_highest_seq(token, admitted)
            db.touch_device(device)  # every pass asks this first: the kiosk is in contact
            return DeviceInfo(
                device_id=device.device_id,
                site_id=device.site_id,
                org_id=device.org_id,
                holds_up_to=device.holds_up_to,
                highest_seq=highest_seq,
            )

        return await run_in_threadpool(info)  # one hop for the token and the answer

    @app.get(
        SETUP_PATH,
        response_model=SetupResponse,
        responses=_ERRORS,
        summary="The site's timetable and the organisation's current risk list",
    )
    def get_setup(
        device: DeviceDep,
        have_risk: Annotated[
            str | None,
            Query(max_length=64, description="The risk list version the kiosk already has"),
        ] = None,
        merge: Annotated[
            bool,
            Query(
                description="The kiosk merges the timetable with its own sessions, so an "
                "empty one is sent as an empty list (older kiosks replaced theirs with it)"
            ),
        ] = False,
    ) -> SetupResponse:
        from central.setup_data import setup_for

        return SetupResponse(**setup_for(db, device, have_risk, merge=merge))

    @app.post(
        GAPS_PATH,
        response_model=GapAnswer,
        responses=_BODY_ERRORS,
        dependencies=[Depends(_json_body)],
        summary="Write off seqs the kiosk can never send (pruned, set aside, replaced store)",
    )
    def post_gaps(report: GapReport, device: DeviceDep) -> GapAnswer:
        try:
            holds = db.record_gaps(device, report.gaps)
        except WriteOffRefused as exc:
            # Shaped like FastAPI's own validation errors (the documented 422 body).
            where = ["body", "gaps", exc.index, "to_seq"]
            detail = [{"loc": where, "msg": str(exc), "type": "value_error", "input": None}]
            raise HTTPException(422, detail=detail) from None
        log.warning(
            "device %s wrote off %s",
            device.device_id,
            ", ".join(f"seq {g.from_seq}-{g.to_seq} ({g.kind})" for g in report.gaps) or "nothing",
        )
        return GapAnswer(server_holds_up_to={device.device_id: holds})

    @app.post(
        STATUS_PATH,
        response_model=StatusAnswer,
        responses=_BODY_ERRORS,
        dependencies=[Depends(_json_body)],
        summary="How the kiosk is after a pass (kept as its latest, for kiosk health)",
    )
    def post_status(report: StatusReport, device: DeviceDep) -> StatusAnswer:
        received = db.record_status(device, report)
        return StatusAnswer(received_at=received.isoformat().replace("+00:00", "Z"))

    file_check = HealthCheck(Path(db.engine.url.database or "")) if db.dialect == "sqlite" else None

    @app.get(HEALTH_PATH, summary="Is the server up and its database reachable and whole?")
    def healthz() -> JSONResponse:
        try:
            version = db.schema_version()
            problem = file_check() if file_check is not None else None
        except Exception as exc:  # the database is down: say so, do not crash
            log.error("health check failed: %s", exc)
            return JSONResponse({"status": "error", "detail": str(exc)}, status_code=503)
        if problem:
            log.error("health check failed: %s", problem)
            return JSONResponse({"status": "error", "detail": problem}, status_code=503)
        return JSONResponse({"status": "ok", "schema_version": version})

    install_metrics(app, db, metrics_secret)
    _install_dashboard(app, db)
    return app


def _install_dashboard(app: FastAPI, db: CentralDB) -> None:
    """The reporting dashboard under /dashboard (central.web), if its libraries are installed."""
    try:
        from central.web.routes import install
    except ImportError as exc:  # the API still serves kiosks without the report libraries
        log.warning("reporting dashboard disabled: %s (install the 'server' extra)", exc)
        return
    install(app, db)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        # A person typing the server's address wants the dashboard, not a JSON 404.
        return RedirectResponse("/dashboard", status_code=302)
