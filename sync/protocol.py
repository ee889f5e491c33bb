"""The wire format between a kiosk's sync daemon and the central server (DESIGN.md, Sync).

Both sides import this module, so they cannot drift apart. A batch is ``{"events": [...]}``
where each item is ``kiosk.domain.events.Event.to_dict()``; the server answers one
:class:`EventResult` per event and says, per device, up to which ``seq`` it holds every event.

Every event is validated on its own by :func:`validate_event`: one bad event never spoils the
batch; it is answered ``rejected`` with a reason naming the bad field, e.g.
``data.qualifies: Input should be a valid boolean (got 'yes')``.

    >>> result = validate_event({"type": "card.assigned"}, device_id="k1", site_id="s1")
    >>> result.ok, result.reason.split(";")[0]
    (False, 'event_id: Field required')
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from kiosk.domain.events import EVENT_TYPES, AttendanceMethod, EventType
from kiosk.domain.families import MAX_CHILDREN as FAMILY_MAX_CHILDREN

API_PREFIX = "/api/v1"
EVENTS_PATH = f"{API_PREFIX}/events"
ROSTER_PATH = f"{API_PREFIX}/roster"
DEVICE_PATH = f"{API_PREFIX}/device"
#: The site's timetable and the organisation's risk list, for a kiosk to set itself up.
SETUP_PATH = f"{API_PREFIX}/setup"
#: Seqs a kiosk no longer has (pruned, set aside, before a replaced store): written off.
GAPS_PATH = f"{API_PREFIX}/gaps"
#: How the kiosk is (waiting, rejected, clock, software), sent after each pass: kiosk health.
STATUS_PATH = f"{API_PREFIX}/status"
HEALTH_PATH = "/healthz"

#: The server refuses bodies larger than this with 413 (the client then halves its batch).
MAX_BODY_BYTES = 1024 * 1024
#: The server refuses batches with more events than this with 413.
MAX_BATCH_EVENTS = 1000
#: Roster events served per page.
ROSTER_PAGE_SIZE = 500

#: Event types a kiosk may pull from the organisation's other kiosks (the roster).
ROSTER_TYPES: tuple[str, ...] = (
    "member.registered",
    "member.updated",
    "card.assigned",
    "card.revoked",
)

Status = Literal["accepted", "duplicate", "rejected", "conflict"]
Method = AttendanceMethod  # the domain's lists, so the wire cannot drift from them
WireType = EventType

_ID_MAX = 64
_TEXT_MAX = 200
#: Children one family (and so one attendance) may list: a very big family, with room to spare.
MAX_CHILDREN = FAMILY_MAX_CHILDREN
#: Reason codes and criteria one event may list (a handful exist).
_CODES_MAX = 20
#: The highest seq (and roster cursor) accepted: stored in signed 64-bit columns, with room to
#: add one, and exact as a JSON number in every language.
MAX_SEQ = 2**53 - 1
#: Counts stored in 32-bit columns.
_COUNT_MAX = 2**31 - 1
#: Seen in text stored in columns (PostgreSQL refuses NUL in text; no name has a line break).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(value: str | None) -> str | None:
    if value is not None and _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL or a line break)")
    return value


Id = Annotated[StrictStr, Field(min_length=1, max_length=_ID_MAX), AfterValidator(_printable)]
Text = Annotated[StrictStr, Field(max_length=_TEXT_MAX), AfterValidator(_printable)]
OptionalText = Annotated[StrictStr | None, Field(max_length=_TEXT_MAX), AfterValidator(_printable)]


def _check_date(value: str) -> str:
    try:
        canonical = date.fromisoformat(value).isoformat() == value
    except ValueError:
        canonical = False
    if not canonical:  # also refuses 20261123 and 2026-W48-1, which name the day differently
        raise ValueError(f"{value!r} is not a date like 2026-11-23")
    return value


_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _check_hhmm(value: str) -> str:
    if not _HHMM.fullmatch(value):
        raise ValueError(f"{value!r} is not a time like 09:30")
    return value


# -- the data of each event type -------------------------------------------------------------
class _Data(BaseModel):
    # Strict: a JSON "true" string is not a boolean, "3" is not a number. Unknown keys are
    # allowed (a newer kiosk may send more); the raw event is stored whole on the server.
    model_config = ConfigDict(strict=True, extra="allow", frozen=True)


class SessionData(_Data):
    key: Id
    slot_id: Id
    name: Text
    date: StrictStr
    start: StrictStr
    end: StrictStr

    _date = field_validator("date")(_check_date)
    _times = field_validator("start", "end")(_check_hhmm)

    @model_validator(mode="after")
    def _key_matches(self) -> SessionData:
        if self.key != f"{self.date}/{self.slot_id}":
            raise ValueError(f"key {self.key!r} does not match date/slot_id")
        return self


class AttendanceRecordedData(_Data):
    session: SessionData
    family_id: Id
    children: Annotated[list[Id], Field(max_length=MAX_CHILDREN)]
    adults: StrictInt = Field(default=1, ge=0, le=20)
    method: Method
    volunteer: OptionalText = None
    qualifies: StrictBool
    reasons: Annotated[list[Text], Field(max_length=_CODES_MAX)]
    risk_version: Id


class AttendanceAmendedData(_Data):
    attendance_id: Id
    session_key: Id
    family_id: Id
    children: Annotated[list[Id], Field(max_length=MAX_CHILDREN)]
    volunteer: OptionalText = None


class ChildData(_Data):
    child_id: Id
    first_name: Text
    # A month of birth, 2024-03 (the server's column holds seven characters).
    born: Annotated[StrictStr, Field(pattern=r"^[0-9]{4}-[0-9]{2}$")] | None = None


class FamilyData(_Data):
    family_id: Id
    greeting_name: Text
    # Limits below are the server's column sizes: longer text is refused here, not by a 500.
    postcode: Annotated[StrictStr, Field(max_length=16), AfterValidator(_printable)]
    children: Annotated[list[ChildData], Field(max_length=MAX_CHILDREN)] = []
    criteria: Annotated[list[Text], Field(max_length=_CODES_MAX)] = []
    consent_date: StrictStr | None = None
    heard_from: Annotated[StrictStr | None, Field(max_length=40), AfterValidator(_printable)] = None
    adults: StrictInt = Field(default=1, ge=0, le=20)
    language: Annotated[StrictStr | None, Field(max_length=20), AfterValidator(_printable)] = None

    @field_validator("consent_date")
    @classmethod
    def _consent(cls, value: str | None) -> str | None:
        return None if value is None else _check_date(value)


class MemberData(_Data):
    family: FamilyData
    volunteer: OptionalText = None


class CardData(_Data):
    uid: Annotated[StrictStr, Field(pattern=r"^[0-9A-F]{8,20}$")]
    family_id: Id
    volunteer: OptionalText = None


DATA_MODELS: dict[str, type[_Data]] = {
    "member.registered": MemberData,
    "member.updated": MemberData,
    "card.assigned": CardData,
    "card.revoked": CardData,
    "attendance.recorded": AttendanceRecordedData,
    "attendance.amended": AttendanceAmendedData,
}
# Every type of event has its data model; fail at import, not in the field.
assert set(DATA_MODELS) == set(EVENT_TYPES)


# -- the envelope ----------------------------------------------------------------------------
def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp with a zone (``2026-11-23T09:41:00Z``) as an aware datetime."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone (expected e.g. 2026-11-23T09:41:00Z)")
    try:  # stored in UTC and shown in local time: both must exist
        in_range = _EARLIEST <= parsed.astimezone(UTC) < _LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError(f"{value!r} is out of range (years 1970 to 9998)")
    return parsed


_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO 8601 timestamp string, not {type(value).__name__}")
    return parse_timestamp(value)


def _event_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
EventUUID = Annotated[StrictStr, AfterValidator(_event_uuid)]


class WireEvent(BaseModel):
    """One event as sent on the wire (``Event.to_dict()``), checked field by field.

    ``at`` becomes an aware datetime; ``event_id`` is normalised (lower-case UUID). The
    subclasses below fix ``type`` and check ``data`` against that type's model.
    """

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)

    event_id: EventUUID
    seq: StrictInt = Field(ge=1, le=MAX_SEQ)
    type: WireType
    device_id: Id
    site_id: Id
    at: Timestamp
    clock_synced: StrictBool = True
    data: Any


class MemberRegistered(WireEvent):
    type: Literal["member.registered"]
    data: MemberData


class MemberUpdated(WireEvent):
    type: Literal["member.updated"]
    data: MemberData


class CardAssigned(WireEvent):
    type: Literal["card.assigned"]
    data: CardData


class CardRevoked(WireEvent):
    type: Literal["card.revoked"]
    data: CardData


class AttendanceRecorded(WireEvent):
    type: Literal["attendance.recorded"]
    data: AttendanceRecordedData


class AttendanceAmended(WireEvent):
    type: Literal["attendance.amended"]
    data: AttendanceAmendedData


AnyEvent = Annotated[
    MemberRegistered
    | MemberUpdated
    | CardAssigned
    | CardRevoked
    | AttendanceRecorded
    | AttendanceAmended,
    Field(discriminator="type"),
]
# One validator call per event, chosen by "type": the envelope and the data in one pass.
_event_adapter: TypeAdapter[WireEvent] = TypeAdapter(AnyEvent)
assert {
    get_args(m.model_fields["type"].annotation)[0] for m in get_args(get_args(AnyEvent)[0])
} == (set(EVENT_TYPES))


@dataclass(frozen=True)
class Checked:
    """The outcome of validating one raw event: the parsed event, or why it was refused."""

    raw: Mapping[str, Any]
    event: WireEvent | None = None
    reason: str | None = None
    #: ``raw`` as compact JSON text, as the server keeps it: encoded once, by the check that
    #: it can be kept (None for a refused event).
    text: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def data(self) -> Any:
        return self.event.data if self.event is not None else None

    @property
    def event_id(self) -> str:
        """The id to answer with (as sent, even when it is not a valid UUID)."""
        value = self.raw.get("event_id") if isinstance(self.raw, Mapping) else None
        return value if isinstance(value, str) else ""


def describe_errors(exc: ValidationError) -> str:
    """Pydantic's errors as ``field.path: message (got value)`` joined by ``; ``."""
    parts = []
    for err in exc.errors(include_url=False):
        loc = [field_name(p) for p in err["loc"]]
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]  # the union's tag, not a field
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_not_found":
            loc, msg = ["type"], "Field required"
        elif err["type"] == "union_tag_invalid":
            loc, msg = ["type"], f"must be one of {', '.join(EVENT_TYPES)}"
        got = ""
        if err["type"] not in ("missing", "value_error", "union_tag_not_found") and "input" in err:
            shown = repr(err["input"])
            got = f" (got {shown[:40]}{'...' if len(shown) > 40 else ''})"
        part = f"{'.'.join(loc) or 'event'}: {msg}{got}"
        parts.append(part if len(part) <= 300 else part[:297] + "...")  # a huge value, quoted
    return "; ".join(parts)


