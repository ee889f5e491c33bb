"""The words people use: organisations' and sites' display names, and reason codes as words.

Ids (``spark``, ``chase-terrace``) stay what the kiosks, URLs and CSV columns use; people read
names ("Spark CIC", "Chase Terrace") in titles, pages and PDFs. Without a name the
id is shown, so nothing is ever blank.

Reason codes (``postcode``, ``young_parent``) stay codes in the CSVs machines read, which also
get a ``reason_words`` column; pages and PDFs show only the words.

    >>> reason_words(("sector", "young_parent"))
    'lives in a risk-area postcode sector; young parent'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from central.db import CentralDB, orgs, sites
from central.reports._sql import reading

#: What each reason an attendance qualified for means (kiosk.domain.risk): the place the
#: family lives first, then the family's own circumstances.
REASON_WORDS: dict[str, str] = {
    "postcode": "lives in a risk-area postcode",
    "sector": "lives in a risk-area postcode sector",
    "district": "lives in a risk-area postcode district",
    "young_parent": "young parent",
    "single_parent": "single parent",
    "sen": "special educational needs",
}

#: The same, short enough for a table's narrow column (the invoice PDF's lines).
SHORT_REASON_WORDS: dict[str, str] = {
    "postcode": "risk-area postcode",
    "sector": "risk-area sector",
    "district": "risk-area district",
    "young_parent": "young parent",
    "single_parent": "single parent",
    "sen": "special needs",
}
assert set(SHORT_REASON_WORDS) == set(REASON_WORDS)


def reason_word(code: str, short: bool = False) -> str:
    """One code in words; a code this server does not know is shown as it is."""
    words = SHORT_REASON_WORDS if short else REASON_WORDS
    return words.get(code, code.replace("_", " "))


def reason_words(codes: Iterable[str], short: bool = False) -> str:
    return "; ".join(reason_word(c, short) for c in codes)


@dataclass(frozen=True)
class Names:
    """Display names of organisations and of their sites, as read once for a report."""

    orgs: dict[str, str] = field(default_factory=dict)
    sites: dict[tuple[str, str], str] = field(default_factory=dict)

    def org(self, org_id: str) -> str:
        return self.orgs.get(org_id) or org_id

    def site(self, org_id: str, site_id: str) -> str:
        return self.sites.get((org_id, site_id)) or site_id

    def sites_of(self, org_id: str) -> dict[str, str]:
        """``org_id``'s site names by site id (sites without a name left out)."""
        return {site: name for (org, site), name in self.sites.items() if org == org_id}


def read_names(db: CentralDB, org_id: str | None = None) -> Names:
    """The names of ``org_id`` (every organisation if None) and its sites."""
    org_q = select(orgs.c.org_id, orgs.c.name).where(orgs.c.name.is_not(None))
    site_q = select(sites.c.org_id, sites.c.site_id, sites.c.name).where(sites.c.name.is_not(None))
    if org_id is not None:
        org_q = org_q.where(orgs.c.org_id == org_id)
        site_q = site_q.where(sites.c.org_id == org_id)
    with reading(db) as conn:
        org_names = {r.org_id: r.name for r in conn.execute(org_q)}
        site_names = {(r.org_id, r.site_id): r.name for r in conn.execute(site_q)}
    return Names(org_names, site_names)
