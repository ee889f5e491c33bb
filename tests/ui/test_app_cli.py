"""``kiosk`` as a person starts it: demo mode on a machine with no screen, under Xvfb, and the
real kiosk whose card reader is missing. Each run is a separate process (Kivy's window is once
per process), closed by ``--quit-after`` with a screenshot of what it showed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.app import build_parser
from tests.ui.driver import REPO, SCREENSHOTS

pytestmark = pytest.mark.ui


def run_kiosk(args: list[str], tmp_path: Path, wrapper: list[str] = (), timeout: float = 120):
    env = dict(os.environ)
    env["KIVY_HOME"] = str(tmp_path / "kivy-home")
    env["KIVY_NO_FILELOG"] = "1"
    env.pop("KIVY_LOG_MODE", None)
    return subprocess.run(
        [*wrapper, sys.executable, "-m", "kiosk.app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def colours(path: Path) -> int:
    return len(Image.open(path).convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_demo_mode_runs_on_a_machine_with_no_screen(tmp_path):
    shot = tmp_path / "demo.png"
    env_display = os.environ.get("DISPLAY")
    if env_display:
        pytest.skip("this machine has a display; the Xvfb test covers a real X server")
    result = run_kiosk(["--demo", "--quit-after", "4", "--screenshot", str(shot)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "press 1 to tap Sarah's card" in result.stdout
    assert "volunteer PIN: 1234" in result.stdout
    image = Image.open(shot)
    assert image.size == (800, 480)
    assert colours(shot) > 50  # a drawn screen, not a black or blank one
    shutil.copy(shot, SCREENSHOTS / "cli-demo-headless.png")


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_demo_mode_runs_under_xvfb(tmp_path):
    shot = tmp_path / "demo-xvfb.png"
    result = run_kiosk(
        ["--demo", "--quit-after", "4", "--screenshot", str(shot)],
        tmp_path,
        wrapper=["xvfb-run", "-a", "-s", "-screen 0 1024x768x24"],
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert Image.open(shot).size == (800, 480)
    assert colours(shot) > 50
    shutil.copy(shot, SCREENSHOTS / "cli-demo-xvfb.png")


def test_a_kiosk_whose_reader_is_missing_still_starts_and_says_so(tmp_path):
    shot = tmp_path / "no-reader.png"
    data = tmp_path / "data"
    result = run_kiosk(
        [
            "--data",
            str(data),
            "--reader",
            "rc522",
            "--feedback",
            "none",
            "--quit-after",
            "4",
            "--screenshot",
            str(shot),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "could not be opened" in result.stderr
    assert colours(shot) > 50
    shutil.copy(shot, SCREENSHOTS / "cli-no-reader.png")


def test_options_are_checked_with_plain_messages(tmp_path):
    result = run_kiosk(["--size", "10x10"], tmp_path, timeout=60)
    assert result.returncode == 2
    assert "width and height look wrong" in result.stderr
    result = run_kiosk(["--screenshot", "x.png"], tmp_path, timeout=60)
    assert result.returncode == 2
    assert "--screenshot needs --quit-after" in result.stderr


def test_the_parser_knows_the_documented_options():
    args = build_parser().parse_args(
        ["--data", "/tmp/d", "--reader", "usb", "--fullscreen", "--size", "1280x800"]
    )
    assert (args.data, args.reader, args.fullscreen, args.size) == (
        "/tmp/d",
        "usb",
        True,
        (1280, 800),
    )
    assert build_parser().parse_args(["--demo"]).demo is True


@pytest.mark.parametrize("name", ["tap-screen.png", "welcome-screen.png"])
def test_the_readmes_screenshots_are_real_800x480_pictures(name):
    path = REPO / "docs" / "screenshots" / name
    assert path.is_file(), f"{path} is missing: copy it from artifacts/screenshots/"
    assert Image.open(path).size == (800, 480)
    assert colours(path) > 50