def validate_event(raw: Any, device_id: str, site_id: str) -> Checked:
    """Check one raw event from ``device_id`` at ``site_id`` (the token's device).

    The reason, when refused, names the bad field so whoever reads the kiosk's rejected list
    knows what to fix.
    """
    if not isinstance(raw, Mapping):
        return Checked({}, reason=f"event: must be a JSON object, not {type(raw).__name__}")
    try:  # the server keeps every event whole, as JSON text: it must be writable as such
        text = pydantic_core.to_json(raw).decode("utf-8")
    except (pydantic_core.PydanticSerializationError, ValueError):
        reason = _unstorable(raw, []) or "event: cannot be written as JSON"
        kept = {k: raw.get(k) for k in ("event_id", "seq", "type") if _storable(raw.get(k))}
        return Checked(kept, reason=reason)
    try:
        event = _event_adapter.validate_python(raw)
    except ValidationError as exc:
        return Checked(raw, reason=describe_errors(exc))
    if event.device_id != device_id:
        return Checked(
            raw,
            reason=f"device_id: {event.device_id!r} is not the device this token belongs to "
            f"({device_id!r})",
        )
    if event.site_id != site_id:
        return Checked(
            raw,
            reason=f"site_id: {event.site_id!r} is not the site device {device_id!r} is "
            f"enrolled at ({site_id!r})",
        )
    return Checked(raw, event=event, text=text)


