"""Which device and site this kiosk is: kept in ``device.json`` in the data folder.

Set by ``kiosk-admin enrol`` (the server issues the token for this identity), or from kiosk.toml's
``[device]`` when the kiosk unit first starts. Until then the configured ``[device]`` is the
kiosk's name (callers pass it as ``default``); only with no configuration at all does a kiosk call
itself after its host name at an unassigned site, which is enough for demo and tests.
Whatever name events were recorded under before, enrolment re-homes the ones the server does
not hold yet (``LocalStore.rehome``), and a running app picks the new identity up at its next
event (:class:`IdentityFile`), so no tap is refused for the order an admin did things in.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from pathlib import Path

from kiosk.domain.errors import ValidationError
from kiosk.domain.events import DeviceIdentity
from kiosk.store.atomic import atomic_write

IDENTITY_FILE = "device.json"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ValidationError(
            f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return value


def load_identity(data_dir: Path, default: DeviceIdentity | None = None) -> DeviceIdentity:
    """The identity in ``device.json``; without one, ``default`` (the configured ``[device]``),
    else one made from the host name (a demo or test folder with no configuration)."""
    path = Path(data_dir) / IDENTITY_FILE
    if not path.exists():
        if default is not None:
            return default
        host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:50] or "kiosk"
        return DeviceIdentity(f"kiosk-{host}", "unassigned")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return DeviceIdentity(
            check_id(raw["device_id"], "device id"), check_id(raw["site_id"], "site id")
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{path}: not a valid device identity file ({exc})") from exc


def is_enrolled(data_dir: Path) -> bool:
    """Whether ``kiosk-admin enrol`` has named this kiosk (``device.json`` exists)."""
    return (Path(data_dir) / IDENTITY_FILE).exists()


class IdentityFile:
    """The identity in ``device.json``, read again whenever the file changes.

    The app holds one for its whole life and asks it at every event, so an admin's
    ``kiosk-admin enrol`` while the app runs takes effect at the next tap, with no restart.
    Until the folder is enrolled it answers ``default`` (the demo's identity), or the host
    name's. A file that cannot be read keeps the last good identity (the error is logged by
    ``kiosk-admin doctor``, and re-homing puts the events right once it is fixed).

        >>> identity = IdentityFile(Path("/var/lib/doorstep"))   # doctest: +SKIP
        >>> identity().device_id                                  # doctest: +SKIP
        'kiosk-1'
    """

    def __init__(self, data_dir: Path, default: DeviceIdentity | None = None) -> None:
        self.path = Path(data_dir) / IDENTITY_FILE
        self.data_dir = Path(data_dir)
        self.default = default
        self._seen: tuple[int, int, int] | None = None
        self._identity: DeviceIdentity | None = None

    def __call__(self) -> DeviceIdentity:
        try:
            st = self.path.stat()
        except OSError:
            stamp = None
        else:
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._identity is not None and stamp == self._seen:
            return self._identity
        if stamp is None and self.default is not None:
            identity = self.default
        else:
            try:
                identity = load_identity(self.data_dir)
            except ValidationError:
                if self._identity is not None:
                    return self._identity
                raise
        self._identity, self._seen = identity, stamp
        return identity


IdentitySource = Callable[[], DeviceIdentity]


def save_identity(data_dir: Path, identity: DeviceIdentity) -> None:
    check_id(identity.device_id, "device id")
    check_id(identity.site_id, "site id")
    path = Path(data_dir) / IDENTITY_FILE
    text = json.dumps({"device_id": identity.device_id, "site_id": identity.site_id}, indent=2)
    atomic_write(path, (text + "\n").encode("utf-8"))
