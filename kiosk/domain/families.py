"""Families (members), their children and their cards: the few facts the door needs.

A family record holds only what the door uses (DESIGN.md; issue on data protection): a greeting
name, the postcode that the incentive decision needs, the thematic criteria the family consented
to record, the children's first names and month of birth, and how they heard of the organisation.
Every family gets the same card; nothing here is ever shown at the door except names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from kiosk.domain.errors import ValidationError
from kiosk.domain.ids import new_child_id, new_family_id
from kiosk.domain.postcodes import normalise_postcode

#: Thematic criteria a family may consent to have recorded (reason codes in decisions).
THEMATIC_CRITERIA: tuple[str, ...] = ("young_parent", "single_parent", "sen")

#: How a family first heard of the organisation (the reach report groups by these).
HEARD_FROM: tuple[str, ...] = (
    "health_visitor",
    "birth_registration",
    "leaflet",
    "friend",
    "social_media",
    "school_or_nursery",
    "other",
)

_MAX_NAME = 40
#: Children one family may have on record: room for the biggest families, and a bound the server
#: holds every kiosk to (one attendance cannot list more).
MAX_CHILDREN = 30
_BIRTH_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def clean_name(text: str, what: str = "name") -> str:
    """A trimmed, single-spaced name, or a ValidationError saying what is wrong with it."""
    if not isinstance(text, str):
        raise ValidationError(f"{what} must be text")
    name = " ".join(text.split())
    if not name:
        raise ValidationError(f"{what} is empty: type the name the family likes to be greeted by")
    if len(name) > _MAX_NAME:
        raise ValidationError(f"{what} {name[:20]!r}... is longer than {_MAX_NAME} characters")
    if any(not (ch.isprintable()) for ch in name):
        raise ValidationError(f"{what} {name!r} contains a control character")
    return name


def parse_birth_month(text: str | None, today: date | None = None) -> str | None:
    """``YYYY-MM`` (or None), checked to be a real month not in the future."""
    if text is None or text == "":
        return None
    m = _BIRTH_MONTH.match(text.strip())
    if not m:
        raise ValidationError(f"month of birth {text!r} must look like 2024-03 (year-month)")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValidationError(f"month of birth {text!r}: month must be 01 to 12")
    if year < 1990:
        raise ValidationError(f"month of birth {text!r}: year looks wrong")
    if today is not None and (year, month) > (today.year, today.month):
        raise ValidationError(f"month of birth {text!r} is in the future")
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class Child:
    """A child of a family: a first name for the welcome screen and a month of birth."""

    child_id: str
    first_name: str
    born: str | None = None  # "YYYY-MM"

    def to_dict(self) -> dict[str, Any]:
        return {"child_id": self.child_id, "first_name": self.first_name, "born": self.born}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Child:
        return cls(data["child_id"], data["first_name"], data.get("born"))


@dataclass(frozen=True)
class Family:
    """A member family. ``criteria`` holds thematic reason codes recorded with consent."""

    family_id: str
    greeting_name: str
    postcode: str
    children: tuple[Child, ...] = ()
    criteria: frozenset[str] = field(default_factory=frozenset)
    consent_date: date | None = None
    heard_from: str | None = None
    adults: int = 1
    language: str | None = None

    def child(self, child_id: str) -> Child | None:
        return next((c for c in self.children if c.child_id == child_id), None)

    def child_by_name(self, first_name: str) -> Child | None:
        wanted = first_name.strip().casefold()
        return next((c for c in self.children if c.first_name.casefold() == wanted), None)

    def with_child(self, first_name: str, born: str | None = None) -> Family:
        """This family with one more child (a new baby, or a child added at the door)."""
        if len(self.children) >= MAX_CHILDREN:
            raise ValidationError(
                f"a family can have at most {MAX_CHILDREN} children on record; this one has "
                f"{len(self.children)}"
            )
        child = Child(
            new_child_id(), clean_name(first_name, "child's name"), parse_birth_month(born)
        )
        return replace(self, children=(*self.children, child))

    def to_dict(self) -> dict[str, Any]:
        return {
            "family_id": self.family_id,
            "greeting_name": self.greeting_name,
            "postcode": self.postcode,
            "children": [c.to_dict() for c in self.children],
            "criteria": sorted(self.criteria),
            "consent_date": self.consent_date.isoformat() if self.consent_date else None,
            "heard_from": self.heard_from,
            "adults": self.adults,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Family:
        consent = data.get("consent_date")
        return cls(
            family_id=data["family_id"],
            greeting_name=data["greeting_name"],
            postcode=data["postcode"],
            children=tuple(Child.from_dict(c) for c in data.get("children", ())),
            criteria=frozenset(data.get("criteria", ())),
            consent_date=date.fromisoformat(consent) if consent else None,
            heard_from=data.get("heard_from"),
            adults=int(data.get("adults", 1)),
            language=data.get("language"),
        )


def new_family(
    greeting_name: str,
    postcode: str,
    children: Iterable[tuple[str, str | None]] = (),
    criteria: Iterable[str] = (),
    consent_date: date | None = None,
    heard_from: str | None = None,
    adults: int = 1,
    language: str | None = None,
    today: date | None = None,
) -> Family:
    """Validate a registration and make the family record, with fresh ids.

    Thematic criteria need a consent date: they are special-category hints that may only be
    recorded with the family's agreement.
    """
    crit = frozenset(criteria)
    unknown = crit - set(THEMATIC_CRITERIA)
    if unknown:
        raise ValidationError(
            f"unknown criteria {sorted(unknown)}; choose from {', '.join(THEMATIC_CRITERIA)}"
        )
    if crit and consent_date is None:
        raise ValidationError("thematic criteria can only be recorded with the family's consent")
    if heard_from is not None and heard_from not in HEARD_FROM:
        raise ValidationError(
            f"'how they heard' {heard_from!r} is not one of: {', '.join(HEARD_FROM)}"
        )
    if not 1 <= adults <= 6:
        raise ValidationError(f"adults must be between 1 and 6, not {adults}")
    kids = tuple(
        Child(new_child_id(), clean_name(name, "child's name"), parse_birth_month(born, today))
        for name, born in children
    )
    if len(kids) > MAX_CHILDREN:
        raise ValidationError(
            f"a family can have at most {MAX_CHILDREN} children on record, not {len(kids)}"
        )
    return Family(
        family_id=new_family_id(),
        greeting_name=clean_name(greeting_name, "greeting name"),
        postcode=normalise_postcode(postcode),
        children=kids,
        criteria=crit,
        consent_date=consent_date,
        heard_from=heard_from,
        adults=adults,
        language=language,
    )


@dataclass(frozen=True)
class Card:
    """A membership card: its UID (upper-case hex) and the family it belongs to."""

    uid: str
    family_id: str
    active: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "family_id": self.family_id, "active": self.active}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Card:
        return cls(data["uid"], data["family_id"], bool(data.get("active", True)))