_MAX_DEPTH = 200


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return isinstance(value, str | int)


def field_name(key: Any) -> str:
    """A field name as a reason can quote it: as sent, or escaped (``'\\x00'``) when it holds
    control characters or invalid Unicode, which a reason must never carry (PostgreSQL refuses
    NUL in text, and the kiosk shows the reason to a person)."""
    text = str(key)
    return text if text.isprintable() and _storable(text) else ascii(text)


def _unstorable(value: Any, path: list[str]) -> str | None:
    """Where ``value`` holds what JSON text cannot (a lone surrogate) or nests too deep."""
    where = (".".join(path) or "event")[:200]
    if len(path) > _MAX_DEPTH:
        return f"{where}: nested more than {_MAX_DEPTH} levels deep"
    if isinstance(value, str) and not _storable(value):
        return f"{where}: text that is not valid Unicode (a lone surrogate such as \\ud800)"
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        if not _storable(str(key)):
            return f"{where}: a key that is not valid Unicode (a lone surrogate such as \\ud800)"
        problem = _unstorable(inner, [*path, field_name(key)])
        if problem:
            return problem
    return None


# -- requests and answers --------------------------------------------------------------------
class BatchRequest(BaseModel):
    """``POST /api/v1/events``: events oldest first, each ``Event.to_dict()``.

    Items are plain objects here and validated one by one, so one bad event is answered
    ``rejected`` instead of failing the whole batch. More than ``MAX_BATCH_EVENTS`` events, or
    a body over ``MAX_BODY_BYTES``, is refused with 413 (the kiosk halves its batch).
    """

    events: list[dict[str, Any]]


