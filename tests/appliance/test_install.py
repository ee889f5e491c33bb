"""``scripts/install-pi.sh`` into a throw-away root (``--root``): it lays the appliance out, a
second run changes nothing, and ``scripts/update.sh`` switches releases only after the new one
passes its self-check.

The scripts run from a copy of the checkout, so that edits elsewhere during the test cannot
change the release's source hash. The release's venv is this test's own environment
(``--prebuilt-venv``): its self-check (``kiosk-admin doctor --self-check``) is real, building a
venv with pip is not done here (it needs the network and minutes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.config import load_config
from tests.appliance.helpers import REPO

VENV = Path(sys.executable).parent.parent
UNITS = ("doorstep-kiosk.service", "doorstep-sync.service", "doorstep-backup.service")
ARGS = ("--device-id", "kiosk-hall-1", "--site", "hall", "--endpoint", "https://c.example.org")

needs_tools = pytest.mark.skipif(
    shutil.which("systemctl") is None or shutil.which("systemd-analyze") is None,
    reason="systemctl/systemd-analyze missing: apt-get install systemd",
)


def copy_checkout(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("scripts", "systemd", "kiosk", "sync", "central"):
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    for name in ("setup.cfg", "pyproject.toml"):
        shutil.copy2(REPO / name, target / name)
    return target


def run(script: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", str(script), *args], capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def tree(root: Path) -> list[tuple[str, str, str]]:
    """Every path under ``root``: (path, mode, sha256 or symlink target), without following."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(dirpath) / name
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                what = "-> " + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                what = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                what = "dir"
            out.append((path.relative_to(root).as_posix(), oct(st.st_mode & 0o7777), what))
    return sorted(out)


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, checkout):
    root = tmp_path_factory.mktemp("root")
    boot = root / "boot/firmware/config.txt"
    boot.parent.mkdir(parents=True)
    boot.write_text("# For more options see config.txt(5)\n#dtparam=spi=on\ndtparam=audio=on\n")
    first = run(
        checkout / "scripts/install-pi.sh", "--root", str(root), "--prebuilt-venv", str(VENV), *ARGS
    )
    return root, first.stdout


@needs_tools
def test_install_lays_out_user_folders_config_units_and_venv(installed):
    root, output = installed
    sysusers = (root / "usr/lib/sysusers.d/doorstep.conf").read_text()
    assert 'u kiosk - "Doorstep kiosk" / /usr/sbin/nologin' in sysusers
    assert "skipped (--root): systemd-sysusers doorstep.conf" in output
    assert (root / "usr/lib/tmpfiles.d/doorstep.conf").is_file()
    for folder in ("etc/doorstep", "var/lib/doorstep", "var/backups/doorstep"):
        assert mode(root / folder) == "0o750", folder
    config_file = root / "etc/doorstep/kiosk.toml"
    assert mode(config_file) == "0o640"
    config = load_config(config_file)
    assert (config.device.id, config.device.site) == ("kiosk-hall-1", "hall")
    assert config.sync.endpoint == "https://c.example.org" and config.reader.kind == "rc522"
    for unit in (*UNITS, "doorstep-backup.timer"):
        installed_unit = root / "etc/systemd/system" / unit
        assert installed_unit.read_text() == (REPO / "systemd" / unit).read_text()
        assert mode(installed_unit) == "0o644"
    wants = root / "etc/systemd/system"
    assert (wants / "multi-user.target.wants/doorstep-kiosk.service").is_symlink()
    assert (wants / "multi-user.target.wants/doorstep-sync.service").is_symlink()
    assert (wants / "timers.target.wants/doorstep-backup.timer").is_symlink()
    journald = (root / "etc/systemd/journald.conf.d/doorstep.conf").read_text()
    assert "Storage=volatile" in journald and "SystemMaxUse=" in journald
    current = root / "opt/doorstep/current"
    assert current.is_symlink() and os.readlink(current).startswith("releases/0.1.0-")
    assert (current / "venv/bin/kiosk-admin").exists() and (current / ".complete").exists()
    assert "update: self-check: ok: code imports and commands are in place" in output
    assert mode(root / "usr/local/bin/kiosk-admin") == "0o755"


@needs_tools
def test_install_turns_spi_on_and_says_what_is_left(installed):
    root, output = installed
    boot = (root / "boot/firmware/config.txt").read_text()
    assert boot.splitlines().count("dtparam=spi=on") == 1 and "#dtparam=spi=on" not in boot
    left = output[output.index("Left to do:") :]
    assert "/etc/doorstep/token" in left and "sudo systemctl restart doorstep-sync" in left
    assert "sudo reboot" in left and "kiosk-admin doctor" in left


