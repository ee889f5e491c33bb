"""Erasing a family (UK GDPR, right to erasure): the rules both the server and the kiosks follow.

When a family asks to be forgotten, the central server removes their record and replaces every
reference to them in the attendances it keeps with an anonymous token, so that past invoices
still add up. Kiosks learn of it through the roster and do the same to their own
store. Both sides must turn the same family and child ids into the same tokens, or an event a
kiosk scrubbed would not line up with the server's copy: these pure functions are that rule.

Nobody keeps the family id after erasure. The server keeps only ``family_hash``: a salted
SHA-256 of the id (one random salt per organisation), enough to recognise a late event that
still carries the id, and useless to anyone who does not already have the id.

    >>> e = Erasure(family_id="F-7K3M9QX2AB", token="erased-0123456789abcdef", salt="s4lt")
    >>> e.child("C-4D9PZ0R1KT").startswith("erased-0123456789abcdef-")
    True
    >>> scrub_event({"type": "card.assigned", "data": {"uid": "04A23B1C",
    ...     "family_id": "F-7K3M9QX2AB"}}, e)["data"]
    {'uid': '00000000', 'family_id': 'erased-0123456789abcdef'}
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Every anonymous token starts with this; no real family or child id does.
ERASED_PREFIX = "erased-"
#: The card uid an erased family's card events carry (valid on the wire, belongs to nobody).
SCRUBBED_UID = "00000000"
#: What replaces an erased family's text inside free text (reasons, notes).
REDACTED = "[erased]"

#: The envelope of an event, kept as it was (seq and ids keep sync bookkeeping whole).
_ENVELOPE = ("event_id", "seq", "type", "device_id", "site_id", "at", "clock_synced")
#: What an attendance event keeps besides the family and children: the counts and decision.
_ATTENDANCE_KEEP = (
    "session",
    "session_key",
    "attendance_id",
    "adults",
    "method",
    "volunteer",
    "qualifies",
    "reasons",
    "risk_version",
    "paper",
)


def new_token() -> str:
    """A fresh anonymous token for an erased family: ``erased-`` and 64 random bits."""
    return ERASED_PREFIX + secrets.token_hex(8)


def new_salt() -> str:
    return secrets.token_hex(16)


def family_hash(salt: str, family_id: str) -> str:
    """The salted hash that stands for an erased family's id (hex SHA-256)."""
    return hashlib.sha256(f"{salt}:family:{family_id}".encode()).hexdigest()


def is_erased(value: object) -> bool:
    """Whether ``value`` is an anonymous token (a family or child id after erasure)."""
    return isinstance(value, str) and value.startswith(ERASED_PREFIX)


@dataclass(frozen=True)
class Erasure:
    """One erased family, as known while erasing: its id, its token and the salt."""

    family_id: str
    token: str
    salt: str

    def child(self, child_id: str) -> str:
        """The stable token of one of the family's children (the same on every side)."""
        if is_erased(child_id):
            return child_id
        digest = hashlib.sha256(f"{self.salt}:child:{child_id}".encode()).hexdigest()
        return f"{self.token}-{digest[:10]}"

    @property
    def ids(self) -> tuple[str, str]:
        """The values that name this family in an event: its id, or its token already."""
        return (self.family_id, self.token)


def event_family(raw: Mapping[str, Any]) -> str | None:
    """The family an event (its JSON form) is about, or None."""
    data = raw.get("data") if isinstance(raw, Mapping) else None
    if not isinstance(data, Mapping):
        return None
    family = data.get("family")
    value = family.get("family_id") if isinstance(family, Mapping) else data.get("family_id")
    return value if isinstance(value, str) else None


def scrub_event(raw: Mapping[str, Any], erasure: Erasure) -> dict[str, Any]:
    """The event with everything personal about the family taken out.

    Kept: the envelope (ids, seq, type, device, site, time), and for attendances the session,
    the counts and the incentive decision, with the family and children as tokens. Member
    events keep only a blank family under the token; card events a uid that belongs to nobody.
    Anything else in ``data`` is dropped (a newer kiosk may have sent more). Scrubbing twice
    gives the same result.
    """
    out = {key: raw[key] for key in _ENVELOPE if key in raw}
    data = raw.get("data")
    data = data if isinstance(data, Mapping) else {}
    kind = str(raw.get("type", ""))
    if kind.startswith("member."):
        family = data.get("family") if isinstance(data.get("family"), Mapping) else {}
        adults = family.get("adults", 1)
        out["data"] = {
            "family": {
                "family_id": erasure.token,
                "greeting_name": "",
                "postcode": "",
                "children": [],
                "criteria": [],
                "consent_date": None,
                "heard_from": None,
                "adults": adults if isinstance(adults, int) and not isinstance(adults, bool) else 1,
                "language": None,
            },
            "volunteer": data.get("volunteer"),
        }
    elif kind.startswith("card."):
        out["data"] = {"uid": SCRUBBED_UID, "family_id": erasure.token}
        if "volunteer" in data:
            out["data"]["volunteer"] = data.get("volunteer")
    else:
        kept = {key: data[key] for key in _ATTENDANCE_KEEP if key in data}
        kept["family_id"] = erasure.token
        kids = data.get("children")
        kept["children"] = [
            erasure.child(c) if isinstance(c, str) else erasure.child(str(c))
            for c in (kids if isinstance(kids, list) else [])
        ]
        out["data"] = kept
    return out


def redact(text: str, secrets_: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (ignoring case) replaced by ``[erased]``.

    For free text (a refusal's reason, a reviewer's note) that may quote a name or an id.
    Secrets shorter than two characters are left alone: they would eat ordinary words.
    """
    wanted = sorted({s for s in secrets_ if s and len(s) >= 2}, key=len, reverse=True)
    if not wanted:
        return text
    pattern = re.compile("|".join(re.escape(s) for s in wanted), re.IGNORECASE)
    return pattern.sub(REDACTED, text)
