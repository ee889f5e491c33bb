"""The revisions stay history: frozen operations, numbered in one line (issue 19)."""

from __future__ import annotations

import ast

from central import migrations

VERSIONS = migrations.SCRIPT_LOCATION / "versions"


def test_no_revision_imports_todays_tables_or_any_of_our_code():
    for path in sorted(VERSIONS.glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
        assert imported <= {"sqlalchemy", "alembic"}, f"{path.name} imports {imported}"


def test_revisions_are_numbered_one_after_another_from_the_first_release():
    chain = list(reversed(list(migrations.scripts().walk_revisions())))
    numbers = [migrations.revision_number(script.revision) for script in chain]
    assert numbers == list(range(1, len(chain) + 1))
    assert chain[0].down_revision is None
    for script in chain:  # the file is named after its revision
        assert script.path.rsplit("/", 1)[-1].startswith(f"{script.revision}_")
    assert migrations.head() == chain[-1].revision
