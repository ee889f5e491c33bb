"""The reverse proxy of docs/central.md, for real: Debian's Caddy with its internal CA in front
of a real ``kiosk-central serve``, and a real ``kiosk-sync --ca-file`` sending check-ins through
it; the server then holds exactly what the kiosk recorded.

The site block is taken from docs/central.md itself (with this test's name and ports), so the
documented configuration is the tested one. Caddy is kept off the machine's real ports and the
internet: the admin endpoint off, no HTTP redirect listener (``auto_https disable_redirects``),
both ports on loopback, the CA not installed in any trust store, storage in a temporary folder.
Skipped when the caddy binary is missing (``apt-get install -y caddy``; ./dev installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from central.db import CentralDB, attendances, events
from sync import daemon
from tests.central.ops_servers import SECRET, ServeProcess, write_central_toml
from tests.central.test_serve_ops import kiosk_sync, metric
from tests.helpers import stop_process, wait_for
from tests.sync.servers import door, enrol, free_port, register_families, week_of_taps

CADDY = shutil.which("caddy")
pytestmark = pytest.mark.skipif(
    CADDY is None, reason="caddy is not installed: apt-get install -y caddy (./dev does)"
)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "central.md"


def documented_site_block() -> str:
    """The site block of the Caddyfile in docs/central.md (its global options left out)."""
    block = re.search(r"```caddyfile\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert block, "docs/central.md has no ```caddyfile block"
    site = re.sub(r"\A\{\n.*?\n\}\n", "", block.group(1), count=1, flags=re.DOTALL).strip()
    assert site.startswith("central.council.example {"), site
    assert "reverse_proxy 127.0.0.1:8700" in site and "tls internal" in site
    return site


def caddyfile(folder: Path, https_port: int, upstream: str) -> Path:
    site = documented_site_block()
    site = site.replace("central.council.example", f"https://localhost:{https_port}")
    site = site.replace("reverse_proxy 127.0.0.1:8700", f"reverse_proxy {upstream}")
    site = site.replace("tls internal", "bind 127.0.0.1\n\ttls internal", 1)
    path = folder / "Caddyfile"
    path.write_text(
        "{\n"
        "\tadmin off\n"
        "\tauto_https disable_redirects\n"
        "\tskip_install_trust\n"
        f"\thttp_port {free_port()}\n"
        f"\thttps_port {https_port}\n"
        f"\tstorage file_system {{\n\t\troot {folder / 'storage'}\n\t}}\n"
        "}\n\n" + site + "\n"
    )
    return path


class Caddy:
    """``caddy run`` on the file, its home and config folders in ``folder``."""

    def __init__(self, folder: Path, https_port: int, upstream: str) -> None:
        self.folder = folder
        self.port = https_port
        self.config = caddyfile(folder, https_port, upstream)
        self.log = folder / "caddy.log"
        self.process: subprocess.Popen | None = None

    @property
    def root_ca(self) -> Path:
        return self.folder / "storage/pki/authorities/local/root.crt"

    def start(self, timeout: float = 30) -> Caddy:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.folder),
            "XDG_DATA_HOME": str(self.folder / "data"),
            "XDG_CONFIG_HOME": str(self.folder / "config"),
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [CADDY, "run", "--config", str(self.config), "--adapter", "caddyfile"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.folder,
            )
        process = self.process

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError("caddy exited: " + self.log.read_text()[-3000:])
            if not self.root_ca.exists():
                return False
            try:
                url = f"https://localhost:{self.port}/healthz"
                return requests.get(url, verify=str(self.root_ca), timeout=2).ok
            except requests.RequestException:
                return False

        try:
            wait_for(answers, "caddy to answer /healthz", timeout)
        except AssertionError:
            self.stop()
            raise RuntimeError("caddy did not come up: " + self.log.read_text()[-3000:]) from None
        return self

    def stop(self) -> None:
        stop_process(self.process)


def test_kiosk_sync_through_caddy_with_its_internal_ca(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    db = CentralDB.open(db_url)
    kiosk = enrol(db, "lichfield", "library", "kiosk-1")
    desk = door(tmp_path / "kiosk-data", kiosk.device, kiosk.site)
    uids = register_families(desk, 8)
    taps = week_of_taps(desk, uids)
    recorded = desk.store.highest_seq()
    desk.store.close()
    token_file = tmp_path / "token"
    token_file.write_text(kiosk.token + "\n")
    token_file.chmod(0o600)
    config = write_central_toml(
        tmp_path / "central.toml", db_url, tmp_path / "backups", trusted_proxies=["127.0.0.1"]
    )
    (tmp_path / "caddy").mkdir()
    with ServeProcess(config) as server:
        upstream = server.url.removeprefix("http://").rstrip("/")
        caddy = Caddy(tmp_path / "caddy", free_port(), upstream).start()
        try:
            endpoint = f"https://localhost:{caddy.port}"
            # Without the CA the kiosk refuses the certificate, and sends nothing.
            refused = kiosk_sync(tmp_path / "kiosk-data", endpoint, token_file)
            assert refused.returncode != daemon.EXIT_OK
            assert "TLS check" in refused.stderr or "certificate" in refused.stderr
            assert db.count(events) == 0

            result = kiosk_sync(
                tmp_path / "kiosk-data", endpoint, token_file, "--ca-file", str(caddy.root_ca)
            )
            assert result.returncode == daemon.EXIT_OK, result.stderr
            assert f"sent {recorded} event(s)" in result.stderr

            home = requests.get(
                endpoint + "/", verify=str(caddy.root_ca), allow_redirects=False, timeout=10
            )
            assert home.status_code == 302 and home.headers["location"] == "/dashboard"
            text = requests.get(
                endpoint + "/metrics",
                headers={"Authorization": f"Bearer {SECRET}"},
                verify=str(caddy.root_ca),
                timeout=10,
            ).text
        finally:
            caddy.stop()
    assert db.count(events) == recorded
    assert db.count(attendances) == taps
    with db.engine.connect() as conn:
        devices = conn.execute(select(events.c.device_id, func.count()).group_by("device_id"))
        assert dict(devices.all()) == {"kiosk-1": recorded}
    assert metric(text, "doorstep_central_events_ingested", "kiosk-1") == recorded
    assert db.holds_up_to("kiosk-1") == recorded
    db.close()
