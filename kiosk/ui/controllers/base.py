"""What every controller shares: the app it serves and the app's plumbing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.domain.desk import DoorDesk
    from kiosk.ui.kioskapp import KioskApp
    from kiosk.ui.screens.base import KioskScreen


class Controller:
    """One job of the app. It reaches the desk, the store and the screens through the app, and
    runs what touches the store on the app's worker thread (``submit``)."""

    def __init__(self, app: KioskApp) -> None:
        self.app = app

    @property
    def desk(self) -> DoorDesk:
        return self.app.desk

    @property
    def store(self) -> Any:
        return self.app.store

    def now(self) -> datetime:
        return self.app.now()

    def monotonic(self) -> float:
        return self.app.monotonic()

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.app.submit(fn, on_done, on_error)

    def screen(self, name: str) -> Any:
        return self.app.screen(name)

    @property
    def current(self) -> KioskScreen:
        return self.app.current

    def go(self, name: str) -> None:
        self.app.go(name)
