"""The README's walk-through from the demo to a server, run as it is written.

The ``sh`` blocks between ``<!-- walkthrough:start`` and ``<!-- walkthrough:end -->`` in
README.md are run in order in one ``bash`` (``set -euo pipefail``: as if pasted into one
terminal, so a ``cd`` or an ``export`` carries on to the next block, and any failing command
fails the test), against the real ``kiosk-central serve`` the walk-through itself starts.

What the test changes, and nothing else:

- ``HOME`` is a temporary folder, so ``~/doorstep-try`` (the kiosk's data folder, the token
  file, the server's log) and ``~/.local/share/doorstep-central`` (the server's SQLite file)
  are the test's own;
- every ``8080`` in the blocks becomes a free loopback port;
- the project's console scripts are on ``PATH`` (what the README's ``. .venv/bin/activate``,
  just before the markers, does), ``KIOSK_CLOCK_SYNCED=1`` (this machine's clock may not be
  synchronised, which would make ``health`` warn), and ``KIOSK_*`` variables from the outer
  environment are dropped.

Between the blocks the test only adds markers (``::block N``, to tell each block's output
apart), a wait for ``/healthz`` after the block that starts ``kiosk-central serve`` (a reader
takes longer than that to type the next command), and, after the last block, its own
``kiosk-admin status`` and ``kiosk-central report invoice`` in the walk-through's shell. The
server is stopped by its process id at the end.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.helpers import wait_for
from tests.sync.servers import REPO, free_port, subprocess_env

README = REPO / "README.md"
START = "<!-- walkthrough:start"
END = "<!-- walkthrough:end -->"
#: The port the README's commands use; the test puts a free one in its place.
README_PORT = "8080"
#: A fenced ``sh`` block, possibly indented under a numbered step.
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```sh[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
MARK = "::block "
CHECK_STATUS = "::check status"
CHECK_INVOICE = "::check invoice"
QUIET = "{ set +x; } 2>/dev/null"  # stop tracing for the test's own lines, silently


def on_port(text: str, port: int) -> str:
    """``text`` with the README's port (a whole number, not part of another) replaced."""
    return re.sub(rf"(?<!\d){README_PORT}(?!\d)", str(port), text)


def walkthrough_text(readme: str) -> str:
    assert readme.count(START) == 1, f"README.md needs exactly one {START!r} marker"
    assert readme.count(END) == 1, f"README.md needs exactly one {END!r} marker"
    begin, end = readme.index(START), readme.index(END)
    assert begin < end, "the walk-through's start marker must come before its end marker"
    return readme[begin:end]


def walkthrough_blocks(readme: str) -> list[str]:
    """The walk-through's ``sh`` blocks, in order, de-indented."""
    blocks = [textwrap.dedent(m["body"]) for m in FENCE.finditer(walkthrough_text(readme))]
    assert blocks, "no ```sh blocks between the walk-through's markers"
    return blocks


def test_the_walkthrough_has_every_step() -> None:
    """Quick, without running anything: the road from a kiosk folder to the dashboard is there,
    in that order (the slow test below runs it)."""
    readme = README.read_text(encoding="utf-8")
    script = "\n".join(walkthrough_blocks(readme))
    steps = [
        "kiosk-admin tap",
        "kiosk-central serve",
        "kiosk-central org add",
        "kiosk-central site add",
        "kiosk-central device add",
        "kiosk-admin enrol",
        "kiosk-sync",
        "kiosk-admin status",
        "kiosk-central report invoice",
        "kiosk-central user add",
    ]
    where = []
    for step in steps:
        assert step in script, f"the README's walk-through lost its {step!r} step"
        where.append(script.index(step))
    assert where == sorted(where), "the walk-through's steps are out of order"
    assert f"127.0.0.1:{README_PORT}/dashboard" in walkthrough_text(readme)


@dataclass
class Run:
    returncode: int | None
    output: str
    blocks: list[str]
    server_pid: int | None

    def block(self, containing: str) -> str:
        """The output of the (first) block whose commands contain ``containing``."""
        for number, commands in enumerate(self.blocks, 1):
            if containing in commands:
                return section(self.output, f"{MARK}{number}")
        raise AssertionError(f"no walk-through block runs {containing!r}")


def section(output: str, marker: str) -> str:
    """What was printed after ``marker`` until the next ``::`` marker (trace lines left out)."""
    lines = output.splitlines()
    assert marker in lines, f"{marker!r} never printed; output:\n{output[-4000:]}"
    start = lines.index(marker) + 1
    out = []
    for line in lines[start:]:
        if line.startswith("::"):
            break
        if not line.startswith("+"):
            out.append(line)
    return "\n".join(out)


