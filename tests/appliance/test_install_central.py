"""``scripts/install-central.sh`` into a throw-away root (``--root``): the server's user,
folders, venv, a checked central.toml with its own secret, the units enabled; a second run
changes nothing, and a broken central.toml stops it with the key named.

As for the kiosk's installer (test_install.py) the scripts run from a copy of the checkout and
the venv is this test's own environment (``--prebuilt-venv``), so the config check is real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from central.config import load_config
from tests.appliance.test_install import copy_checkout, mode, tree

VENV = Path(sys.executable).parent.parent
UNITS = (
    "doorstep-central.service",
    "doorstep-central-backup.service",
    "doorstep-central-backup.timer",
)

needs_systemctl = pytest.mark.skipif(
    shutil.which("systemctl") is None, reason="systemctl missing: apt-get install systemd"
)


def install(checkout: Path, root: Path, *args: str, check: bool = True):
    result = subprocess.run(
        ["bash", str(checkout / "scripts/install-central.sh"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, checkout):
    root = tmp_path_factory.mktemp("root")
    first = install(checkout, root, "--prebuilt-venv", str(VENV))
    return root, first.stdout


@needs_systemctl
def test_install_lays_out_user_folders_config_units_and_venv(installed):
    root, output = installed
    sysusers = (root / "usr/lib/sysusers.d/doorstep-central.conf").read_text()
    assert "u doorstep-central - " in sysusers and "/usr/sbin/nologin" in sysusers
    assert "skipped (--root): systemd-sysusers doorstep-central.conf" in output
    assert mode(root / "etc/doorstep-central") == "0o750"
    for folder in ("var/lib/doorstep-central", "var/backups/doorstep-central"):
        assert mode(root / folder) == "0o700", folder
    for unit in UNITS:
        placed = root / "etc/systemd/system" / unit
        assert placed.read_text() == (Path(__file__).parents[2] / "systemd" / unit).read_text()
        assert mode(placed) == "0o644"
    wants = root / "etc/systemd/system"
    assert (wants / "multi-user.target.wants/doorstep-central.service").is_symlink()
    assert (wants / "timers.target.wants/doorstep-central-backup.timer").is_symlink()
    venv = root / "opt/doorstep-central/venv"
    assert venv.is_symlink() and os.readlink(venv) == str(VENV)
    assert (venv / "bin/kiosk-central").exists()
    assert "the program is now " in output
    assert mode(root / "usr/local/bin/kiosk-central") == "0o755"
    assert "checked /etc/doorstep-central/central.toml: ok" in output
    assert "kiosk-central doctor" in output[output.index("Left to do:") :]


@needs_systemctl
def test_the_config_is_private_valid_and_has_its_own_secret(installed, tmp_path):
    root, _ = installed
    path = root / "etc/doorstep-central/central.toml"
    assert mode(path) == "0o640"
    config = load_config(path)
    assert config.database_url == "sqlite:////var/lib/doorstep-central/central.sqlite3"
    assert (config.host, config.port) == ("127.0.0.1", 8700)
    assert config.trusted_proxies == "127.0.0.1,::1"
    assert config.secret and len(config.secret) >= 32
    assert config.backup_folder == Path("/var/backups/doorstep-central")
    other = tmp_path / "other"
    install(Path(__file__).parents[2], other, "--no-venv")
    assert load_config(other / "etc/doorstep-central/central.toml").secret != config.secret


@needs_systemctl
def test_a_second_run_changes_nothing(installed, checkout):
    root, _ = installed
    before = tree(root)
    again = install(checkout, root, "--prebuilt-venv", str(VENV))
    assert tree(root) == before
    assert "kept the existing /etc/doorstep-central/central.toml" in again.stdout
    assert "wrote " not in again.stdout and "the program is now" not in again.stdout


def test_a_broken_config_stops_the_install_naming_the_key(tmp_path, checkout):
    root = tmp_path / "root"
    config = root / "etc/doorstep-central/central.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[server]\nprot = 8700\n")
    result = install(checkout, root, "--prebuilt-venv", str(VENV), check=False)
    assert result.returncode == 1
    assert "[server] prot: unknown key" in result.stderr
    assert config.read_text() == "[server]\nprot = 8700\n"  # kept, never overwritten
    assert not (root / "etc/systemd/system/doorstep-central.service").exists()


def test_options_go_into_a_new_config(tmp_path, checkout):
    root = tmp_path / "root"
    url = "postgresql://doorstep:pw@db.example.org/doorstep"
    install(
        checkout,
        root,
        "--prebuilt-venv",
        str(VENV),
        "--database-url",
        url,
        "--port",
        "8710",
        "--trusted-proxies",
        "10.0.0.5",
    )
    config = load_config(root / "etc/doorstep-central/central.toml")
    assert (config.database_url, config.port, config.trusted_proxies) == (url, 8710, "10.0.0.5")


def test_a_bad_option_changes_nothing(tmp_path, checkout):
    root = tmp_path / "root"
    result = install(checkout, root, "--port", "99999", check=False)
    assert result.returncode == 1 and "--port must be 1-65535" in result.stderr
    assert not root.exists() or os.listdir(root) == []
