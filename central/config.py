"""``/etc/doorstep-central/central.toml``: the server's settings in one validated place.

::

    [database]
    url = "sqlite:////var/lib/doorstep-central/central.sqlite3"   # or postgresql://...

    [server]
    host = "127.0.0.1"           # behind Caddy on the same machine (docs/central.md)
    port = 8700
    trusted_proxies = ["127.0.0.1", "::1"]   # whose X-Forwarded-For/-Proto are believed
    secret = "..."               # Prometheus sends it as a bearer token to read /metrics
    # tls_certfile = "/etc/doorstep-central/tls/server.pem"   # HTTPS without a proxy
    # tls_keyfile = "/etc/doorstep-central/tls/server.key"

    [backup]
    folder = "/var/backups/doorstep-central"
    keep_days = 14               # nightly backups older than this are deleted

Every key is checked when the file is read: an unknown key, a wrong type or a bad value stops
``kiosk-central`` with a message naming the key, so a typo never quietly means "the default".
Which file is read: ``--config FILE``, else ``$KIOSK_CENTRAL_CONFIG``, else
:data:`DEFAULT_CONFIG` when it exists; none at all is fine (a developer's laptop). Command-line
options override the file (``central.cli``).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from central.db import CentralError, default_database_url, normalise_url

DEFAULT_CONFIG = Path("/etc/doorstep-central/central.toml")
CONFIG_ENV = "KIOSK_CENTRAL_CONFIG"
DEFAULT_BACKUP_FOLDER = Path("/var/backups/doorstep-central")
DEFAULT_KEEP_DAYS = 14

_KEYS: dict[str, set[str]] = {
    "database": {"url"},
    "server": {"host", "port", "trusted_proxies", "secret", "tls_certfile", "tls_keyfile"},
    "backup": {"folder", "keep_days"},
}


class ConfigError(CentralError):
    """central.toml cannot be used: the message names the file and the key."""


@dataclass(frozen=True)
class CentralConfig:
    """What central.toml says; ``None`` where it says nothing (the command line decides)."""

    path: Path | None = None
    database_url: str | None = None
    host: str | None = None
    port: int | None = None
    trusted_proxies: str | None = None  # comma-joined, as uvicorn reads them
    secret: str | None = None
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    backup_folder: Path = DEFAULT_BACKUP_FOLDER
    backup_keep_days: int = DEFAULT_KEEP_DAYS


def find_config(explicit: str | None) -> Path | None:
    """The file to read: ``explicit``, ``$KIOSK_CENTRAL_CONFIG``, or the default if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_config(path: Path | None) -> CentralConfig:
    """Read and check ``path``; an empty :class:`CentralConfig` when ``path`` is None."""
    if path is None:
        return CentralConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (scripts/install-central.sh writes one)") from None
    except PermissionError:
        raise ConfigError(f"{path}: not readable by this user: run it with sudo") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _check(path, raw)


def _check(path: Path, raw: dict[str, Any]) -> CentralConfig:
    for section, values in raw.items():
        if section not in _KEYS:
            known = ", ".join(f"[{s}]" for s in _KEYS)
            raise ConfigError(f"{path}: unknown section [{section}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: {section} must be a [section]")
        for key in values:
            if key not in _KEYS[section]:
                known = ", ".join(sorted(_KEYS[section]))
                raise ConfigError(f"{path}: [{section}] {key}: unknown key (known: {known})")
    database = raw.get("database", {})
    server = raw.get("server", {})
    backup = raw.get("backup", {})

    def where(section: str, key: str) -> str:
        return f"{path}: [{section}] {key}"

    url = _string(database, "url", where("database", "url"))
    if url is not None:
        check_database_url(url, where("database", "url"))
    host = _string(server, "host", where("server", "host"))
    if host is not None and not host:
        raise ConfigError(f"{where('server', 'host')}: empty (e.g. 127.0.0.1)")
    port = server.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise ConfigError(f"{where('server', 'port')}: must be a number, e.g. 8700")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"{where('server', 'port')}: {port} is not a port (1-65535)")
    proxies = server.get("trusted_proxies")
    trusted = None
    if proxies is not None:
        items = proxies.split(",") if isinstance(proxies, str) else proxies
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f'{where("server", "trusted_proxies")}: a list like ["127.0.0.1"]')
        try:
            trusted = trusted_proxies(items)
        except ValueError as exc:
            raise ConfigError(f"{where('server', 'trusted_proxies')}: {exc}") from None
    secret = _string(server, "secret", where("server", "secret"))
    cert = _path(server, "tls_certfile", where("server", "tls_certfile"))
    key = _path(server, "tls_keyfile", where("server", "tls_keyfile"))
    if bool(cert) != bool(key):
        raise ConfigError(f"{path}: [server] give both tls_certfile and tls_keyfile, or neither")
    folder = _path(backup, "folder", where("backup", "folder")) or DEFAULT_BACKUP_FOLDER
    keep = backup.get("keep_days", DEFAULT_KEEP_DAYS)
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= 3650:
        raise ConfigError(f"{where('backup', 'keep_days')}: a number of days from 1 to 3650")
    return CentralConfig(
        path=path,
        database_url=url,
        host=host,
        port=port,
        trusted_proxies=trusted,
        secret=secret,
        tls_certfile=cert,
        tls_keyfile=key,
        backup_folder=folder,
        backup_keep_days=keep,
    )


def _string(section: dict[str, Any], key: str, where: str) -> str | None:
    value = section.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: must be a string in quotes")
    return value


def _path(section: dict[str, Any], key: str, where: str) -> Path | None:
    value = _string(section, key, where)
    if value is None:
        return None
    if not value.startswith("/"):
        raise ConfigError(f"{where}: {value!r} must be an absolute path (starting with /)")
    return Path(value)


def check_database_url(url: str, where: str) -> None:
    """A URL the server can open: SQLite with a file, or PostgreSQL (the password not shown)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise ConfigError(
            f"{where}: not a database URL (sqlite:////path/file.sqlite3 or "
            "postgresql://user:password@host/dbname)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database and parsed.database != ":memory:":
        return
    if backend == "postgresql":
        return
    shown = parsed.render_as_string(hide_password=True)
    raise ConfigError(
        f"{where}: {shown} is neither a SQLite file (sqlite:////path/file.sqlite3) nor "
        "PostgreSQL (postgresql://user:password@host/dbname)"
    )


def trusted_proxies(items: list[str]) -> str:
    """Reverse proxies' addresses and networks (or ``*``), checked and comma-joined as uvicorn
    reads them (it quietly ignores what it cannot); ValueError names the bad one."""
    items = [item.strip() for item in items if item.strip()]
    if not items:
        raise ValueError("give at least one address, e.g. 127.0.0.1")
    if items == ["*"]:
        return "*"
    checked = []
    for item in items:
        try:
            if "/" in item:
                checked.append(str(ipaddress.ip_network(item, strict=False)))
            else:
                checked.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(
                f"{item!r} is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/24); "
                "'*' alone trusts every client"
            ) from None
    return ",".join(checked)


def database_url(from_command_line: str | None, config: CentralConfig) -> str:
    """The database to open, most explicit first: ``--db``, ``$KIOSK_CENTRAL_DB``, the config
    file's ``[database] url``, else the default SQLite file (``central.db``)."""
    return (
        from_command_line
        or os.environ.get("KIOSK_CENTRAL_DB")
        or config.database_url
        or default_database_url()
    )