def key_values(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def script_for(blocks: list[str], port: int) -> str:
    wait = f"""{QUIET}
echo "::server $!"
{shlex.quote(sys.executable)} - <<'PY'
import urllib.request
from tests.helpers import wait_for
def answers():
    try:
        with urllib.request.urlopen("http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False
wait_for(answers, "the server the walk-through started to answer /healthz", timeout=60)
PY
set -x
"""
    parts = ["set -euo pipefail", "PS4='+ '"]
    for number, block in enumerate(blocks, 1):
        parts += [QUIET, f"echo '{MARK}{number}'", "set -x", block]
        if "kiosk-central serve" in block:
            parts.append(wait)
    parts += [
        QUIET,
        f"echo '{CHECK_STATUS}'",
        "kiosk-admin status",
        f"echo '{CHECK_INVOICE}'",
        "kiosk-central report invoice --org lichfield --month 2026-11",
        "echo '::end'",
    ]
    return "\n".join(parts) + "\n"


def stop(pid: int) -> None:
    """Stop one process of ours by its id: SIGTERM, then SIGKILL."""

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        try:
            wait_for(gone, f"process {pid} to end after SIGTERM", timeout=10)
        except AssertionError:
            os.kill(pid, signal.SIGKILL)


def isolated_env(home: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in subprocess_env().items() if not k.startswith("KIOSK_")}
    env.update(
        HOME=str(home),
        PATH=os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
        KIOSK_CLOCK_SYNCED="1",
    )
    return env


@contextlib.contextmanager
def walkthrough(tmp_path: Path, blocks: list[str], port: int):
    home = tmp_path / "home"
    home.mkdir()
    script = tmp_path / "walkthrough.sh"
    script.write_text(script_for(blocks, port), encoding="utf-8")
    log = tmp_path / "walkthrough.log"
    server_pid = None
    with log.open("wb") as out:
        shell = subprocess.Popen(
            ["bash", str(script)],
            cwd=tmp_path,
            env=isolated_env(home),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            returncode = shell.wait(timeout=90)
        except subprocess.TimeoutExpired:
            returncode = None
            stop(shell.pid)
        output = log.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"^::server (\d+)$", output, re.M)
        server_pid = int(found[1]) if found else None
        yield Run(returncode, output, blocks, server_pid)
    finally:
        if server_pid:
            stop(server_pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(shell.pid, signal.SIGTERM)  # anything else the walk-through left running


@pytest.mark.slow
def test_the_readme_walkthrough_works_as_written(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    for name in ("kiosk-admin", "kiosk-central", "kiosk-sync"):
        if shutil.which(name, path=str(bin_dir)) is None:
            pytest.skip(f"{name} is not installed next to {sys.executable} (pip install -e .)")
    readme = README.read_text(encoding="utf-8")
    port = free_port()
    blocks = [on_port(b, port) for b in walkthrough_blocks(readme)]
    assert any(str(port) in b for b in blocks), f"the walk-through never uses port {README_PORT}"
    dashboard = f"http://127.0.0.1:{port}/dashboard"

    with walkthrough(tmp_path, blocks, port) as run:
        shown = run.output[-6000:]
        assert run.returncode is not None, f"the walk-through hung (90 s):\n{shown}"
        assert run.returncode == 0, f"a walk-through step failed:\n{shown}"
        assert run.server_pid, f"no block started kiosk-central serve:\n{shown}"

        # Enrolment talked to the server, moved the earlier taps and synced them.
        enrol = run.block("kiosk-admin enrol")
        assert "ready: yes" in enrol, enrol
        assert "0 rejected" in key_values(enrol).get("sync", ""), enrol

        # The sync after it: something sent, nothing refused.
        synced = run.block("kiosk-sync")
        sent = re.findall(r"sent \d+ event\(s\) \(.*?\), (\d+) rejected, (\d+) waiting", synced)
        assert sent, f"kiosk-sync reported no pass:\n{synced}"
        assert all(rejected == "0" for rejected, _ in sent), synced

        # The kiosk, as kiosk-admin status sees it at the end.
        status = key_values(section(run.output, CHECK_STATUS))
        assert status.get("waiting") == "0", status
        assert status.get("rejected") == "0", status
        assert status.get("enrolled") == "yes", status
        assert status.get("device") == "kiosk-1" and status.get("site") == "library", status
        assert status.get("health", "").startswith("ok:"), status

        # The server's view of the kiosk.
        health = run.block("kiosk-central device health")
        assert re.search(r"^ok: kiosk-1 at lichfield/library", health, re.M), health

        # The month's invoice: Sarah's two children on two Mondays, counted; Tom not on it.
        rows = list(csv.reader(io.StringIO(section(run.output, CHECK_INVOICE))))
        header = rows[0]  # (the summary kiosk-central writes to stderr is a short row)
        lines = [r for r in rows[1:] if len(r) == len(header) and r[0] != "TOTAL"]
        status_col, date_col = header.index("status"), header.index("date")
        assert [r[status_col] for r in lines] == ["counted"] * 4, rows
        assert sorted({r[date_col] for r in lines}) == ["2026-11-23", "2026-11-30"], rows
        total = next(r for r in rows if r and r[0] == "TOTAL")
        assert total[header.index("amount")] == "12.00", total

        # The dashboard answers: a redirect to its sign-in page...
        assert dashboard in on_port(walkthrough_text(readme), port)
        answer = requests.get(dashboard, timeout=10, allow_redirects=False)
        assert answer.status_code == 200 or (
            answer.is_redirect and "/dashboard/login" in answer.headers["location"]
        ), (answer.status_code, answer.headers)
        assert requests.get(dashboard, timeout=10).ok
        # ...and the password `user add` printed lets alice in to her organisation's month.
        added = run.block("kiosk-central user add").splitlines()
        label = next(n for n, line in enumerate(added) if "password (shown once)" in line)
        password = added[label + 1].strip()
        page = requests.get(
            f"{dashboard}/org/lichfield",
            params={"month": "2026-11"},
            auth=("alice", password),
            timeout=10,
        )
        assert page.status_code == 200, page.text[:2000]
        assert "kiosk-1" in page.text and "£12.00" in page.text
