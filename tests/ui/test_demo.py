"""The demo does what it says.

A key for a new card (so the unknown-card and give-a-card flows can be tried), ``kiosk --help``
naming the keys that work, the terminal demo's last line a command that runs as printed, its
records dated in the weeks before today, no folder left in the temporary directory by either
demo, and no setuptools warnings from our packaging for the locale folders.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

import kiosk.demo as demo
from kiosk.demo import DEMO_FAMILIES
from kiosk.ui.kioskapp import UiTimings
from tests.ui.driver import REPO, make_kiosk

pytestmark = pytest.mark.ui


def run(args: list[str], tmp_path: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """A command as a person runs it from the clone, with its own temporary and cache folders."""
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp_path / "tmp")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["KIVY_HOME"] = str(tmp_path / "kivy-home")
    env["KIVY_NO_FILELOG"] = "1"
    env.pop("KIVY_LOG_MODE", None)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def press_key(window, key: str) -> None:
    window.dispatch("on_key_down", ord(key), 0, key, [])


def test_kiosk_help_names_the_keys_that_work_and_each_of_them_does(tmp_path, kivy_window):
    result = run([sys.executable, "-m", "kiosk.app", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    assert "1-9" not in help_text
    match = re.search(
        r"keys (\d)-(\d) tap the sample families' cards, (\d) taps a new card", help_text
    )
    assert match, help_text
    first, last, new = (int(g) for g in match.groups())
    assert (first, last) == (1, len(DEMO_FAMILIES))

    kiosk = make_kiosk(tmp_path, demo=True, timings=UiTimings())
    try:
        for n, (_key, _uid, name, _postcode, _kids) in zip(
            range(first, last + 1), DEMO_FAMILIES, strict=True
        ):
            answered = kiosk.app.taps_answered
            press_key(kivy_window, str(n))
            kiosk.wait_until(lambda a=answered: kiosk.app.taps_answered > a, what=f"key {n}")
            kiosk.settle()
            assert f"Welcome, {name}!" in kiosk.texts(), (n, kiosk.texts())
            kiosk.press(kiosk.current().ids.done)
        answered = kiosk.app.taps_answered
        press_key(kivy_window, str(new))
        kiosk.wait_until(lambda: kiosk.app.taps_answered > answered, what=f"key {new}")
        kiosk.settle()
        assert "We don't know this card yet" in kiosk.texts()
    finally:
        kiosk.close()


def test_key_0_taps_a_new_card_that_a_volunteer_gives_to_a_family(tmp_path, kivy_window):
    kiosk = make_kiosk(tmp_path, demo=True, timings=UiTimings())
    try:
        assert any("0\u00a0a new card" in t for t in kiosk.texts()), kiosk.texts()
        assert kiosk.clipped() == []
        kiosk.shot("demo/01-door-with-key-0")

        press_key(kivy_window, "0")
        kiosk.wait_until(lambda: kiosk.app.taps_answered == 1, what="the new card's tap")
        kiosk.settle()
        assert "We don't know this card yet" in kiosk.texts()
        assert kiosk.desk.last_unknown_card == demo.NEW_CARDS[0]
        kiosk.shot("demo/02-new-card-unknown")

        kiosk.press(kiosk.button("I'm a volunteer"))
        kiosk.enter_pin("1234")
        assert "Whose card is this? Tap the family" in kiosk.texts()
        kiosk.press_text("Tom")
        kiosk.press_text("Yes, give it to Tom")  # a card is given only after a confirmation
        assert "The card is now Tom's" in kiosk.texts()
        kiosk.shot("demo/03-new-card-given")
        assert (
            kiosk.store.card(demo.NEW_CARDS[0]).family_id
            == kiosk.store.card(kiosk.card_of("Tom")).family_id
        )

        kiosk.press(kiosk.current().ids.done)
        kiosk.press(kiosk.button("Lock"))
        press_key(kivy_window, "0")  # the next card from the pile: nobody has it yet
        kiosk.wait_until(lambda: kiosk.app.taps_answered == 2, what="the next new card")
        kiosk.settle()
        assert "We don't know this card yet" in kiosk.texts()
        assert kiosk.desk.last_unknown_card == demo.NEW_CARDS[1]
    finally:
        kiosk.close()


def test_the_terminal_demo_is_dated_before_today_and_its_last_line_runs(tmp_path):
    for _ in range(2):  # two runs: one folder, used again
        result = run([sys.executable, "-m", "kiosk.demo"], tmp_path)
        assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert list((tmp_path / "tmp").iterdir()) == [], "the demo left a temporary folder"
    assert [p.name for p in (tmp_path / "cache" / "doorstep").iterdir()] == ["terminal-demo"]

    today = date.today()
    dates = [
        date.fromisoformat(line.split(",")[0].strip()) for line in lines if line.startswith("  20")
    ]
    assert dates, result.stdout
    assert all(today - timedelta(weeks=13) <= d < today for d in dates), dates
    assert "the weeks before today" in result.stdout

    hint = lines[-2] if lines[-1].startswith("(") else lines[-1]
    assert hint.startswith("Try it: "), lines[-3:]
    command = hint.removeprefix("Try it: ")
    assert not command.startswith("kiosk-admin "), "kiosk-admin alone is not on the PATH"
    status = run(["/bin/sh", "-c", command], tmp_path)
    assert status.returncode == 0, status.stderr
    assert "families: 30" in status.stdout


def test_the_demo_refuses_to_empty_a_folder_that_is_not_its_own(tmp_path):
    mine = tmp_path / "cache" / "doorstep" / "terminal-demo"
    mine.mkdir(parents=True)
    (mine / "precious.txt").write_text("not the demo's")
    result = run([sys.executable, "-m", "kiosk.demo"], tmp_path)
    assert result.returncode != 0
    assert "not emptying it" in result.stderr
    assert (mine / "precious.txt").exists()


def test_the_touchscreen_demo_removes_its_temporary_folder(tmp_path):
    result = run([sys.executable, "-m", "kiosk.app", "--demo", "--quit-after", "2"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "press 0 to tap a new card" in result.stdout
    folder = re.search(r"Demo data folder: (\S+)", result.stdout).group(1)
    assert Path(folder).parent == tmp_path / "tmp"
    assert not Path(folder).exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_packaging_the_project_gives_no_warnings_about_the_locale_folders(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("kiosk", "sync", "central"):
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    build = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", "from setuptools import setup; setup()"]
        + shlex.split(f"-q build_py --build-lib {build}"),
        cwd=source,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "LC_MESSAGES" not in result.stderr, result.stderr
    assert "Warning" not in result.stderr.replace("warning: build_py: byte-compiling", ""), (
        result.stderr
    )
    for po in (REPO / "kiosk" / "locale").glob("*/LC_MESSAGES/kiosk.*"):
        assert (build / po.relative_to(REPO)).exists(), f"{po} is not in the package"
