"""``kiosk-central doctor`` on a real SQLite database: one ``ok|warn|fail`` line per check, as
``kiosk-admin doctor`` writes them, and exit status 1 when one fails."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from central.backup_folder import backup_to_folder, list_backups
from central.cli import main
from central.db import CentralDB
from central.doctor import run_doctor
from tests.central.ops_servers import SECRET, write_central_toml
from tests.schema_history import rewind

Usage = namedtuple("Usage", "total used free")
ROOMY = Usage(100 * 10**9, 50 * 10**9, 50 * 10**9)
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'data' / 'central.sqlite3'}"
    CentralDB.open(url).close()
    return url


def lines(tmp_path: Path, db_url: str, now: datetime = NOW, usage=ROOMY, **server) -> list[str]:
    from central.config import load_config

    no_secret = server.pop("no_secret", False)
    path = write_central_toml(tmp_path / "central.toml", db_url, tmp_path / "backups", **server)
    if no_secret:
        path.write_text(path.read_text().replace(f'secret = "{SECRET}"\n', ""))
    found = run_doctor(load_config(path), db_url, now=now, disk_usage=lambda _: usage)
    return [f.line() for f in found]


def by_subject(found: list[str], words: str) -> str:
    matching = [line for line in found if words in line]
    assert len(matching) == 1, (words, found)
    return matching[0]


def test_a_well_kept_server_is_all_ok(tmp_path, db_url):
    backup_to_folder(db_url, tmp_path / "backups", 14, now=NOW - timedelta(hours=10))
    found = lines(tmp_path, db_url, trusted_proxies=["127.0.0.1"])
    assert all(line.startswith("ok: ") for line in found), found
    assert by_subject(found, "answers").startswith("ok: database sqlite:///")
    assert by_subject(found, "schema version").endswith("(current)")
    assert by_subject(found, "newest backup") == (
        f"ok: newest backup {list_backups(tmp_path / 'backups')[-1].path.name}"
    )


def test_no_secret_fails(tmp_path, db_url):
    found = lines(tmp_path, db_url, no_secret=True, trusted_proxies=["127.0.0.1"])
    line = by_subject(found, "[server] secret")
    assert line.startswith("fail: no [server] secret in central.toml — ")


def test_old_backups_warn_then_fail(tmp_path, db_url):
    backup_to_folder(db_url, tmp_path / "backups", 14, now=NOW - timedelta(days=3))
    assert by_subject(lines(tmp_path, db_url), "newest backup").startswith(
        "warn: newest backup is 3 days old (central-20261203T120000Z.sqlite3) — systemctl status"
    )
    later = NOW + timedelta(days=6)
    assert by_subject(lines(tmp_path, db_url, now=later), "newest backup").startswith(
        "fail: newest backup is 9 days old"
    )


def test_no_backup_yet_is_a_warning(tmp_path, db_url):
    line = by_subject(lines(tmp_path, db_url), "no backup in")
    assert line.startswith(f"warn: no backup in {tmp_path / 'backups'} yet — ")


def test_plain_http_on_the_network_fails_and_on_loopback_warns(tmp_path, db_url):
    assert by_subject(lines(tmp_path, db_url, host="0.0.0.0"), "HTTP").startswith(
        "fail: plain HTTP on 0.0.0.0: device tokens and passwords"
    )
    assert by_subject(lines(tmp_path, db_url), "HTTP").startswith(
        "warn: plain HTTP on 127.0.0.1 and no trusted proxy"
    )


def test_an_old_schema_fails_and_says_migrate(tmp_path, db_url):
    db = CentralDB.open(db_url)
    rewind(db, 1)  # as the first release left it
    db.close()
    line = by_subject(lines(tmp_path, db_url), "schema version")
    assert line.startswith("fail: schema version 1, this release needs ")
    assert line.endswith("kiosk-central migrate")


def test_a_missing_database_fails_and_is_not_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'nowhere' / 'central.sqlite3'}"
    found = lines(tmp_path, url)
    assert by_subject(found, "no database at").startswith("fail: no database at ")
    assert not (tmp_path / "nowhere" / "central.sqlite3").exists()


def test_a_nearly_full_disk_fails(tmp_path, db_url):
    full = Usage(100 * 10**9, 99.95 * 10**9, 50 * 10**6)
    line = by_subject(lines(tmp_path, db_url, usage=full), "disk:")
    assert line.startswith("fail: disk: 0.1 GB free for the database")


def test_a_config_readable_by_everyone_fails(tmp_path, db_url):
    path = write_central_toml(tmp_path / "central.toml", db_url, tmp_path / "b")
    path.chmod(0o644)
    from central.config import load_config

    found = [f.line() for f in run_doctor(load_config(path), db_url, disk_usage=lambda _: ROOMY)]
    assert by_subject(found, "configuration").startswith("fail: configuration ")


def test_the_command_prints_the_lines_and_exits_1_on_a_fail(tmp_path, db_url, capsys, monkeypatch):
    monkeypatch.delenv("KIOSK_CENTRAL_DB", raising=False)
    path = write_central_toml(tmp_path / "central.toml", db_url, tmp_path / "backups")
    assert main(["--config", str(path), "doctor"]) == 0  # warnings only: no backup, no proxy
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"ok: configuration {path}" and any(x.startswith("warn: ") for x in out)
    text = path.read_text().replace(f'secret = "{SECRET}"\n', "")
    path.write_text(text)
    assert main(["--config", str(path), "doctor"]) == 1
    assert "fail: no [server] secret" in capsys.readouterr().out


def test_the_nightly_backup_keeps_the_newest_and_prunes_the_old(tmp_path, db_url):
    folder = tmp_path / "backups"
    for days in (20, 10, 1):
        backup_to_folder(db_url, folder, 14, now=NOW - timedelta(days=days))
    taken = [b.taken_at for b in list_backups(folder)]
    assert taken == [NOW - timedelta(days=10), NOW - timedelta(days=1)]  # 19 days old: pruned
    ten_days_old = list_backups(folder)[0].path
    made, removed = backup_to_folder(db_url, folder, 1, now=NOW)
    assert removed == [ten_days_old] and list_backups(folder)[-1].path == made
    assert oct(made.stat().st_mode & 0o777) == "0o600"


def test_a_broken_config_is_a_fail_line_naming_the_key(tmp_path, capsys):
    path = tmp_path / "central.toml"
    path.write_text("[server]\nprot = 8700\n")
    assert main(["--config", str(path), "doctor"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"fail: {path}: [server] prot: unknown key")


def test_postgresql_is_backed_up_with_pg_dump_and_passes_the_doctor(tmp_path):
    """With ``KIOSK_TEST_POSTGRES_URL`` (scripts/ci-postgres.sh): a real pg_dump, whose file
    the doctor counts, and the database password never shown."""
    from tests.sync.servers import database_url

    with database_url("postgresql", tmp_path) as url:
        CentralDB.open(url).close()
        made, _ = backup_to_folder(url, tmp_path / "backups", 14)
        assert made.name.endswith(".pgdump") and made.read_bytes()[:5] == b"PGDMP"
        assert oct(made.stat().st_mode & 0o777) == "0o600"
        assert not [p for p in (tmp_path / "backups").iterdir() if p.name.startswith(".")]
        found = lines(tmp_path, url, now=datetime.now(UTC), trusted_proxies=["127.0.0.1"])
    assert all(line.startswith("ok: ") for line in found), found
    answers = by_subject(found, "answers")
    assert answers.startswith("ok: database postgresql+psycopg://") and "***" in answers
    assert by_subject(found, "newest backup") == f"ok: newest backup {made.name}"


def test_a_postgresql_that_does_not_answer_fails(tmp_path):
    from tests.sync.servers import free_port

    url = f"postgresql://doorstep:pw@127.0.0.1:{free_port()}/doorstep"
    line = by_subject(lines(tmp_path, url), "does not answer")
    assert line.startswith("fail: database postgresql+psycopg://doorstep:***@127.0.0.1:")
    assert "pw@" not in line


def certificate(folder: Path, name: str, starts: datetime, ends: datetime) -> tuple[Path, Path]:
    """A self-signed certificate for localhost valid from ``starts`` to ``ends``, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(starts)
        .not_valid_after(ends)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def transport(tmp_path: Path, db_url: str, cert: Path, key: Path) -> str:
    found = lines(tmp_path, db_url, host="0.0.0.0", tls_certfile=str(cert), tls_keyfile=str(key))
    return by_subject(found, str(cert))


