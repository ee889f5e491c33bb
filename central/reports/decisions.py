"""The incentive decision for attendances typed in from a paper register (pluggable).

At the door the kiosk decides with its own risk list and records the decision in the event.
A paper register is typed in later on the server, so the server decides, and records what it
decided with, exactly like a kiosk would (``qualifies``, ``reasons``, ``risk_version``).

Providers are tried in order (:data:`PROVIDERS`); the first that returns a decider wins:

- the organisation's newest risk list on the server, when the server has one
  (:func:`central.setup_data.risk_list`), exactly as a kiosk would decide with it;
- otherwise :class:`ThematicOnly`: the family's recorded thematic criteria (young or single
  parent, special educational needs) and no postcode check, recorded as risk version
  ``v0-none``. The import says so in its output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from central.db import CentralDB
from kiosk.domain.families import THEMATIC_CRITERIA, Family
from kiosk.domain.risk import NO_RISK_LIST, IncentiveDecision, RiskList


class PaperDecider(Protocol):
    """Decides whether a family's attendance qualifies, and says how (for the output)."""

    @property
    def description(self) -> str: ...

    def decide(self, family: Family) -> IncentiveDecision: ...


@dataclass(frozen=True)
class RiskListDecider:
    """The server's current risk list for the organisation, as the kiosk would use it."""

    risk_list: RiskList

    @property
    def description(self) -> str:
        return (
            f"decided with the organisation's risk list {self.risk_list.version} on the server "
            "(postcode, sector, district) and the families' recorded thematic criteria"
        )

    def decide(self, family: Family) -> IncentiveDecision:
        return self.risk_list.decide(family)


@dataclass(frozen=True)
class ThematicOnly:
    """No risk list on the server: the recorded thematic criteria alone."""

    @property
    def description(self) -> str:
        return (
            "no risk list on the server: qualifies from the families' recorded thematic criteria "
            f"only ({', '.join(THEMATIC_CRITERIA)}); postcodes were not checked "
            f"(risk version {NO_RISK_LIST})"
        )

    def decide(self, family: Family) -> IncentiveDecision:
        reasons = tuple(c for c in THEMATIC_CRITERIA if c in family.criteria)
        return IncentiveDecision(bool(reasons), reasons, NO_RISK_LIST)


Provider = Callable[[CentralDB, str], PaperDecider | None]


def server_risk_list(db: CentralDB, org_id: str) -> PaperDecider | None:
    """The organisation's newest risk list on the server (``kiosk-central risk import``)."""
    try:
        from central.setup_data import risk_list  # risk lists held by the server
    except ImportError:
        return None
    risk: Any = risk_list(db, org_id)
    if risk is None or getattr(risk, "number", 0) == 0:
        return None
    return RiskListDecider(risk)


#: Tried in order; append (or insert) a provider to plug in another source of decisions.
PROVIDERS: list[Provider] = [server_risk_list]


def paper_decider(db: CentralDB, org_id: str) -> PaperDecider:
    for provider in PROVIDERS:
        decider = provider(db, org_id)
        if decider is not None:
            return decider
    return ThematicOnly()
