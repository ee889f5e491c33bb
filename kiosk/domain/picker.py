"""The volunteer's family picker: enough on each row to tell two families apart, no more.

Two families can share a greeting name (two Aishas at one children's centre is ordinary), so
each row also carries the postcode *district* ("WS7": the outward part only, never the full
postcode, since the queue may see the screen), the children's first names, and whether the
family is already signed in to the session on now. Nothing here says whether a family
qualifies for anything (DESIGN.md, the stigma rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.desk import DoorDesk
from kiosk.domain.families import Family
from kiosk.domain.postcodes import PostcodeError, parse_postcode

#: Families a search shows at most (with nothing typed, the list holds every family).
SEARCH_LIMIT = 60


@dataclass(frozen=True)
class FamilyChoice:
    """One row of the picker."""

    family: Family
    #: The postcode district ("WS7"), or "" when the stored postcode cannot be read.
    district: str
    #: Signed in to the session on now (False when no session is on).
    already_in: bool

    @property
    def children(self) -> tuple[str, ...]:
        return tuple(c.first_name for c in self.family.children)


def postcode_district(postcode: str) -> str:
    """The outward part of a postcode (``WS7`` for ``WS7 1AA``); "" if it is not one."""
    try:
        return parse_postcode(postcode).district
    except (PostcodeError, TypeError, ValueError):
        return ""


def signed_in_now(desk: DoorDesk, at: datetime) -> frozenset[str]:
    """The family ids with an attendance at the session on at ``at`` (none if none is on)."""
    session = desk.session_now(at)
    if session is None:
        return frozenset()
    return frozenset(a.family_id for a in desk.store.attendances_in(session.key))


def _order(choice: FamilyChoice) -> tuple[str, str, tuple[str, ...], str]:
    # Same name: by district, then children, then id, so the rows stay put between searches.
    fam = choice.family
    kids = tuple(name.casefold() for name in choice.children)
    return (fam.greeting_name.casefold(), choice.district, kids, fam.family_id)


def family_choices(
    desk: DoorDesk, text: str, at: datetime, limit: int = SEARCH_LIMIT
) -> list[FamilyChoice]:
    """The picker's rows: every family, or the first ``limit`` that ``text`` finds, by name."""
    families = (
        desk.find_families(text, limit=limit) if text.strip() else list(desk.store.families())
    )
    inside = signed_in_now(desk, at)
    rows = [FamilyChoice(f, postcode_district(f.postcode), f.family_id in inside) for f in families]
    return sorted(rows, key=_order)
