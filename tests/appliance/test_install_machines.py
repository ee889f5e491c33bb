"""``scripts/install-pi.sh`` on machines it must cope with, faked with commands on PATH: a 32-bit
OS is refused at once and says why, a ``--root`` build takes nothing from the machine it runs
on, and the machine-dependent steps (``scripts/install-lib.sh``) work without
systemd-sysusers or systemctl and keep the SPI reboot reminder until the reboot.

The real install on arm64 (a debootstrap root under qemu) is ``scripts/ci-arm64.sh`` in CI.
A fake ``id`` saying "not root" is on PATH wherever the whole script runs, so that a script
which failed to refuse could never change this machine.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kiosk.config import load_config
from tests.appliance.test_install import copy_checkout

LIB = "scripts/install-lib.sh"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


def fake_bin(folder: Path, **commands: str) -> Path:
    """A folder of shell scripts named after the commands they stand in for."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in commands.items():
        script = folder / name
        script.write_text("#!/bin/sh\n" + body + "\n")
        script.chmod(0o755)
    return folder


def install(checkout: Path, fakes: Path, *args: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "PATH": f"{fakes}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(checkout / "scripts/install-pi.sh"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


NOT_ROOT = "echo 1000"  # `id -u` of an ordinary user


@pytest.mark.parametrize(
    "machine",
    [
        # Raspberry Pi OS 32-bit on a Pi 4: the kernel is 64-bit, the userland is not.
        {"dpkg": "echo armhf", "uname": "echo aarch64"},
        # An old 32-bit kernel too.
        {"dpkg": "echo armhf", "uname": "echo armv7l"},
        # No dpkg at all: the kernel's word is all there is.
        {"dpkg": "exit 1", "uname": "echo armv7l"},
    ],
    ids=["armhf-on-64-bit-kernel", "armhf", "no-dpkg-armv7l"],
)
def test_a_32_bit_os_is_refused_at_once_saying_why(tmp_path, checkout, machine):
    fakes = fake_bin(tmp_path / "bin", id=NOT_ROOT, **machine)
    result = install(checkout, fakes, "--device-id", "kiosk-1", "--no-venv")
    assert result.returncode == 1, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert message.startswith("install: this is a 32-bit system (arm")
    assert "Doorstep needs the 64-bit Raspberry Pi OS" in message
    assert "Kivy 2.3.1" in message and "no wheel for 32-bit ARM" in message
    assert "GL/gl.h" in message and "Nothing was changed." in message
    assert "run as root" not in message  # refused before anything else is asked
    assert result.stdout == ""


def test_a_32_bit_root_is_refused_before_anything_is_written(tmp_path, checkout):
    root = tmp_path / "root"
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(
        "Package: dpkg\nStatus: install ok installed\nArchitecture: armhf\nVersion: 1.21.22\n\n"
    )
    result = install(checkout, fake_bin(tmp_path / "bin"), "--root", str(root), "--no-venv")
    assert result.returncode == 1
    assert "this is a 32-bit system (armhf)" in result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["var"]  # no etc/, opt/, usr/


def test_a_64_bit_root_passes_the_check(tmp_path, checkout):
    root = tmp_path / "root"
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(
        "Package: dpkg\nStatus: install ok installed\nArchitecture: arm64\nVersion: 1.21.22\n\n"
        "Package: python3\nStatus: install ok installed\nArchitecture: arm64\nVersion: 3.11.2\n\n"
    )
    result = install(checkout, fake_bin(tmp_path / "bin"), "--root", str(root), "--no-venv")
    assert result.returncode == 0, result.stderr
    # The root's own package list: python3 is there, the others are not.
    (line,) = [x for x in result.stdout.splitlines() if "apt-get install" in x]
    assert line.startswith("install: skipped (--root): apt-get install --no-install-recommends ")
    assert " python3-venv " in line and " python3 " not in f"{line} "


def test_a_root_build_takes_nothing_from_the_build_machine(tmp_path, checkout):
    # The build machine is called build-machine and has every package installed.
    fakes = fake_bin(
        tmp_path / "bin",
        hostname="echo build-machine",
        **{"dpkg-query": "echo 'install ok installed'"},
    )
    named = tmp_path / "named"
    (named / "etc").mkdir(parents=True)
    (named / "etc/hostname").write_text("hall-pi\n")
    unnamed = tmp_path / "unnamed"
    for root, device in ((named, "kiosk-hall-pi"), (unnamed, "kiosk-unnamed")):
        result = install(checkout, fakes, "--root", str(root), "--no-venv")
        assert result.returncode == 0, result.stderr
        config = load_config(root / "etc/doorstep/kiosk.toml")
        assert config.device.id == device
        assert "build-machine" not in result.stdout
        assert (
            f"skipped (--root): {root} has no dpkg database; on the device: apt-get install "
            "--no-install-recommends python3 python3-venv" in result.stdout
        )


def lib(checkout: Path, fakes: Path, script: str) -> subprocess.CompletedProcess:
    """Run ``script`` after sourcing install-lib.sh, with only ``fakes`` on PATH."""
    return subprocess.run(
        ["/bin/bash", "-c", f"set -euo pipefail; . {checkout / LIB}; {script}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(fakes), "ROOT": ""},
    )


def tools(folder: Path) -> Path:
    """The ordinary commands the library uses, from this machine, beside the fakes."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("grep", "sed", "cat", "tr", "touch"):
        (folder / name).symlink_to(shutil.which(name))
    return folder


def test_without_systemd_sysusers_missing_groups_are_created(tmp_path, checkout):
    state = tmp_path / "state"
    state.mkdir()
    (state / "groups").write_text("video\n")  # a minimal Debian: no input, render, spi, gpio
    log = state / "log"
    fakes = fake_bin(
        tools(tmp_path / "bin"),
        getent=f'grep -qx "$2" {state}/groups',
        groupadd=f'echo "groupadd $*" >> {log}; echo "$2" >> {state}/groups',
        useradd=f'echo "useradd $*" >> {log}; touch {state}/user',
        usermod=(
            f'echo "usermod $*" >> {log}; for g in $(echo "$2" | tr , " "); do '
            f'grep -qx "$g" {state}/groups || {{ echo "usermod: group $g does not exist" >&2; '
            "exit 6; }; done"
        ),
        id=f"test -e {state}/user",
    )
    result = lib(checkout, fakes, "kiosk_user_without_sysusers")
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "groupadd --system input",
        "groupadd --system render",
        "groupadd --system spi",
        "groupadd --system gpio",
        "useradd --system --home-dir / --no-create-home --shell /usr/sbin/nologin "
        "--comment Doorstep kiosk kiosk",
        "usermod -aG video,input,render,spi,gpio kiosk",
    ]
    assert "install: created the system group input" in result.stdout
    # A second run creates nothing and still adds the user to its groups.
    log.write_text("")
    again = lib(checkout, fakes, "kiosk_user_without_sysusers")
    assert (
        again.returncode == 0
        and log.read_text() == "usermod -aG video,input,render,spi,gpio kiosk\n"
    )


def test_without_systemctl_its_steps_are_skipped_saying_so(tmp_path, checkout):
    fakes = tools(tmp_path / "bin")  # no systemctl on PATH
    result = lib(
        checkout, fakes, "run_or_show systemctl restart doorstep-kiosk.service; echo rc=$?"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "install: skipped (no systemctl here): systemctl restart doorstep-kiosk.service",
        "rc=0",
    ]


def test_with_systemd_not_running_its_steps_are_skipped_saying_so(tmp_path, checkout):
    log = tmp_path / "log"
    fakes = fake_bin(tools(tmp_path / "bin"), systemctl=f'echo "$*" >> {log}')
    # A chroot or a container: systemctl is there, systemd does not run the machine.
    result = lib(
        checkout, fakes, "systemd_running() { false; }; run_or_show systemctl daemon-reload"
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout == "install: skipped (systemd is not running here): systemctl daemon-reload\n"
    )
    assert not log.exists()
    ran = lib(checkout, fakes, "systemd_running() { true; }; run_or_show systemctl daemon-reload")
    assert ran.returncode == 0 and log.read_text() == "daemon-reload\n"


def test_the_spi_reboot_reminder_stays_until_the_reboot(tmp_path, checkout):
    boot = tmp_path / "config.txt"
    boot.write_text("#dtparam=spi=on\n")
    spidev = tmp_path / "spidev0.0"  # what the kernel makes once SPI is on
    step = f"NEED_REBOOT=0; spi_step {boot} {spidev}; echo NEED_REBOOT=$NEED_REBOOT"
    fakes = tools(tmp_path / "bin")
    first = lib(checkout, fakes, step)
    assert first.stdout.splitlines()[-1] == "NEED_REBOOT=1" and "turned SPI on" in first.stdout
    assert boot.read_text() == "dtparam=spi=on\n"
    second = lib(checkout, fakes, step)  # run again before rebooting
    assert second.stdout.splitlines()[-1] == "NEED_REBOOT=1", second.stdout + second.stderr
    assert f"not yet in the running system (no {spidev})" in second.stdout
    spidev.touch()  # rebooted
    third = lib(checkout, fakes, step)
    assert third.stdout == "NEED_REBOOT=0\n" and boot.read_text() == "dtparam=spi=on\n"
