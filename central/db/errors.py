"""The errors the central database raises on purpose (their messages are for people)."""

from __future__ import annotations

from central import migrations


class CentralError(Exception):
    """Root of the errors the central server raises on purpose (messages are for people)."""


class AlreadyExists(CentralError):
    """An organisation, site, device or user that is already enrolled."""


class NotFound(CentralError, LookupError):
    """An organisation, site or device that is not enrolled."""


class WriteOffRefused(CentralError, ValueError):
    """A write-off of seqs the device cannot have issued (``central.claims``); ``index`` is
    the gap's place in the report."""

    def __init__(self, message: str, index: int = 0) -> None:
        super().__init__(message)
        self.index = index


class SchemaTooNew(CentralError):
    """The database was migrated by a newer server than this one."""


class SchemaBehind(CentralError):
    """The database is at an older revision than this server's: ``kiosk-central migrate``."""


def too_new(found: migrations.SchemaState) -> SchemaTooNew:
    return SchemaTooNew(
        f"the database is at schema revision {found.current} but this server only knows up to "
        f"{found.head}: upgrade doorstep-kiosk on the server"
    )
