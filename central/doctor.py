"""``kiosk-central doctor``: check the server and say what to fix, one line per check.

::

    ok: configuration /etc/doorstep-central/central.toml
    ok: database sqlite:////var/lib/doorstep-central/central.sqlite3 answers
    ok: schema version 19 (current)
    ok: secret set (Prometheus reads /metrics with it)
    ok: behind a reverse proxy (trusted: 127.0.0.1,::1)
    ok: disk: 41.2 GB free for the database (/var/lib/doorstep-central)
    warn: newest backup is 3 days old (central-20261203T023000Z.sqlite3) — systemctl status ...

The same ``ok|warn|fail: what — what to do`` lines as the kiosk's ``kiosk-admin doctor``
(``kiosk.doctor.Finding``, and its disk thresholds), so one habit reads both; the exit status
is 1 if any check failed. It looks at the database as it is: it never creates or migrates it
(that would hide the very problem it is asked about).
"""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from central.backup_folder import list_backups
from central.config import CentralConfig
from central.db import LATEST_VERSION, CentralDB, default_database_url, normalise_url
from kiosk.doctor import (
    DISK_FAIL_BYTES,
    DISK_FAIL_FRACTION,
    DISK_WARN_BYTES,
    DISK_WARN_FRACTION,
    Finding,
)
from sync.endpoint import is_loopback

#: A certificate of the server's own with less time left than this is a warning.
CERT_WARN = timedelta(days=21)
#: A secret shorter than this is guessable (the installer makes 43 characters).
SECRET_MIN_LENGTH = 32
#: The timer backs up nightly: a newest backup older than this is a warning ...
BACKUP_WARN = timedelta(days=2)
#: ... and older than this, a failure (a week of families' check-ins at risk).
BACKUP_FAIL = timedelta(days=7)

DiskUsage = Callable[[Path], Any]


def run_doctor(
    config: CentralConfig,
    url: str | None,
    now: datetime | None = None,
    disk_usage: DiskUsage = shutil.disk_usage,
) -> list[Finding]:
    """Every check's findings, in order; ``url`` None means the default database."""
    now = now or datetime.now(UTC)
    url = url or default_database_url()
    found = [check_config(config)]
    found += check_database(url)
    found += [check_secret(config), check_transport(config, now)]
    found += check_disk(url, config, disk_usage)
    found += [check_backups(config, now)]
    return found


def check_config(config: CentralConfig) -> Finding:
    if config.path is None:
        return Finding(
            "warn",
            "no central.toml: defaults in use",
            "scripts/install-central.sh writes /etc/doorstep-central/central.toml",
        )
    mode = config.path.stat().st_mode & 0o777
    if mode & 0o007:
        return Finding(
            "fail",
            f"configuration {config.path} is readable by every account (mode {mode:o})",
            f"it holds the secret: chmod 640 {config.path}",
        )
    return Finding("ok", f"configuration {config.path}")


def _shown(url: str) -> str:
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(normalise_url(url))
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" else None