class EventResult(BaseModel):
    """The server's answer for one event."""

    event_id: str
    status: Status
    reason: str | None = None


class BatchResponse(BaseModel):
    """The server's answer for a batch: one result per event, in the order sent.

    ``server_holds_up_to`` maps a device id to the highest ``seq`` up to which the server holds
    every event of that device (applied or set aside as rejected), so a kiosk can tell a gap
    (e.g. after the server was restored from a backup) and send it again.
    """

    results: list[EventResult]
    server_holds_up_to: dict[str, int] = {}


class ErasureNotice(BaseModel):
    """A family erased on the server: the kiosk removes it from its store.

    The family id is not sent (the server no longer has it): the kiosk recognises the family
    by ``family_hash`` (``kiosk.domain.erasure.family_hash(salt, family_id)``) and turns it and
    its children into ``token`` and the tokens derived from it, as the server did.
    """

    cursor: int
    token: str
    family_hash: str
    salt: str
    erased_at: str


class RosterResponse(BaseModel):
    """``GET /api/v1/roster?cursor=N``: member and card events from the organisation's other
    kiosks, after ``cursor``; ask again with the returned ``cursor`` while ``more`` is true."""

    events: list[dict[str, Any]]
    cursor: int
    more: bool = False
    #: Changes when the server's database is restored from a backup: a kiosk holding another
    #: epoch's cursor pulls the roster again from 0 (applying it twice changes nothing).
    epoch: str | None = None
    #: The highest cursor the server has given: a kiosk's cursor above it is from before a
    #: restore (caught even when the epoch was not renewed).
    max_cursor: int | None = None
    #: Families erased after ``?erasures_after=N`` ; None when the kiosk did not ask.
    erasures: list[ErasureNotice] | None = None
    erasure_cursor: int | None = None
    erasures_more: bool = False


class DeviceInfo(BaseModel):
    """``GET /api/v1/device``: who the bearer token belongs to.

    ``holds_up_to``: every seq of this device up to it is held (or written off);
    ``highest_seq``: the highest seq of this device the server knows at all. A kiosk whose own
    store is behind ``highest_seq`` (a new SD card, a restored backup) continues above it, so
    its new events never reuse a seq.
    """

    device_id: str
    site_id: str
    org_id: str
    holds_up_to: int
    highest_seq: int = 0


