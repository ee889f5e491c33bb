"""Write the invoice a release itself gave for the upgrade tests' April (``releases.fill``).

    python tests/upgrades/snapshots/make_invoice.py COMMIT VERSION

Loads ``v<VERSION>-<COMMIT>.sqlite.sql``, fills it as the tests do, and runs *that release's*
``build_invoice`` (its code exported from git into a temporary folder) on the database as it
stands, before any upgrade, writing the CSV to ``v<VERSION>-<COMMIT>.invoice.csv``. The tests
check that today's code gives these very bytes after ``kiosk-central migrate``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

from tests.upgrades.releases import Release, fill, load  # noqa: E402
from tests.upgrades.snapshots.make_snapshot import export  # noqa: E402

_INVOICE = """
import sys
from central.db import CentralDB
from central.reports.invoice import build_invoice
from central.reports.period import Period
db = CentralDB.open(sys.argv[1], migrate=False)
sys.stdout.write(build_invoice(db, "lichfield", Period.month(sys.argv[2])).csv_text())
"""


def main() -> None:
    commit, version = sys.argv[1], int(sys.argv[2])
    release = Release(version, commit)
    with tempfile.TemporaryDirectory() as folder:
        code = Path(folder) / "release"
        code.mkdir()
        export(commit, code)
        url = f"sqlite:///{Path(folder) / 'april.sqlite3'}"
        load(url, release.snapshot("sqlite"))
        fill(url, release)
        sheet = subprocess.run(
            [sys.executable, "-c", _INVOICE, url, "2016-04"],
            cwd=code,
            env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    target = HERE / f"v{version:02d}-{commit}.invoice.csv"
    target.write_text(sheet)
    print(target.name)


if __name__ == "__main__":
    main()