def test_the_servers_own_certificate_is_ok_with_its_end_date(tmp_path, db_url):
    cert, key = certificate(tmp_path, "good", NOW - timedelta(days=30), NOW + timedelta(days=60))
    assert transport(tmp_path, db_url, cert, key) == (
        f"ok: HTTPS with {cert} (valid until 2027-02-04)"
    )


def test_a_certificate_near_its_end_warns_and_an_expired_one_fails(tmp_path, db_url):
    cert, key = certificate(tmp_path, "soon", NOW - timedelta(days=80), NOW + timedelta(days=10))
    assert transport(tmp_path, db_url, cert, key).startswith(
        f"warn: TLS certificate {cert} expires in 10 day(s), 2026-12-16 — renew it"
    )
    cert, key = certificate(tmp_path, "old", NOW - timedelta(days=90), NOW - timedelta(days=1))
    assert transport(tmp_path, db_url, cert, key).startswith(
        f"fail: TLS certificate {cert} expired on 2026-12-05 — renew it"
    )


def test_a_certificate_not_yet_valid_points_at_the_clock(tmp_path, db_url):
    cert, key = certificate(tmp_path, "early", NOW + timedelta(days=2), NOW + timedelta(days=90))
    line = transport(tmp_path, db_url, cert, key)
    assert line.startswith(f"fail: TLS certificate {cert} is not valid before 2026-12-08")
    assert "timedatectl" in line


def test_a_key_of_another_certificate_or_a_broken_file_fails(tmp_path, db_url):
    cert, _ = certificate(tmp_path, "one", NOW - timedelta(days=1), NOW + timedelta(days=90))
    _, other_key = certificate(tmp_path, "two", NOW - timedelta(days=1), NOW + timedelta(days=90))
    found = lines(
        tmp_path, db_url, host="0.0.0.0", tls_certfile=str(cert), tls_keyfile=str(other_key)
    )
    assert by_subject(found, "does not go with").startswith(
        f"fail: TLS key {other_key} does not go with the certificate {cert}"
    )
    cert.write_text("not a certificate\n")
    assert transport(tmp_path, db_url, cert, other_key).startswith(
        f"fail: TLS certificate {cert} cannot be read: "
    )
