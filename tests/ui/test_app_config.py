"""``kiosk --config FILE``: the app opens the card reader and the LED and buzzer exactly as the
configuration file describes them, the same settings ``kiosk-admin reader test`` and ``doctor``
use; the command line changes only the kind and on/off; a named file that is missing or wrong
stops the app with one line naming the file and the key.

``kiosk.app.main`` runs for real (the file, the store, the desk); only the hardware openers and
the Kivy app itself are stand-ins, so no window or device is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import kiosk.app
from kiosk.config import load_config
from kiosk.doctor import Probes, check_reader
from kiosk.hardware.fake import FakeReader
from kiosk.hardware.select import FeedbackConfig, ReaderConfig
from kiosk.identity import save_identity
from tests.appliance.helpers import DEVICE, write_config


class Opened:
    """What the app asked the hardware seam for, and what it handed the Kivy app."""

    def __init__(self) -> None:
        self.readers: list[ReaderConfig] = []
        self.feedback: list[FeedbackConfig] = []
        self.app: dict[str, Any] = {}
        self.kivy_configured = False


@pytest.fixture
def opened(monkeypatch) -> Opened:
    got = Opened()

    def open_reader(config: ReaderConfig) -> object:
        got.readers.append(config)
        return object()

    def open_feedback(config: FeedbackConfig) -> object:
        got.feedback.append(config)
        return object()

    class StandInApp:
        def __init__(self, desk: Any, store: Any, volunteers: Any, **kwargs: Any) -> None:
            got.app = dict(kwargs, store=store)

        def show_reader_health(self, health: Any) -> None:
            got.app["health"] = health

        def run(self) -> None:
            pass

    def configure_kivy(*_: Any) -> None:
        got.kivy_configured = True

    monkeypatch.setattr("kiosk.hardware.select.open_reader", open_reader)
    monkeypatch.setattr("kiosk.hardware.select.open_feedback", open_feedback)
    monkeypatch.setattr("kiosk.ui.kioskapp.KioskApp", StandInApp)
    monkeypatch.setattr(kiosk.app, "configure_kivy", configure_kivy)
    for name in ("KIOSK_CONFIG", "KIOSK_DATA", "NOTIFY_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    return got


def kiosk_toml(tmp_path: Path, **sections: dict) -> tuple[Path, Path]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    save_identity(data, DEVICE)
    return write_config(tmp_path / "kiosk.toml", data, tmp_path / "backups", **sections), data


def no_systemd(_unit: str) -> None:
    return None


USB = {
    "kind": "usb",
    "usb_device": "/dev/input/by-id/usb-ACME_RFID-event-kbd",
    "usb_uid_format": "decimal",
    "usb_byte_order": "big",
    "poll_interval": 0.2,
    "hold_window": 2.5,
}
PINS = {"enabled": True, "led_pin": 5, "buzzer_pin": 6, "buzzer_active_high": False}


def test_kiosk_opens_the_usb_reader_and_the_feedback_pins_the_config_file_names(opened, tmp_path):
    path, data = kiosk_toml(tmp_path, reader=USB, feedback=PINS)
    assert kiosk.app.main(["--config", str(path)]) == 0
    assert opened.readers == [
        ReaderConfig(
            kind="usb",
            usb_device="/dev/input/by-id/usb-ACME_RFID-event-kbd",
            usb_uid_format="decimal",
            usb_byte_order="big",
            poll_interval=0.2,
            hold_window=2.5,
        )
    ]
    assert opened.feedback == [
        FeedbackConfig(enabled=True, led_pin=5, buzzer_pin=6, buzzer_active_high=False)
    ]
    # Exactly what kiosk-admin doctor tests.
    tested: list[ReaderConfig] = []
    probes = Probes(open_reader=lambda c: tested.append(c) or FakeReader(), unit_active=no_systemd)
    check_reader(load_config(path), probes)
    assert tested == opened.readers
    assert opened.app["reader_loop_factory"].keywords == {
        "poll_interval": 0.2,
        "hold_window": 2.5,
        "failures_before_reset": 3,
    }
    assert Path(opened.app["store"].data_dir) == data  # [store] data, with no --data


def test_kiosk_config_in_the_environment_is_read_like_kiosk_admins(opened, tmp_path, monkeypatch):
    path, _ = kiosk_toml(tmp_path, reader={"kind": "rc522", "reset_pin": 22, "spi_device": 1})
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert kiosk.app.main([]) == 0
    assert (opened.readers[0].kind, opened.readers[0].reset_pin) == ("rc522", 22)
    assert opened.readers[0].spi_device == 1


def test_the_command_line_changes_the_kind_and_on_off_but_keeps_the_files_wiring(opened, tmp_path):
    path, _ = kiosk_toml(
        tmp_path, reader=dict(USB, reset_pin=22, spi_device=1), feedback=dict(PINS, enabled=False)
    )
    assert kiosk.app.main(["--config", str(path), "--reader", "rc522", "--feedback", "gpio"]) == 0
    (reader,) = opened.readers
    assert (reader.kind, reader.reset_pin, reader.spi_device, reader.poll_interval) == (
        "rc522",
        22,
        1,
        0.2,
    )
    assert opened.feedback == [
        FeedbackConfig(enabled=True, led_pin=5, buzzer_pin=6, buzzer_active_high=False)
    ]


def test_demo_mode_keeps_the_fake_reader_and_no_feedback_unless_told(opened, tmp_path):
    path, _ = kiosk_toml(tmp_path, reader=USB, feedback=PINS)
    demo = ["--demo", "--config", str(path)]
    assert kiosk.app.main([*demo, "--data", str(tmp_path / "demo1")]) == 0
    assert [r.kind for r in opened.readers] == ["fake"]
    assert [f.enabled for f in opened.feedback] == [False]
    assert kiosk.app.main([*demo, "--data", str(tmp_path / "demo2"), "--feedback", "gpio"]) == 0
    assert opened.feedback[-1] == FeedbackConfig(**PINS)


def test_with_no_config_file_installed_the_built_in_defaults_hold(opened, tmp_path, monkeypatch):
    monkeypatch.setattr("kiosk.config.DEFAULT_CONFIG", tmp_path / "not-installed.toml")
    data = tmp_path / "data"
    assert kiosk.app.main(["--data", str(data)]) == 0
    assert opened.readers == [ReaderConfig(kind="rc522")]
    assert opened.feedback == [FeedbackConfig(enabled=True)]


def test_a_named_config_file_that_is_missing_stops_with_one_line(opened, tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    assert kiosk.app.main(["--config", str(missing)]) == 1
    assert capsys.readouterr().err == (
        f"kiosk: cannot start: {missing}: no such file (scripts/install-pi.sh writes one)\n"
    )
    assert not opened.kivy_configured and opened.readers == []


def test_a_wrong_key_stops_with_one_line_naming_the_file_and_the_key(opened, tmp_path, capsys):
    path, _ = kiosk_toml(tmp_path, reader={"kind": "usb", "usb_uid_format": "octal"})
    assert kiosk.app.main(["--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"kiosk: cannot start: {path}: [reader] usb_uid_format: ")
    assert err.count("\n") == 1 and not opened.kivy_configured


def test_the_help_says_where_the_settings_come_from(capsys):
    with pytest.raises(SystemExit):
        kiosk.app.build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--config FILE" in text and "$KIOSK_CONFIG" in text
    assert "/etc/doorstep/kiosk.toml" in text
    assert "default: the config's kind, else rc522; fake in demo mode" in text
