"""Which device and site this kiosk is: kept in ``device.json`` in the data folder.

Set by ``kiosk-admin enrol`` (the server issues the token for this identity); until then a kiosk
calls itself after its host name at an unassigned site, which is enough for demo and tests.
"""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

from kiosk.domain.errors import ValidationError
from kiosk.domain.events import DeviceIdentity

IDENTITY_FILE = "device.json"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ValidationError(
            f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return value


def load_identity(data_dir: Path) -> DeviceIdentity:
    path = Path(data_dir) / IDENTITY_FILE
    if not path.exists():
        host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:50] or "kiosk"
        return DeviceIdentity(f"kiosk-{host}", "unassigned")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return DeviceIdentity(
            check_id(raw["device_id"], "device id"), check_id(raw["site_id"], "site id")
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{path}: not a valid device identity file ({exc})") from exc


def save_identity(data_dir: Path, identity: DeviceIdentity) -> None:
    check_id(identity.device_id, "device id")
    check_id(identity.site_id, "site id")
    path = Path(data_dir) / IDENTITY_FILE
    tmp = path.with_suffix(".tmp")
    text = json.dumps({"device_id": identity.device_id, "site_id": identity.site_id}, indent=2)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
