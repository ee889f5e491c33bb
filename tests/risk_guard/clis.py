"""The two command lines that import risk lists, driven the same way by the tests.

``kiosk-admin risk import|import-lsoa`` (on a kiosk's data folder) and ``kiosk-central risk
import|import-lsoa ORG`` (on a server database) must refuse the same bad input with the same
words, so each test runs against both through their real ``main`` functions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from central import cli as central_cli
from kiosk.admin import main as admin_main


@dataclass
class Done:
    """What one command did: exit status, stdout, stderr."""

    code: int
    out: str
    err: str

    def fields(self) -> dict[str, str]:
        return dict(line.split(": ", 1) for line in self.out.splitlines() if ": " in line)


class KioskCli:
    name = "kiosk-admin"

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.data = tmp_path / "kiosk"

    def run(self, *argv: str) -> Done:
        out, err = io.StringIO(), io.StringIO()
        code = admin_main(["--data", str(self.data), *argv], out=out, err=err)
        return Done(code, out.getvalue(), err.getvalue())

    def risk(self, action: str, *argv: str) -> Done:
        return self.run("risk", action, *argv)

    def versions(self) -> list[str]:
        done = self.run("risk", "history")
        assert done.code == 0, done.err
        return [line.split("\t")[0] for line in done.out.splitlines()]

    def entries(self) -> int:
        done = self.run("risk", "show")
        return len(done.out.splitlines()) - 1


class CentralCli:
    name = "kiosk-central"
    org = "lichfield"

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
        self.capsys = capsys
        assert self.run("org", "add", self.org).code == 0

    def run(self, *argv: str) -> Done:
        self.capsys.readouterr()
        code = central_cli.main(["--db", self.db, *argv])
        captured = self.capsys.readouterr()
        return Done(code, captured.out, captured.err)

    def risk(self, action: str, *argv: str) -> Done:
        return self.run("risk", action, self.org, *argv)

    def versions(self) -> list[str]:
        done = self.run("risk", "history", self.org)
        assert done.code == 0, done.err
        return [line.split("\t")[0] for line in done.out.splitlines()]

    def entries(self) -> int:
        done = self.run("risk", "history", self.org)
        last = done.out.splitlines()[-1]
        return int(last.split("\t")[2].split()[0])
