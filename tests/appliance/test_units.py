"""The systemd units: ``systemd-analyze verify`` passes on every one, the sync daemon and the
kiosk app are watched, the sync daemon is hardened, the kiosk app owns tty1 with the right
groups, backups run nightly, the journal is capped, and every ExecStart= is a command line our
programs accept. The central server's units (issue 19) are checked the same way: every service
has an exposure under 3, and the server's files are its own (UMask=0077, StateDirectory=).

``verify`` checks that ExecStart= binaries exist, so the units are copied with /opt/doorstep
pointing into a temporary tree whose ``current/venv`` is this test's Python environment.
Needs Debian's ``systemd`` package (``systemd-analyze``); skipped with a message without it.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.appliance.helpers import REPO

UNITS_DIR = REPO / "systemd"
UNITS = sorted(p.name for p in UNITS_DIR.glob("*.service")) + sorted(
    p.name for p in UNITS_DIR.glob("*.timer")
)
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze missing: apt-get install systemd"
)


def settings(name: str) -> dict[str, list[str]]:
    """``Key: [values...]`` of a unit (a key may repeat, as systemd allows)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in (UNITS_DIR / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key}", []).append(value)
    return out


def one(name: str, key: str) -> str:
    values = settings(name)[key]
    assert len(values) == 1, (name, key, values)
    return values[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The units with /opt/doorstep pointing at a tree whose venv is this Python's."""
    root = tmp_path_factory.mktemp("root")
    venv = Path(sys.executable).parent.parent
    (root / "opt/doorstep/current").mkdir(parents=True)
    (root / "opt/doorstep/current/venv").symlink_to(venv)
    (root / "opt/doorstep-central").mkdir(parents=True)
    (root / "opt/doorstep-central/venv").symlink_to(venv)
    units = root / "units"
    units.mkdir()
    for name in UNITS:
        text = (UNITS_DIR / name).read_text().replace("/opt/doorstep", str(root / "opt/doorstep"))
        (units / name).write_text(text)
    return units


def test_the_expected_units_are_there():
    assert UNITS == [
        "doorstep-backup.service",
        "doorstep-central-backup.service",
        "doorstep-central.service",
        "doorstep-kiosk.service",
        "doorstep-sync.service",
        "doorstep-backup.timer",
        "doorstep-central-backup.timer",
    ]


@needs_analyze
def test_systemd_analyze_verify_passes_on_every_unit(installed):
    result = subprocess.run(
        [ANALYZE, "verify", "--man=no", *UNITS],
        cwd=installed,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify exits 0 on unknown keys too, but says so: any output is a finding.
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr


@needs_analyze
def test_verify_would_catch_a_misspelt_key(installed, tmp_path):
    bad = tmp_path / "doorstep-sync.service"
    bad.write_text(
        (installed / "doorstep-sync.service").read_text().replace("WatchdogSec", "WatchdogSex")
    )
    result = subprocess.run(
        [ANALYZE, "verify", "--man=no", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert "Unknown key" in result.stderr and "WatchdogSex" in result.stderr


def security(installed: Path, unit: str) -> str:
    """``systemd-analyze security --offline=true`` of an installed unit (its table)."""
    result = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", unit],
        cwd=installed,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout + result.stderr


@needs_analyze
@pytest.mark.parametrize("unit", [u for u in UNITS if u.endswith(".service")])
def test_every_unit_has_an_exposure_under_3(installed, unit):
    table = security(installed, unit)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", table)
    assert found, table
    print(found.group(0))  # pytest -s shows the levels
    assert float(found.group(1)) < 3.0, table


@needs_analyze
def test_the_kiosk_app_may_still_read_the_clock_status(installed):
    """``~@privileged`` holds ``@clock``: adjtimex must be added back after it, or every tap
    would be recorded as made with an unsynchronised clock (kiosk/clock.py)."""
    table = security(installed, "doorstep-kiosk.service")
    assert "@clock is included (e.g. adjtimex is allowed)" in table, table


def test_the_kiosk_app_gets_only_the_devices_it_needs():
    unit = "doorstep-kiosk.service"
    assert one(unit, "Service.DevicePolicy") == "closed"
    assert sorted(settings(unit)["Service.DeviceAllow"]) == [
        "/dev/tty1 rw",  # the screen it owns
        "char-drm rw",  # /dev/dri: the display and the GPU
        "char-gpiochip rw",  # LED, buzzer, the reader's reset pin (lgpio)
        "char-input rw",  # touchscreen, USB card reader
        "char-spi rw",  # /dev/spidev0.0: the RC522
    ]
    for key, value in {
        "SystemCallArchitectures": "native",
        "RestrictRealtime": "yes",
        "ProtectProc": "invisible",
        "RemoveIPC": "yes",
        "IPAddressDeny": "any",
        "SystemCallErrorNumber": "EPERM",
    }.items():
        assert one(unit, f"Service.{key}") == value, key
    assert settings(unit)["Service.SystemCallFilter"] == [
        "@system-service",
        "~@privileged @resources",
        "adjtimex clock_adjtime",
    ]


def test_the_sync_daemon_is_watched_restarted_and_hardened():
    unit = "doorstep-sync.service"
    assert one(unit, "Service.Type") == "notify"
    assert one(unit, "Service.NotifyAccess") == "main"
    assert int(one(unit, "Service.WatchdogSec")) >= 30
    assert one(unit, "Service.Restart") == "on-failure"
    assert one(unit, "Service.RestartPreventExitStatus") == "6"  # a config error: no loop
    assert one(unit, "Service.User") == "kiosk"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/var/lib/doorstep",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "RestrictSUIDSGID": "yes",
        "LockPersonality": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert one(unit, f"Service.{key}") == value, key
    assert "@system-service" in settings(unit)["Service.SystemCallFilter"]
    assert one(unit, "Unit.After").startswith("network-online.target")
    assert "StartLimitBurst" in "".join(settings(unit))


def test_the_kiosk_app_is_watched_so_a_hung_screen_is_restarted():
    unit = "doorstep-kiosk.service"
    assert one(unit, "Service.Type") == "notify"
    # python -m kiosk.config execs the app: the same PID sends READY=1 and the pings.
    assert one(unit, "Service.NotifyAccess") == "main"
    from kiosk.app import WATCHDOG_PING_SECONDS

    watchdog = int(one(unit, "Service.WatchdogSec"))
    assert watchdog >= 3 * WATCHDOG_PING_SECONDS  # a late ping or two is not a restart
    assert one(unit, "Service.Restart") == "always"
    assert int(one(unit, "Service.TimeoutStartSec")) >= 60  # Kivy's first frame on a Pi 3


def test_the_kiosk_app_owns_tty1_with_the_devices_it_needs():
    unit = "doorstep-kiosk.service"
    assert one(unit, "Service.TTYPath") == "/dev/tty1"
    assert one(unit, "Unit.Conflicts") == "getty@tty1.service"
    assert set(one(unit, "Service.SupplementaryGroups").split()) == {
        "video",
        "input",
        "render",
        "spi",
        "gpio",
    }
    env = " ".join(settings(unit)["Service.Environment"])
    assert "SDL_VIDEODRIVER=kmsdrm" in env and "KIVY_WINDOW=sdl2" in env
    assert one(unit, "Service.Restart") in ("always", "on-failure")
    assert one(unit, "Service.ReadWritePaths") == "/var/lib/doorstep"
    assert one(unit, "Service.ProtectSystem") == "strict"
    assert one(unit, "Service.NoNewPrivileges") == "yes"
    assert "ProtectClock" not in "".join(settings(unit))  # clock_synced reads adjtimex


def test_backups_run_nightly_and_catch_up_after_a_night_switched_off():
    assert one("doorstep-backup.timer", "Timer.OnCalendar") == "*-*-* 02:30:00"
    assert one("doorstep-backup.timer", "Timer.Persistent") == "true"
    assert one("doorstep-backup.timer", "Install.WantedBy") == "timers.target"
    assert one("doorstep-backup.service", "Service.Type") == "oneshot"
    assert one("doorstep-backup.service", "Service.PrivateNetwork") == "yes"


def test_the_journal_is_capped_so_the_sd_card_does_not_fill():
    conf = configparser.ConfigParser()
    conf.read(UNITS_DIR / "journald-doorstep.conf")
    journal = conf["Journal"]
    assert journal["Storage"] in ("volatile", "persistent")
    assert journal["SystemMaxUse"] and journal["RuntimeMaxUse"] and journal["SystemKeepFree"]


def test_the_sysusers_file_creates_the_kiosk_user_with_its_groups():
    lines = [
        line.split()
        for line in (UNITS_DIR / "doorstep.sysusers").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[[x[0] for x in lines].index("u")][:3] == ["u", "kiosk", "-"]
    assert {x[2] for x in lines if x[0] == "m"} == {"video", "input", "render", "spi", "gpio"}


def test_every_exec_start_is_a_command_our_programs_accept():
    from kiosk.admin_parser import build_parser as admin_parser

    for name in ("doorstep-kiosk.service", "doorstep-sync.service", "doorstep-backup.service"):
        argv = shlex.split(one(name, "Service.ExecStart"))
        assert argv[0].startswith("/opt/doorstep/current/venv/bin/")
        if argv[1:3] == ["-m", "kiosk.config"]:
            assert argv[3:5] == ["--config", "/etc/doorstep/kiosk.toml"]
            assert argv[5:] in (["exec", "app"], ["exec", "sync"])
        else:
            assert Path(argv[0]).name == "kiosk-admin"
            args = admin_parser().parse_args(argv[1:])
            assert args.config == "/etc/doorstep/kiosk.toml" and args.command == "backup"


def test_the_central_server_keeps_its_files_to_itself():
    for unit in ("doorstep-central.service", "doorstep-central-backup.service"):
        assert one(unit, "Service.User") == "doorstep-central"
        assert one(unit, "Service.UMask") == "0077"
        assert one(unit, "Service.StateDirectory") == "doorstep-central"
        assert one(unit, "Service.StateDirectoryMode") == "0700"
        assert one(unit, "Service.ProtectSystem") == "strict"
        assert one(unit, "Service.CapabilityBoundingSet") == ""
    assert one("doorstep-central.service", "Service.Restart") == "on-failure"
    assert "ReadWritePaths" not in "".join(settings("doorstep-central.service"))
    assert one("doorstep-central-backup.service", "Service.ReadWritePaths") == (
        "-/var/backups/doorstep-central"
    )
    assert one("doorstep-central-backup.service", "Service.Type") == "oneshot"
    assert one("doorstep-central-backup.timer", "Timer.Persistent") == "true"
    assert one("doorstep-central-backup.timer", "Install.WantedBy") == "timers.target"


def test_the_central_units_run_commands_kiosk_central_accepts():
    from central.cli import build_parser as central_parser

    commands = {}
    for name in ("doorstep-central.service", "doorstep-central-backup.service"):
        argv = shlex.split(one(name, "Service.ExecStart"))
        assert argv[0] == "/opt/doorstep-central/venv/bin/kiosk-central"
        args = central_parser().parse_args(argv[1:])
        assert args.config == "/etc/doorstep-central/central.toml"
        commands[name] = args
    assert commands["doorstep-central.service"].command == "serve"
    backup = commands["doorstep-central-backup.service"]
    assert backup.command == "backup" and backup.file is None  # into [backup] folder


def test_the_central_folders_match_what_the_units_expect():
    lines = [
        line.split()
        for line in (UNITS_DIR / "doorstep-central.tmpfiles").read_text().splitlines()
        if line.startswith("d ")
    ]
    assert [x[1:5] for x in lines] == [
        ["/etc/doorstep-central", "0750", "root", "doorstep-central"],
        ["/var/lib/doorstep-central", "0700", "doorstep-central", "doorstep-central"],
        ["/var/backups/doorstep-central", "0700", "doorstep-central", "doorstep-central"],
    ]