def check_database(url: str) -> list[Finding]:
    """The database answers, and its schema is the one this release needs."""
    shown = _shown(url)
    file = _sqlite_file(url)
    if file is not None and not file.is_file():
        return [
            Finding(
                "fail",
                f"no database at {file}",
                "kiosk-central migrate creates it (or restore a backup: docs/central.md)",
            )
        ]
    try:
        db = CentralDB.open(url, migrate=False)
    except Exception as exc:
        return [Finding("fail", f"database {shown} cannot be opened: {exc}", "check [database]")]
    try:
        version = db.schema_version()
    except Exception as exc:
        return [
            Finding(
                "fail",
                f"database {shown} does not answer: {_first_line(exc)}",
                "is PostgreSQL running, and the URL's user, password and host right?",
            )
        ]
    finally:
        db.close()
    out = [Finding("ok", f"database {shown} answers")]
    if version == LATEST_VERSION:
        out.append(Finding("ok", f"schema version {version} (current)"))
    elif version < LATEST_VERSION:
        out.append(
            Finding(
                "fail",
                f"schema version {version}, this release needs {LATEST_VERSION}",
                "back up, then: kiosk-central migrate",
            )
        )
    else:
        out.append(
            Finding(
                "fail",
                f"schema version {version} is newer than this release ({LATEST_VERSION})",
                "install the release the database was upgraded by",
            )
        )
    return out


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def check_secret(config: CentralConfig) -> Finding:
    if not config.secret:
        return Finding(
            "fail",
            "no [server] secret in central.toml",
            "set one: python3 -c 'import secrets; print(secrets.token_urlsafe(32))' "
            "(scripts/install-central.sh makes one)",
        )
    if len(config.secret) < SECRET_MIN_LENGTH:
        return Finding(
            "fail",
            f"[server] secret is only {len(config.secret)} characters",
            f"make a longer one ({SECRET_MIN_LENGTH} or more): "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    return Finding("ok", "secret set (Prometheus reads /metrics with it)")


def check_transport(config: CentralConfig, now: datetime) -> Finding:
    """Tokens and passwords cross the network only inside TLS: the server's own, or a
    reverse proxy's in front of it."""
    if config.tls_certfile and config.tls_keyfile:
        for path in (config.tls_certfile, config.tls_keyfile):
            if not path.is_file():
                return Finding("fail", f"TLS file {path} is missing", "fix [server] tls_*")
        return check_certificate(config.tls_certfile, config.tls_keyfile, now)
    if config.trusted_proxies:
        return Finding("ok", f"behind a reverse proxy (trusted: {config.trusted_proxies})")
    host = config.host or "127.0.0.1"
    if is_loopback(host):
        return Finding(
            "warn",
            f"plain HTTP on {host} and no trusted proxy",
            "put Caddy in front and set [server] trusted_proxies (docs/central.md)",
        )
    return Finding(
        "fail",
        f"plain HTTP on {host}: device tokens and passwords would cross the network unencrypted",
        "put Caddy in front (docs/central.md) or set [server] tls_certfile and tls_keyfile",
    )


def check_certificate(certfile: Path, keyfile: Path, now: datetime) -> Finding:
    """The server's own certificate: readable, its key the one that goes with it, and not
    expired or about to be: kiosks refuse an expired certificate, so every kiosk would stop
    syncing on the same night, with nothing on the server saying why."""
    from cryptography import x509

    fix = "renew it (or use Caddy, which renews its own) and restart doorstep-central"
    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
    except (OSError, ValueError) as exc:
        return Finding("fail", f"TLS certificate {certfile} cannot be read: {exc}", fix)
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        return Finding(
            "fail",
            f"TLS key {keyfile} does not go with the certificate {certfile} ({exc})",
            "set [server] tls_keyfile to the certificate's own key",
        )
    ends, starts = cert.not_valid_after_utc, cert.not_valid_before_utc
    if now >= ends:
        return Finding("fail", f"TLS certificate {certfile} expired on {ends:%Y-%m-%d}", fix)
    if now < starts:
        return Finding(
            "fail",
            f"TLS certificate {certfile} is not valid before {starts:%Y-%m-%d %H:%M} UTC",
            "check this machine's clock (timedatectl) or the certificate",
        )
    left = ends - now
    if left < CERT_WARN:
        return Finding(
            "warn",
            f"TLS certificate {certfile} expires in {left.days} day(s), {ends:%Y-%m-%d}",
            fix,
        )
    return Finding("ok", f"HTTPS with {certfile} (valid until {ends:%Y-%m-%d})")


def check_disk(url: str, config: CentralConfig, disk_usage: DiskUsage) -> list[Finding]:
    """Free space for the database (SQLite) and the backups, by the kiosk's thresholds."""
    places = [("backups", config.backup_folder)]
    file = _sqlite_file(url)
    if file is not None:
        places.insert(0, ("database", file.parent))
    out = []
    seen: set[int] = set()
    for label, folder in places:
        target = folder
        while not target.exists() and target != target.parent:
            target = target.parent
        device = target.stat().st_dev
        if device in seen:
            continue
        seen.add(device)
        usage = disk_usage(target)
        free, total = int(usage.free), int(usage.total)
        share = free / total if total else 1.0
        text = f"disk: {free / 1e9:.1f} GB free for the {label} ({folder})"
        if free < DISK_FAIL_BYTES or share < DISK_FAIL_FRACTION:
            out.append(
                Finding("fail", text, f"only {share:.1%} free: the server stops when it is full")
            )
        elif free < DISK_WARN_BYTES or share < DISK_WARN_FRACTION:
            out.append(Finding("warn", text, f"only {share:.1%} free: free some space soon"))
        else:
            out.append(Finding("ok", text))
    return out


def check_backups(config: CentralConfig, now: datetime) -> Finding:
    folder = config.backup_folder
    if not os.access(folder, os.R_OK | os.X_OK) and folder.exists():
        return Finding("warn", f"cannot read the backups in {folder}", "run the doctor with sudo")
    backups = list_backups(folder)
    if not backups:
        return Finding(
            "warn",
            f"no backup in {folder} yet",
            "the timer makes one each night; now: sudo systemctl start doorstep-central-backup",
        )
    newest = backups[-1]
    age = now - newest.taken_at
    what = f"newest backup is {age.days} days old ({newest.path.name})"
    todo = "systemctl status doorstep-central-backup.timer; journalctl -u doorstep-central-backup"
    if age > BACKUP_FAIL:
        return Finding("fail", what, todo)
    if age > BACKUP_WARN:
        return Finding("warn", what, todo)
    return Finding("ok", f"newest backup {newest.path.name}")