class SetupResponse(BaseModel):
    """``GET /api/v1/setup``: what a kiosk needs for the door, as the server holds it.

    ``timetable`` is the site's sessions (``kiosk.domain.timetable.SessionSlot.to_dict()``),
    None when the server holds none for the site (the kiosk keeps its own). ``risk`` is the
    organisation's current risk list (``kiosk.domain.risk.RiskList.to_dict()``), None when
    none was imported on the server or the kiosk already has that version.
    """

    org_id: str
    site_id: str
    timetable: list[dict[str, Any]] | None = None
    #: The version of the organisation's current list (None when none was imported).
    risk_version: str | None = None
    #: The list itself, left out when the kiosk said it has ``risk_version`` already
    #: (``?have_risk=v3-1a2b3c4d5e``): a list built from official data can hold 500k entries.
    risk: dict[str, Any] | None = None


GapKind = Literal["lost", "set_aside"]


class Gap(BaseModel):
    """Seqs ``from_seq``..``to_seq`` a kiosk cannot send (again).

    ``lost``: no longer on the kiosk (pruned after its retention window, recorded on a store
    that was replaced, or in an unreadable file); ``set_aside``: kept on the kiosk as refused
    (e.g. too large even alone). ``sessions`` names the sessions they were for, when known.
    """

    model_config = ConfigDict(extra="forbid")

    from_seq: StrictInt = Field(ge=1, le=MAX_SEQ)
    to_seq: StrictInt = Field(ge=1, le=MAX_SEQ)
    kind: GapKind
    detail: Annotated[StrictStr, Field(max_length=500)] = ""
    sessions: list[Annotated[StrictStr, Field(max_length=_TEXT_MAX)]] = Field(
        default_factory=list, max_length=500
    )
    events: StrictInt | None = Field(default=None, ge=0, le=_COUNT_MAX)

    @model_validator(mode="after")
    def _ordered(self) -> Gap:
        if self.to_seq < self.from_seq:
            raise ValueError(f"to_seq {self.to_seq} is below from_seq {self.from_seq}")
        return self


class GapReport(BaseModel):
    """``POST /api/v1/gaps``: the kiosk writes these seqs off; the server records them (with
    the sessions, for the registers) and counts them as held, so ``holds_up_to`` can pass."""

    gaps: list[Gap] = Field(max_length=MAX_BATCH_EVENTS)


class GapAnswer(BaseModel):
    server_holds_up_to: dict[str, int] = {}


class Problem(BaseModel):
    """A whole-request error (401, 403, 413, 422...)."""

    detail: Any


# -- kiosk health ----------------------------------------------------------------------------
#: Distinct refusal reasons one status report carries at most, and the length of each.
MAX_STATUS_REASONS = 20
MAX_REASON_CHARS = 300
#: A software version as a short token (``0.1.0``, ``1.2.dev3+g1a2b3c``); anything else is
#: sent as ``unknown``.
VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z.+_!-]{0,63}$"
#: Text without control characters, as a JSON Schema pattern too (PostgreSQL refuses NUL).
_NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_LAST = _LATEST - timedelta(microseconds=1)


def _kiosk_time(value: Any) -> datetime:
    """A time by the kiosk's clock (RFC 3339, with an offset), in UTC.

    Unlike an event's ``at``, a far-off time is not refused but held within the years the
    server stores (1970 to 9998): a status report is how staff learn that a kiosk's clock is
    wrong, so it must get through.
    """
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 timestamp such as 2026-11-23T09:41:00Z")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not a real date and time") from None
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # the first or last day there is, and an offset past it
        return _EARLIEST if parsed.year < 1970 else _LAST
    return min(max(utc, _EARLIEST), _LAST)


KioskTime = Annotated[datetime, BeforeValidator(_kiosk_time)]

ReasonText = Annotated[
    StrictStr, Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=_NO_CONTROL)
]


