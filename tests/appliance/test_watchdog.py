"""The units' watchdogs, end to end, under a fake systemd notification socket (a real AF_UNIX
datagram socket in a temporary folder):

- the exact command of ``doorstep-sync.service`` sends READY=1, keeps sending WATCHDOG=1 while
  the server is unreachable, and STOPPING=1 on SIGTERM;
- the exact command of ``doorstep-kiosk.service`` starts the real Kivy app headless, which
  sends READY=1 once its first frame is up and WATCHDOG=1 from the UI thread's clock, with the
  card reader the config file names;

and every message comes from the process systemd started (the config check ``exec``s the
program), which ``NotifyAccess=main`` requires.

``tests/sync/test_daemon.py`` already covers the ``Notifier`` itself (messages, no socket, pings
while waiting); this adds the units' command lines and the real processes.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.appliance.helpers import REPO, make_kiosk, write_config

UNIT = REPO / "systemd" / "doorstep-sync.service"
KIOSK_UNIT = REPO / "systemd" / "doorstep-kiosk.service"


def exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def receive(sock: socket.socket, timeout: float) -> tuple[str, int] | None:
    """One notification and the pid of the process that sent it (SCM_CREDENTIALS)."""
    sock.settimeout(timeout)
    try:
        data, ancillary, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    except TimeoutError:
        return None
    pid = -1
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", payload[:12])[0]
    return data.decode(), pid


def test_the_sync_unit_notifies_ready_pings_the_watchdog_and_says_stopping(tmp_path):
    kiosk = make_kiosk(tmp_path / "data", visits=1)
    token = tmp_path / "token"
    token.write_text("tok\n")
    config = write_config(
        tmp_path / "kiosk.toml",
        kiosk.data,
        tmp_path / "backups",
        sync={"endpoint": f"http://127.0.0.1:{closed_port()}", "token_file": str(token)},
    )
    argv = exec_start(UNIT)
    assert argv[1:] == [
        "-m",
        "kiosk.config",
        "--config",
        "/etc/doorstep/kiosk.toml",
        "exec",
        "sync",
    ]
    command = [sys.executable, *argv[1:3], "--config", str(config), *argv[5:]]

    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    env = dict(os.environ, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="200000")
    env.pop("WATCHDOG_PID", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    got: list[tuple[str, int]] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = receive(sock, 1.0)
            if message:
                got.append(message)
            if [m for m, _ in got].count("WATCHDOG=1") >= 3:
                break
            if proc.poll() is not None:
                break
        proc.send_signal(signal.SIGTERM)
        end = time.monotonic() + 15
        while time.monotonic() < end and not any(m == "STOPPING=1" for m, _ in got):
            message = receive(sock, 1.0)
            if message:
                got.append(message)
        output = proc.communicate(timeout=15)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()

    messages = [m for m, _ in got]
    assert messages[0] == "READY=1", (messages, output)
    assert messages.count("WATCHDOG=1") >= 3, (messages, output)
    assert any(m.startswith("STATUS=") for m in messages)
    assert messages[-1] == "STOPPING=1", (messages, output)
    assert {pid for _, pid in got} == {proc.pid}  # the daemon is the unit's main process
    assert proc.returncode == 0, output


def listen(tmp_path: Path) -> tuple[socket.socket, Path]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    return sock, path


@pytest.mark.ui
def test_the_kiosk_unit_notifies_ready_after_the_first_frame_and_pings_from_the_ui(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    config = write_config(
        tmp_path / "kiosk.toml",
        data,
        tmp_path / "backups",
        # A USB reader that is not there: the app starts anyway and says which one it tried.
        reader={"kind": "usb", "usb_device": "/nonexistent/doorstep-test-reader"},
    )
    argv = exec_start(KIOSK_UNIT)
    assert argv[1:] == [
        "-m",
        "kiosk.config",
        "--config",
        "/etc/doorstep/kiosk.toml",
        "exec",
        "app",
    ]
    # --quit-after only bounds a run that goes wrong; the test stops the app itself.
    command = [sys.executable, *argv[1:3], "--config", str(config), *argv[5:], "--quit-after", "90"]

    sock, path = listen(tmp_path)
    env = dict(os.environ, NOTIFY_SOCKET=str(path), WATCHDOG_USEC="600000")
    env.pop("WATCHDOG_PID", None)
    env.pop("KIOSK_DATA", None)
    env.pop("KIVY_LOG_MODE", None)
    env["KIVY_HOME"] = str(tmp_path / "kivy-home")
    env["KIVY_NO_FILELOG"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    got: list[tuple[str, int]] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            message = receive(sock, 1.0)
            if message:
                got.append(message)
            if [m for m, _ in got].count("WATCHDOG=1") >= 3:
                break
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()

    messages = [m for m, _ in got]
    assert messages and messages[0] == "READY=1", (messages, output[-3000:])
    assert messages.count("WATCHDOG=1") >= 3, (messages, output[-3000:])
    assert {pid for _, pid in got} == {proc.pid}  # the app is the unit's main process
    # The file reached the app through the unit's command: its reader, not the default RC522.
    assert (
        f"settings from {config}: card reader USB reader /nonexistent/doorstep-test-reader; "
        "LED and buzzer off"
    ) in output
