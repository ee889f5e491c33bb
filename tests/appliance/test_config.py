"""The configuration file: every key checked, and a wrong one stops with one line naming the
file, the section and the key, never a traceback."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.admin import main as admin_main
from kiosk.config import (
    EXIT_CONFIG,
    ConfigError,
    app_command,
    config_path,
    describe,
    find_config,
    hardware_settings,
    load_config,
    main,
    parse_config,
    sync_command,
)
from kiosk.hardware.select import FeedbackConfig, ReaderConfig
from tests.appliance.helpers import REPO, write_config

GOOD = """
[device]
id = "kiosk-hall-1"
site = "hall"
[store]
data = "/var/lib/doorstep"
retention_days = 30
[sync]
endpoint = "https://central.example.org/"
token_file = "/etc/doorstep/token"
batch_size = 100
interval = 15
[reader]
kind = "rc522"
reset_pin = 24
[feedback]
enabled = true
led_pin = 17
buzzer_pin = 27
[backup]
folder = "/var/backups/doorstep"
keep_days = 7
"""


def with_line(section: str, line: str) -> str:
    """GOOD with ``line`` (``key = value``) set in ``[section]``, replacing that key if there."""
    key = line.split("=")[0].strip()
    out, inside, done = [], False, False
    for row in GOOD.strip().splitlines():
        if row.startswith("["):
            if inside and not done:
                out.append(line)
                done = True
            inside = row == f"[{section}]"
        elif inside and row.split("=")[0].strip() == key:
            out.append(line)
            done = True
            continue
        out.append(row)
    if inside and not done:
        out.append(line)
    elif not done:
        out += [f"[{section}]", line]
    return "\n".join(out) + "\n"


def test_a_good_file_gives_every_setting():
    config = parse_config(GOOD, "/etc/doorstep/kiosk.toml")
    assert config.device.id == "kiosk-hall-1" and config.device.site == "hall"
    assert config.store.retention_days == 30
    assert config.sync.endpoint == "https://central.example.org"  # trailing slash dropped
    assert (config.sync.batch_size, config.sync.interval) == (100, 15.0)
    assert config.reader.kind == "rc522" and config.reader.reset_pin == 24
    assert config.feedback.enabled and config.feedback.led_pin == 17
    assert config.backup.keep_days == 7 and config.notes == ()


def test_an_installed_kiosks_sessions_source_line_still_loads_with_a_note_to_delete_it(caplog):
    """Every kiosk installed before ``[sessions]`` went has ``source = "local"``: an upgrade
    must not stop its door, and the admin is told the section can go."""
    config = parse_config(GOOD + '[sessions]\nsource = "local"\n', "/etc/doorstep/kiosk.toml")
    assert config == parse_config(GOOD, "/etc/doorstep/kiosk.toml")
    assert len(config.notes) == 1 and "delete the [sessions] section" in config.notes[0]
    assert ("note", config.notes[0]) in describe(config)
    assert "no longer needed" in caplog.text


def test_only_the_device_is_required_and_defaults_fit_the_appliance():
    config = parse_config('[device]\nid = "k1"\nsite = "s1"\n', "k.toml")
    assert config.store.data == Path("/var/lib/doorstep")
    assert config.sync.endpoint == "" and config.reader.kind == "rc522"
    assert config.backup.folder == Path("/var/backups/doorstep")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            with_line("sync", 'batch_size = "lots"'),
            "[sync] batch_size: must be a whole number from 1 to 1000, not 'lots'",
        ),
        (with_line("sync", "batch_size = 0"), "[sync] batch_size: must be a whole number"),
        (with_line("sync", "batch_size = true"), "[sync] batch_size: must be a whole number"),
        (with_line("sync", "batchsize = 5"), "[sync] batchsize: unknown key; the keys of [sync]"),
        (with_line("sync", "interval = 0"), "[sync] interval: must be a number from 1 to 86400"),
        (
            with_line("sync", 'endpoint = "http://central.example.org"'),
            "[sync] endpoint: http://central.example.org is plain http",
        ),
        (with_line("sync", 'endpoint = "ftp://x.org"'), "[sync] endpoint: must be a URL like"),
        (
            with_line("sync", 'endpoint = "https://kiosk:secret@central.example.org"'),
            "[sync] endpoint: must not hold a user name or password",
        ),
        (
            with_line("sync", 'ca_file = "/nonexistent/ca.pem"'),
            "[sync] ca_file: /nonexistent/ca.pem does not exist",
        ),
        (with_line("sync", 'token_file = "token"'), "[sync] token_file: must be an absolute path"),
        (with_line("store", "retention_days = 0"), "[store] retention_days: must be a whole"),
        (with_line("store", 'data = "/"'), "[store] data: must be a folder of its own"),
        (with_line("device", 'id = "kiosk 1"'), "[device] id: must be 1-64 letters"),
        (with_line("reader", 'kind = "nfc"'), "[reader] kind: Unknown card reader kind 'nfc'"),
        (with_line("reader", "reset_pin = 9"), "[reader] reset_pin: GPIO9 is one of the SPI pins"),
        (with_line("reader", 'reset_pin = "25"'), "[reader] reset_pin: must be a whole number"),
        (with_line("reader", "spi_speed_hz = 5"), "[reader] spi_speed_hz: must be between 10 kHz"),
        (with_line("reader", "colour = 1"), "[reader] colour: unknown key; the keys of [reader]"),
        (with_line("feedback", "led_pin = 24"), "[feedback] led_pin: GPIO24 is the card reader's"),
        (with_line("feedback", "buzzer_pin = 17"), "[feedback] buzzer_pin: The LED and the buzzer"),
        (with_line("feedback", 'enabled = "yes"'), "[feedback] enabled: must be true or false"),
        (
            GOOD + '[sessions]\nsource = "web"\n',
            "[sessions] source: the timetable is always kept on the kiosk and edited with "
            "kiosk-admin session; delete this line (it says 'web')",
        ),
        (with_line("backup", "keep_days = -1"), "[backup] keep_days: must be a whole number"),
        (GOOD + "\n[extras]\nx = 1\n", "unknown section [extras]; the sections are [device]"),
        ('[store]\ndata = "/srv"\n', "the [device] section (id, site) is missing"),
        ("[device\nid = 1", "not valid TOML"),
    ],
)
def test_a_wrong_value_names_the_file_section_and_key(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "/etc/doorstep/kiosk.toml")
    assert str(caught.value).startswith("/etc/doorstep/kiosk.toml: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_http_is_allowed_to_this_machine_only():
    for url in ("http://127.0.0.1:8080", "http://localhost:8000", "http://[::1]:9000"):
        assert parse_config(with_line("sync", f'endpoint = "{url}"')).sync.endpoint == url


def test_reset_pin_none_and_usb_device_empty_are_spelt_in_toml():
    config = parse_config(with_line("reader", 'reset_pin = "none"'))
    assert config.reader.reset_pin is None
    config = parse_config(with_line("reader", 'usb_device = ""'))
    assert config.reader.usb_device is None


def test_the_file_is_found_by_option_then_environment_then_default(tmp_path):
    assert config_path("/a.toml", env={"KIOSK_CONFIG": "/b.toml"}) == Path("/a.toml")
    assert config_path(None, env={"KIOSK_CONFIG": "/b.toml"}) == Path("/b.toml")
    assert config_path(None, env={}) == Path("/etc/doorstep/kiosk.toml")
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")


def test_kiosk_admin_config_check_prints_the_settings(tmp_path):
    config = write_config(
        tmp_path / "kiosk.toml",
        tmp_path / "data",
        tmp_path / "backups",
        sync={"endpoint": "https://central.example.org", "token_file": str(tmp_path / "token")},
    )
    out, err = io.StringIO(), io.StringIO()
    code = admin_main(["--config", str(config), "config", "check"], out=out, err=err)
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"config: {config}"
    assert "device: kiosk-test-1 at site test-site" in lines
    assert "reader: fake reader" in lines
    assert any(line.startswith("warn: [sync] token_file: ") for line in lines)
    assert lines[-1] == "config ok"


def test_kiosk_admin_stops_on_a_bad_config_with_one_line_and_status_1(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text(with_line("sync", 'batch_size = "lots"'))
    for argv in (["config", "check"], ["doctor"], ["status"], ["backup", "list"]):
        out, err = io.StringIO(), io.StringIO()
        code = admin_main(["--config", str(bad), *argv], out=out, err=err)
        text = (out.getvalue() + err.getvalue()).strip()
        assert code == 1, argv
        assert (
            f"{bad}: [sync] batch_size: must be a whole number from 1 to 1000, not 'lots'" in text
        )
        assert "Traceback" not in text


def test_the_data_folder_comes_from_the_config_unless_given(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_DATA", raising=False)
    config = write_config(tmp_path / "kiosk.toml", tmp_path / "from-config", tmp_path / "b")
    out = io.StringIO()
    assert admin_main(["--config", str(config), "status"], out=out, err=io.StringIO()) == 0
    assert f"data: {tmp_path / 'from-config'}" in out.getvalue()
    out = io.StringIO()
    admin_main(
        ["--config", str(config), "--data", str(tmp_path / "given"), "status"],
        out=out,
        err=io.StringIO(),
    )
    assert f"data: {tmp_path / 'given'}" in out.getvalue()


def test_the_sync_unit_gets_the_daemons_options_from_the_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("abc123\n")
    config = load_config(
        write_config(
            tmp_path / "kiosk.toml",
            tmp_path / "data",
            tmp_path / "b",
            sync={"endpoint": "https://c.example.org", "token_file": str(token), "interval": 45},
        )
    )
    argv = sync_command(config)
    assert Path(argv[0]).name == "kiosk-sync" or argv[1:3] == ["-m", "sync.daemon"]
    options = argv[argv.index("--data") :]
    assert options == [
        "--data",
        str(tmp_path / "data"),
        "--endpoint",
        "https://c.example.org",
        "--token-file",
        str(token),
        "--batch-size",
        "200",
        "--poll-interval",
        "45",
        "--retention-days",
        "90",  # the store's default: the file sets none
    ]
    from sync.daemon import build_parser

    build_parser().parse_args(options)  # the daemon accepts exactly these


def test_the_files_retention_default_and_bound_are_the_stores():
    from kiosk import config
    from kiosk.store import layout

    assert config.DEFAULT_RETENTION_DAYS == layout.DEFAULT_RETENTION_DAYS
    assert config.MAX_RETENTION_DAYS == layout.MAX_RETENTION_DAYS


def test_the_stores_retention_window_reaches_the_sync_daemon_which_prunes(tmp_path):
    token = tmp_path / "token"
    token.write_text("abc123\n")
    path = write_config(
        tmp_path / "kiosk.toml",
        tmp_path / "data",
        tmp_path / "b",
        store={"retention_days": 30},
        sync={"endpoint": "https://c.example.org", "token_file": str(token)},
    )
    argv = sync_command(load_config(path))
    assert argv[argv.index("--retention-days") + 1] == "30"
    from sync.daemon import build_parser

    assert build_parser().parse_args(argv[argv.index("--data") :]).retention_days == 30


def test_the_sync_unit_refuses_to_start_without_endpoint_or_token(tmp_path, capsys):
    path = write_config(tmp_path / "kiosk.toml", tmp_path / "data", tmp_path / "b")
    ran = []
    assert main(["--config", str(path), "exec", "sync"], execv=lambda *a: ran.append(a)) == 6
    assert "[sync] endpoint: is not set" in capsys.readouterr().err
    write_config(
        path,
        tmp_path / "data",
        tmp_path / "b",
        sync={"endpoint": "https://c.example.org", "token_file": str(tmp_path / "none")},
    )
    assert main(["--config", str(path), "exec", "sync"], execv=lambda *a: ran.append(a)) == 6
    assert "[sync] token_file: " in capsys.readouterr().err and ran == []


def test_the_kiosk_unit_starts_the_app_full_screen_on_the_same_file_and_enrols_the_device(
    tmp_path, capsys
):
    data = tmp_path / "data"
    data.mkdir()
    path = write_config(tmp_path / "kiosk.toml", data, tmp_path / "b", reader={"kind": "usb"})
    ran: list = []
    assert main(["--config", str(path), "exec", "app"], execv=lambda *a: ran.append(a)) == 0
    ((program, argv),) = ran
    assert argv[argv.index("--config") + 1] == str(path) and "--fullscreen" in argv
    from kiosk.app import build_parser

    args = build_parser().parse_args(argv[argv.index("--config") :])
    assert (args.config, args.fullscreen, args.reader, args.feedback) == (
        str(path),
        True,
        None,  # the kind and on/off are the file's, not the command line's
        None,
    )
    assert (data / "device.json").read_text().count("kiosk-test-1") == 1
    assert "not used" not in capsys.readouterr().err


def test_every_reader_and_feedback_key_reaches_the_app(tmp_path):
    path = write_config(
        tmp_path / "k.toml",
        tmp_path,
        tmp_path,
        reader={"kind": "rc522", "reset_pin": 22, "spi_device": 1},
        feedback={"enabled": True, "led_pin": 5, "buzzer_pin": 6},
    )
    command = app_command(load_config(path), ["--size", "1024x600"])
    assert command[-5:] == ["--config", str(path), "--fullscreen", "--size", "1024x600"]
    reader, feedback = hardware_settings(load_config(path))
    assert (reader.kind, reader.reset_pin, reader.spi_device) == ("rc522", 22, 1)
    assert (feedback.enabled, feedback.led_pin, feedback.buzzer_pin) == (True, 5, 6)


def test_the_command_line_changes_only_the_kind_and_on_off(tmp_path):
    config = load_config(
        write_config(
            tmp_path / "k.toml",
            tmp_path,
            tmp_path,
            reader={"kind": "rc522", "usb_device": "/dev/input/event7", "reset_pin": 22},
            feedback={"enabled": True, "led_pin": 5, "buzzer_pin": 6},
        )
    )
    reader, feedback = hardware_settings(config, reader="usb", feedback="none")
    assert (reader.kind, reader.usb_device, reader.reset_pin) == ("usb", "/dev/input/event7", 22)
    assert (feedback.enabled, feedback.led_pin) == (False, 5)
    reader, feedback = hardware_settings(config, demo=True)
    assert (reader.kind, feedback.enabled) == ("fake", False)
    reader, feedback = hardware_settings(config, demo=True, reader="rc522", feedback="gpio")
    assert (reader.kind, reader.reset_pin, feedback.enabled, feedback.buzzer_pin) == (
        "rc522",
        22,
        True,
        6,
    )
    reader, feedback = hardware_settings(None)
    assert (reader, feedback) == (ReaderConfig(kind="rc522"), FeedbackConfig(enabled=True))


def test_a_kind_given_on_the_command_line_is_checked_against_the_file_pins(tmp_path):
    path = write_config(
        tmp_path / "k.toml",
        tmp_path,
        tmp_path,
        reader={"kind": "usb", "reset_pin": 22},
        feedback={"enabled": True, "led_pin": 22, "buzzer_pin": 6},
    )
    config = load_config(path)  # a USB reader has no reset pin: no clash in the file
    with pytest.raises(ConfigError) as caught:
        hardware_settings(config, reader="rc522")
    assert str(caught.value) == f"{path}: [feedback] led_pin: GPIO22 is the card reader's reset_pin"


def test_a_named_config_must_exist_but_the_default_may_be_missing(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="nope.toml: no such file"):
        find_config(missing, env={})
    with pytest.raises(ConfigError, match="nope.toml: no such file"):
        find_config(None, env={"KIOSK_CONFIG": str(missing)})
    if not Path("/etc/doorstep/kiosk.toml").exists():
        assert find_config(None, env={}) is None
    good = write_config(tmp_path / "k.toml", tmp_path, tmp_path)
    assert find_config(None, env={"KIOSK_CONFIG": str(good)}).path == good


def test_python_m_kiosk_config_exits_6_with_one_line(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text(with_line("reader", "reset_pin = 9"))
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.config", "--config", str(bad), "exec", "app"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip() == (
        f"doorstep: {bad}: [reader] reset_pin: GPIO9 is one of the SPI pins the RC522 uses"
    )


def test_the_modules_docstring_examples_run():
    import doctest

    import kiosk.backup
    import kiosk.config

    for module in (kiosk.config, kiosk.backup):
        assert doctest.testmod(module).failed == 0


def test_before_the_first_start_status_and_taps_use_the_configured_identity(tmp_path, monkeypatch):
    """No ``device.json`` yet (no service has run): the [device] of kiosk.toml is the kiosk's
    name, not the host's, both in ``status`` and in the events kiosk-admin records."""
    import socket

    monkeypatch.delenv("KIOSK_DATA", raising=False)
    monkeypatch.setattr(socket, "gethostname", lambda: "build-machine")
    data = tmp_path / "data"
    config = write_config(tmp_path / "kiosk.toml", data, tmp_path / "b")
    run = ["--config", str(config)]
    err = io.StringIO()
    assert (
        admin_main(
            [
                *run,
                "family",
                "add",
                "--name",
                "Sarah",
                "--postcode",
                "WS7 1AA",
                "--card",
                "04A23B1C",
            ],
            out=io.StringIO(),
            err=err,
        )
        == 0
    ), err.getvalue()
    out = io.StringIO()
    assert admin_main([*run, "status"], out=out, err=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert "device: kiosk-test-1" in lines and "site: test-site" in lines
    assert "enrolled: no: kiosk-admin enrol" in lines
    from kiosk.store import LocalStore

    with LocalStore(data) as store:
        assert {(e.device_id, e.site_id) for e in store.events()} == {("kiosk-test-1", "test-site")}
    assert not (data / "device.json").exists()  # naming it for good is the app's or enrol's


def test_without_device_json_the_configured_identity_wins_over_the_host_name(tmp_path, monkeypatch):
    import socket

    from kiosk.domain.events import DeviceIdentity
    from kiosk.identity import IdentityFile, load_identity, save_identity

    monkeypatch.setattr(socket, "gethostname", lambda: "build-machine")
    configured = DeviceIdentity("kiosk-a", "hall")
    assert load_identity(tmp_path, configured) == configured
    assert load_identity(tmp_path).device_id == "kiosk-build-machine"  # no config at all
    assert IdentityFile(tmp_path, configured)() == configured
    save_identity(tmp_path, DeviceIdentity("kiosk-b", "yard"))  # enrolled: the file wins
    assert load_identity(tmp_path, configured) == DeviceIdentity("kiosk-b", "yard")
