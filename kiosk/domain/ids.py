"""Identifiers made on the kiosk that stay unique across every kiosk of an organisation.

Families and children are registered at whichever door they first arrive at, often offline, so
their ids cannot come from a central counter. A random 60-bit value in Crockford base32 is short
enough for a volunteer to read aloud and collides with negligible probability at county scale.
"""

from __future__ import annotations

import secrets
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _random_base32(length: int) -> str:
    return "".join(secrets.choice(_CROCKFORD) for _ in range(length))


def new_family_id() -> str:
    """A family reference such as ``F-7K3M9QX2AB``."""
    return "F-" + _random_base32(10)


def new_child_id() -> str:
    """A child reference such as ``C-4D9PZ0R1KT``."""
    return "C-" + _random_base32(10)


def new_event_id() -> str:
    """A UUID4, the key the server deduplicates on (DESIGN.md, Events)."""
    return str(uuid.uuid4())
