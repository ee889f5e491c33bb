"""Risk list versions: ``risk/v<N>.json`` each, and ``risk/current.json`` naming the one in force.

Every import is a new version (last number + 1, never a number given before, even one set
aside); old versions are kept so that a past month's invoice can be reproduced. At open the
newest readable version is put in force; older versions are checked when they are read.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime

from kiosk.domain.errors import KioskError
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList, RiskSource
from kiosk.store.core import StoreCore, names_in
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError, StoreError
from kiosk.store.layout import RISK_DIR, parse_risk_name


class RiskVersions:
    """The stored risk list versions and which one is in force."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self._versions: dict[int, RiskList] = {}

    def risk_list(self) -> RiskList:
        """The risk list in force (``RiskList()``, version ``v0-none``, when none was imported)."""
        with self.core.mutex:
            self.core.ensure_open()
            for _ in range(8):
                try:
                    number = self.current_number()
                    return self.version(number) if number else RiskList()
                except CorruptFileError as exc:
                    with self.core.locked():
                        if exc.path == self.core.risk_current_file.path:
                            self.core.quarantine.set_aside(
                                self.core.risk_current_file,
                                exc.reason,
                                "The newest readable list is used.",
                            )
                        else:
                            self.quarantine_version(number, exc.reason, roll=False)
                        self.check()
            raise StoreError("no readable risk list could be found")

    def save_risk_list(
        self,
        areas: frozenset[RiskArea],
        source: str,
        at: datetime,
        *,
        rule: str = "",
        sources: Sequence[RiskSource] = (),
        number: int | None = None,
    ) -> RiskList:
        """Store a new version (last number + 1) and put it in force; old versions are kept.

        ``rule`` and ``sources`` record how a list built from official data was chosen, and
        from which files (``kiosk.lsoa_import``). ``number`` asks for the server's version
        number (a list pulled from the server), used when no version here has it or a later one.
        """
        self.core.must_write("save_risk_list")
        with self.core.locked():
            known = self.used_numbers()
            number_next = max([self.current_number(), *known], default=0) + 1
            number = number if number is not None and number >= number_next else number_next
            risk = RiskList(
                number=number,
                areas=frozenset(areas),
                created_at=at,
                source=source,
                rule=rule,
                sources=tuple(sources),
            )
            version = AtomicJSONStorage(
                self.core.layout.risk_version(number), overlay=self.core.overlay
            )
            version.write({"risk": {"1": risk.to_dict()}})
            version.close()
            self._versions[number] = risk
            self.write_current(number)
            return risk

    def risk_history(self) -> list[RiskList]:
        """Every stored version, oldest first."""
        with self.core.mutex:
            self.core.ensure_open()
            out = []
            for number in self.numbers():
                try:
                    out.append(self.version(number))
                except CorruptFileError as exc:
                    with self.core.locked():
                        self.quarantine_version(number, exc.reason)
            return out

    def numbers(self) -> list[int]:
        """The versions on disk (readable or not), oldest first."""
        numbers = [parse_risk_name(n) for n in names_in(self.core.layout.risk)]
        found = sorted(n for n in numbers if n is not None)
        if self.core.overlay is not None:  # read-only: those set aside are gone
            found = [
                n for n in found if not self.core.overlay.hides(self.core.layout.risk_version(n))
            ]
        return found

    def used_numbers(self) -> list[int]:
        """Every version number ever given, quarantined ones included: never given twice."""
        quarantined = []
        for name in os.listdir(self.core.layout.quarantine):
            _, sep, rest = name.partition(f"--{RISK_DIR}--")
            number = parse_risk_name(rest) if sep else None
            if number is not None:
                quarantined.append(number)
        return self.numbers() + quarantined

    def current_number(self) -> int:
        data = self.core.risk_current_file.peek()
        doc = (data or {}).get("current", {}).get("1")
        if doc is None:
            return 0
        try:
            return int(doc["number"])
        except (KeyError, TypeError, ValueError):
            raise CorruptFileError(
                self.core.risk_current_file.path, "no version number in it"
            ) from None

    def write_current(self, number: int) -> None:
        self.core.risk_current_file.write({"current": {"1": {"number": number}}})

    def version(self, number: int) -> RiskList:
        known = self._versions.get(number)
        if known is not None:
            return known
        path = self.core.layout.risk_version(number)
        storage = AtomicJSONStorage(path, create_dirs=False, overlay=self.core.overlay)
        try:
            data = storage.peek()
        finally:
            storage.close()
        if data is None:
            raise CorruptFileError(path, "the file is missing")
        try:
            risk = RiskList.from_dict(data["risk"]["1"])
        except (KeyError, TypeError, ValueError, KioskError) as exc:
            raise CorruptFileError(path, f"the risk list cannot be read ({exc})") from None
        if risk.number != number:
            raise CorruptFileError(path, f"it holds version {risk.number}, not {number}")
        self._versions[number] = risk
        return risk

    def check(self) -> None:
        """At open: the newest readable version is the one in force.

        Versions are read newest first and only until one reads well: a list built from LSOA
        data holds about half a million postcodes and a kiosk keeps every version, so reading
        them all would make opening the store grow with history. Older versions are checked
        (and quarantined if damaged) when ``risk_history`` reads them.
        """
        best = 0
        for number in sorted(self.numbers(), reverse=True):
            try:
                self.version(number)
            except CorruptFileError as exc:
                self.quarantine_version(number, exc.reason, roll=False)
                continue
            best = number
            break
        try:
            current = self.current_number()
        except CorruptFileError as exc:
            self.core.quarantine.set_aside(
                self.core.risk_current_file, exc.reason, "The newest readable risk list is used."
            )
            current = -1
        if current != best:
            self.write_current(best)
            if current > best:
                self.core.notes.append(
                    f"risk list v{current} was unreadable; v{best} is in force instead"
                    if best
                    else f"risk list v{current} was unreadable; no risk list is in force"
                )

    def quarantine_version(self, number: int, reason: str, roll: bool = True) -> None:
        with self.core.locked():
            storage = AtomicJSONStorage(
                self.core.layout.risk_version(number), overlay=self.core.overlay
            )
            self._versions.pop(number, None)
            self.core.quarantine.set_aside(
                storage,
                reason,
                "Attendances keep the version they recorded; the newest readable list is used.",
            )
            if roll:
                self.check()