class RejectedReason(BaseModel):
    """One reason the kiosk holds events aside for, and how many it holds for it."""

    model_config = ConfigDict(extra="forbid")

    reason: ReasonText
    count: StrictInt = Field(ge=1, le=_COUNT_MAX)


class StatusReport(BaseModel):
    """``POST /api/v1/status``: how the kiosk is, sent after each sync pass for the
    organisation's kiosk health panel (DESIGN.md, The seams: Status).

    The server cannot see a kiosk's outbox or clock, so the kiosk says: how many events wait
    and since when (by its own clock, compared with ``sent_at`` so a wrong clock does not make
    a backlog look old or new), how many the server refused and why, whether the kernel
    says its clock is synchronised, and which software it runs. Every count and string is
    bounded; times far off are held within range, not refused (see ``_kiosk_time``); unknown
    keys are ignored, so a newer kiosk may say more to an older server.
    """

    model_config = ConfigDict(extra="ignore")

    sent_at: KioskTime
    waiting: StrictInt = Field(ge=0, le=_COUNT_MAX)
    oldest_waiting_at: KioskTime | None = None
    rejected: StrictInt = Field(ge=0, le=_COUNT_MAX)
    rejected_reasons: list[RejectedReason] = Field(
        default_factory=list, max_length=MAX_STATUS_REASONS
    )
    #: Events the server holds a different copy of (a changed copy of a known event).
    conflicts: StrictInt = Field(default=0, ge=0, le=_COUNT_MAX)
    clock_synced: StrictBool
    software_version: Annotated[StrictStr, Field(max_length=64, pattern=VERSION_PATTERN)]


class StatusAnswer(BaseModel):
    """The server's answer to a status report: when it took it (its own clock)."""

    received_at: str


def _wire_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def fit_reason(text: str) -> str:
    """A refusal reason as a status report may carry it: one line of valid text, at most
    ``MAX_REASON_CHARS`` long (the full reason stays on the kiosk)."""
    clean = _CONTROL.sub(" ", str(text)).encode("utf-8", "replace").decode("utf-8").strip()
    if not clean:
        return "(no reason given)"
    if len(clean) > MAX_REASON_CHARS:
        return clean[: MAX_REASON_CHARS - 3] + "..."
    return clean


def summarise_reasons(reasons: Iterable[str]) -> list[RejectedReason]:
    """The distinct reasons with their counts, most frequent first; past
    ``MAX_STATUS_REASONS`` the rest are counted together, so the counts still add up."""
    counts: dict[str, int] = {}
    for reason in reasons:
        key = fit_reason(reason)
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if len(ordered) > MAX_STATUS_REASONS:
        kept, rest = ordered[: MAX_STATUS_REASONS - 1], ordered[MAX_STATUS_REASONS - 1 :]
        others = f"... and {len(rest)} other reasons (see kiosk-admin rejected on the kiosk)"
        ordered = [*kept, (others, sum(n for _r, n in rest))]
    return [RejectedReason(reason=r, count=min(n, _COUNT_MAX)) for r, n in ordered]


def status_report(
    *,
    sent_at: datetime,
    waiting: int,
    oldest_waiting_at: datetime | None,
    rejected_reasons: Sequence[str],
    clock_synced: bool,
    software_version: str,
    conflicts: int = 0,
) -> StatusReport:
    """A status report from the kiosk's plain facts, fitted to the bounds the server checks
    (so a kiosk with a huge backlog or odd reasons still reports instead of being refused)."""
    version = software_version if re.fullmatch(VERSION_PATTERN, software_version) else "unknown"
    return StatusReport.model_validate(
        {
            "sent_at": _wire_time(sent_at),
            "waiting": max(0, min(waiting, _COUNT_MAX)),
            "oldest_waiting_at": _wire_time(oldest_waiting_at) if oldest_waiting_at else None,
            "rejected": max(0, min(len(rejected_reasons), _COUNT_MAX)),
            "rejected_reasons": [r.model_dump() for r in summarise_reasons(rejected_reasons)],
            "conflicts": max(0, min(conflicts, _COUNT_MAX)),
            "clock_synced": bool(clock_synced),
            "software_version": version,
        }
    )
