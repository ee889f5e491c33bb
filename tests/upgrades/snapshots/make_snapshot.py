"""Write the SQL snapshot of a released schema: the database a release's own code creates.

Run from the repository (any checkout with history)::

    python tests/upgrades/snapshots/make_snapshot.py COMMIT [--postgres URL]

It exports COMMIT into a temporary folder, lets *that* release's ``CentralDB.open`` create a
fresh database (SQLite, and PostgreSQL when a URL is given), and writes its schema (and the
rows of ``schema_version``, which say what the release's migrator believed) to
``v<version>-<commit>.sqlite.sql`` / ``.postgres.sql`` beside this file. The snapshots are
history: never regenerate one for a different commit under the same name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The schema pg_dump is pointed at; its qualifier is stripped from the dump.
PG_SCHEMA = "doorstep_release"

_CREATE = """
import sys
from central.db import CentralDB
db = CentralDB.open(sys.argv[1])
print(db.schema_version())
db.close()
"""


def quoted(text: str) -> str:
    """``text`` inside an SQL string literal."""
    return text.replace("'", "''")


def export(commit: str, into: Path) -> None:
    archive = subprocess.run(["git", "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def create(release: Path, url: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _CREATE, url],
        cwd=release,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip())


def sqlite_snapshot(release: Path, commit: str, applied_at: str) -> tuple[int, str]:
    import sqlite3

    path = release / "release.sqlite3"
    version = create(release, f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    lines = [f"-- Schema of release {commit} (schema_version {version}), made by its own code."]
    for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'"
        " ORDER BY rowid"
    ):
        lines.append(sql.strip() + ";")
    for number, description in conn.execute(
        "SELECT version, description FROM schema_version ORDER BY version"
    ):
        lines.append(
            "INSERT INTO schema_version (version, description, applied_at)"
            f" VALUES ({number}, '{quoted(description)}', '{applied_at}');"
        )
    conn.close()
    return version, "\n".join(lines) + "\n"


def postgres_snapshot(release: Path, commit: str, url: str, applied_at: str) -> tuple[int, str]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {PG_SCHEMA}")
    try:
        sep = "&" if "?" in url else "?"
        version = create(release, f"{url}{sep}options=-csearch_path%3D{PG_SCHEMA}")
        dump = subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--schema", PG_SCHEMA]
            + ["--dbname", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                f"SELECT version, description FROM {PG_SCHEMA}.schema_version ORDER BY version"
            ).fetchall()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    kept = [f"-- Schema of release {commit} (schema_version {version}), made by its own code."]
    for line in dump.splitlines():
        # Meta-commands (\restrict), the dump's own search_path and schema are not the schema.
        if line.startswith("\\") or "set_config('search_path'" in line:
            continue
        if line.startswith(f"CREATE SCHEMA {PG_SCHEMA}"):
            continue
        kept.append(line.replace(f"{PG_SCHEMA}.", ""))
    for number, description in rows:
        kept.append(
            "INSERT INTO schema_version (version, description, applied_at)"
            f" VALUES ({number}, '{quoted(description)}', '{applied_at}');"
        )
    return version, "\n".join(kept).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit")
    parser.add_argument("--postgres", help="a PostgreSQL URL to create a throw-away schema in")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short=7", args.commit], check=True, capture_output=True, text=True
    ).stdout.strip()
    applied_at = subprocess.run(
        ["git", "show", "-s", "--format=%ad", "--date=format-local:%Y-%m-%d %H:%M:%S", commit],
        check=True,
        capture_output=True,
        text=True,
        env={"TZ": "UTC"},
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        release = Path(folder)
        export(commit, release)
        version, sql = sqlite_snapshot(release, commit, applied_at)
        (HERE / f"v{version:02d}-{commit}.sqlite.sql").write_text(sql)
        print(f"v{version:02d}-{commit}.sqlite.sql")
        if args.postgres:
            version, sql = postgres_snapshot(release, commit, args.postgres, applied_at)
            (HERE / f"v{version:02d}-{commit}.postgres.sql").write_text(sql)
            print(f"v{version:02d}-{commit}.postgres.sql")


if __name__ == "__main__":
    main()
