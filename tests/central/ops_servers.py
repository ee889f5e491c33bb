"""A ``kiosk-central serve`` started the way a council runs it: from a central.toml, on a port
the system picks (``--port 0``), its address read from the line it prints."""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import requests

from tests.helpers import stop_process, wait_for
from tests.sync.servers import REPO, command, subprocess_env

SECRET = "test-secret-" + "x" * 32
LISTENING = re.compile(r"kiosk-central: listening on (\S+) \(dashboard: (\S+)\)")


def write_central_toml(path: Path, db_url: str, backups: Path, **server: object) -> Path:
    """A central.toml for the tests: the database, the secret, a backup folder, more keys for
    ``[server]``."""
    lines = ["[database]", f'url = "{db_url}"', "", "[server]", f'secret = "{SECRET}"']
    for key, value in server.items():
        if isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f'{key} = "{value}"')
    lines += ["", "[backup]", f'folder = "{backups}"', "keep_days = 14", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o640)
    return path


class ServeProcess:
    """``kiosk-central --config FILE serve --port 0 ARGS`` with what it printed kept."""

    def __init__(self, config: Path, *args: str) -> None:
        self.argv = [
            *command("kiosk-central", "central.cli"),
            "--config",
            str(config),
            "serve",
            "--port",
            "0",
            "--log-level",
            "warning",
            *args,
        ]
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.url = ""
        self.dashboard = ""

    def start(self, timeout: float = 30.0) -> ServeProcess:
        env = subprocess_env()
        env.pop("KIOSK_CENTRAL_DB", None)  # the config file names the database
        self.process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=REPO,
        )
        found = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.output.append(line)
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.url, self.dashboard = match.group(1), match.group(2)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(timeout):
            self.stop()
            raise RuntimeError("no 'listening on' line: " + "".join(self.output)[-2000:])

        def answers() -> bool:
            try:
                return requests.get(self.url + "healthz", timeout=1).ok
            except requests.RequestException:
                return False

        try:
            wait_for(answers, "the server to answer /healthz", timeout)
        except AssertionError:
            self.stop()
            raise RuntimeError("server did not answer: " + "".join(self.output)[-2000:]) from None
        return self

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