@needs_tools
def test_the_installed_units_verify_in_the_root(installed):
    root, _ = installed
    units = root.parent / (root.name + "-verify")
    units.mkdir(exist_ok=True)
    for unit in (*UNITS, "doorstep-backup.timer"):
        text = (root / "etc/systemd/system" / unit).read_text()
        (units / unit).write_text(text.replace("/opt/doorstep", str(root / "opt/doorstep")))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(os.listdir(units))],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


@needs_tools
def test_a_second_run_changes_nothing(installed, checkout):
    root, _ = installed
    before = tree(root)
    again = run(
        checkout / "scripts/install-pi.sh", "--root", str(root), "--prebuilt-venv", str(VENV), *ARGS
    )
    assert tree(root) == before
    assert "kept the existing /etc/doorstep/kiosk.toml" in again.stdout
    assert "is already the current one" in again.stdout
    assert "wrote " not in again.stdout and "sudo reboot" not in again.stdout


@needs_tools
def test_an_existing_config_is_never_overwritten(tmp_path, checkout):
    root = tmp_path / "root"
    config = root / "etc/doorstep/kiosk.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[device]\nid = "mine"\nsite = "here"\n')
    run(checkout / "scripts/install-pi.sh", "--root", str(root), "--no-venv", *ARGS)
    assert config.read_text() == '[device]\nid = "mine"\nsite = "here"\n'
    assert mode(config) == "0o640"


@needs_tools
def test_no_venv_mode_lays_out_a_release_without_building(tmp_path, checkout):
    root = tmp_path / "root"
    result = run(checkout / "scripts/install-pi.sh", "--root", str(root), "--no-venv", *ARGS)
    assert "skipped (--no-venv): python3 -m venv" in result.stdout
    release = root / "opt/doorstep/current"
    assert (release / "release.txt").is_file() and not (release / "venv").exists()


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        (
            "https://kiosk:hunter2@c.example.org",
            "--endpoint: must not hold a user name or password",
        ),
        ("http://c.example.org", "--endpoint: http://c.example.org is plain http"),
        ("https://c.example.org/?x=1", "must not hold a query"),
    ],
)
def test_a_bad_endpoint_is_refused_by_the_one_url_check_before_anything_is_written(
    tmp_path, endpoint, message
):
    root = tmp_path / "root"
    args = ("--device-id", "k1", "--site", "hall", "--endpoint", endpoint)
    result = run(
        REPO / "scripts/install-pi.sh", "--root", str(root), "--no-venv", *args, check=False
    )
    assert result.returncode != 0
    assert message in result.stderr and "hunter2" not in result.stderr
    assert not root.exists()


def broken_venv(folder: Path) -> Path:
    """An environment whose self-check fails, as a release with a broken dependency would."""
    (folder / "bin").mkdir(parents=True)
    for name in ("kiosk-admin", "python"):
        script = folder / "bin" / name
        script.write_text(
            "#!/bin/sh\necho 'fail: cannot import sync.daemon: broken — rebuild'\nexit 1\n"
        )
        script.chmod(0o755)
    return folder


def test_an_update_that_fails_its_self_check_keeps_the_running_release(tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    root = tmp_path / "root"
    update = checkout / "scripts/update.sh"
    run(update, "--root", str(root), "--prebuilt-venv", str(VENV))
    old = os.readlink(root / "opt/doorstep/current")

    (checkout / "kiosk" / "new_feature.py").write_text("X = 1\n")  # a new version
    result = run(
        update,
        "--root",
        str(root),
        "--prebuilt-venv",
        str(broken_venv(tmp_path / "bad")),
        check=False,
    )

    assert result.returncode == 1
    assert (
        "failed its self-check" in result.stderr
        and f"still running {old.split('/')[-1]}" in result.stderr
    )
    assert "fail: cannot import sync.daemon" in result.stderr
    assert os.readlink(root / "opt/doorstep/current") == old
    assert sorted(os.listdir(root / "opt/doorstep/releases")) == [old.split("/")[-1]]


def test_a_good_update_switches_keeps_the_previous_and_can_roll_back(tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    root = tmp_path / "root"
    update = checkout / "scripts/update.sh"
    run(update, "--root", str(root), "--prebuilt-venv", str(VENV))
    old = os.readlink(root / "opt/doorstep/current")

    (checkout / "kiosk" / "new_feature.py").write_text("X = 1\n")
    result = run(update, "--root", str(root), "--prebuilt-venv", str(VENV))
    new = os.readlink(root / "opt/doorstep/current")
    assert new != old and f"switched to {new.split('/')[-1]}" in result.stdout
    assert os.readlink(root / "opt/doorstep/previous") == old
    assert "skipped (--root or no systemd): systemctl daemon-reload" in result.stdout

    run(update, "--root", str(root), "--rollback")
    assert os.readlink(root / "opt/doorstep/current") == old
    assert os.readlink(root / "opt/doorstep/previous") == new
