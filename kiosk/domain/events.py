"""Events: every change the kiosk makes, as a durable, idempotent fact (DESIGN.md, Events).

The kiosk's tables (families, cards, today's register) are projections of these; the outbox is
the set of events the server has not yet acknowledged. ``seq`` is given by the store when the
event is written, so it is gap-free per device.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from kiosk.domain.errors import ValidationError
from kiosk.domain.ids import new_event_id

#: Every type of event, the one list (DESIGN.md, Events): the wire format's types and
#: ``EVENT_TYPES`` are derived from it.
EventType = Literal[
    "member.registered",
    "member.updated",
    "card.assigned",
    "card.revoked",
    "attendance.recorded",
    "attendance.amended",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
#: How a family was signed in: a card tap, a volunteer's entry, or a paper register typed in.
AttendanceMethod = Literal["card", "manual", "paper"]
ATTENDANCE_METHODS: tuple[str, ...] = get_args(AttendanceMethod)


def is_identity_refusal(reason: str) -> bool:
    """Whether the server refused an event only for the device or site it names (the words
    ``sync.protocol.validate_event`` uses): re-homing it to the enrolled identity puts it right."""
    return reason.startswith(("device_id: ", "site_id: ")) and " is not the " in reason


@dataclass(frozen=True)
class DeviceIdentity:
    """Which kiosk wrote an event: the device and the site it stands at."""

    device_id: str = "demo-kiosk"
    site_id: str = "demo-site"


@dataclass(frozen=True)
class Event:
    """One recorded change. ``at`` is timezone-aware UTC; ``seq`` is None until stored."""

    type: str
    at: datetime
    data: Mapping[str, Any]
    device_id: str
    site_id: str
    clock_synced: bool = True
    event_id: str = field(default_factory=new_event_id)
    seq: int | None = None

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValidationError(f"unknown event type {self.type!r}")
        if self.at.tzinfo is None:
            raise ValidationError("event time must carry a time zone")

    def with_seq(self, seq: int) -> Event:
        return replace(self, seq=seq)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: stored on the kiosk and sent on the wire (sync.protocol)."""
        return {
            "event_id": self.event_id,
            "seq": self.seq,
            "type": self.type,
            "device_id": self.device_id,
            "site_id": self.site_id,
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "clock_synced": self.clock_synced,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        at = datetime.fromisoformat(str(raw["at"]).replace("Z", "+00:00"))
        return cls(
            type=raw["type"],
            at=at,
            data=dict(raw["data"]),
            device_id=raw["device_id"],
            site_id=raw["site_id"],
            clock_synced=bool(raw.get("clock_synced", True)),
            event_id=raw["event_id"],
            seq=raw.get("seq"),
        )
