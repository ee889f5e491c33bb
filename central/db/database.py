""":class:`CentralDB`, the central database as the rest of the server uses it."""

from __future__ import annotations

from central.db.device_health import DeviceHealth
from central.db.enrolment import Enrolment
from central.db.kiosk_data import KioskData
from central.db.users import Users


class CentralDB(Enrolment, Users, KioskData, DeviceHealth):
    """The central database: enrolment, users, ingest, the roster, counts and kiosk health.

    Each part is its own module of :mod:`central.db` (:mod:`~central.db.enrolment`,
    :mod:`~central.db.users`, :mod:`~central.db.kiosk_data`, :mod:`~central.db.device_health`);
    they share :class:`~central.db.base.Database`: the engine, the schema, and the gates
    :meth:`~central.db.base.Database.reading` and :meth:`~central.db.base.Database.writing`.

        >>> db = CentralDB.open("sqlite:////tmp/doorstep-doctest.sqlite3")  # doctest: +SKIP
        >>> db.add_org("lichfield"); db.add_site("lichfield", "library")    # doctest: +SKIP
        >>> token = db.add_device("lichfield", "library", "kiosk-1")         # doctest: +SKIP
    """
