"""``risk import`` (kiosk and server) refuses a file that would empty or gut the list:
a list saved empty makes every kiosk stop qualifying families at its next setup pull."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Ten full postcodes in South Staffordshire.
TEN = [f"WV8 {n}AA" for n in range(10)]


def write(tmp_path: Path, name: str, lines: list[str], eol: str = "\n") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + eol for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def ten(cli, tmp_path):
    """The current list: ten postcodes, version 1."""
    done = cli.risk("import", str(write(tmp_path, "council.txt", TEN)))
    assert done.code == 0, done.err
    return cli


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("blank.txt", b"\n\n# nothing yet\n"),
        ("header-only.csv", b"postcode\r\n"),
        ("header-only-2.csv", b"\xef\xbb\xbfpostcode,ward\r\n"),
    ],
)
def test_a_file_with_no_entries_is_refused_and_the_list_kept(ten, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    done = ten.risk("import", str(path))
    assert done.code == 1
    assert f"{path.name}: the new risk list would be empty" in done.err
    assert "--allow-empty" in done.err and "the risk list is unchanged" in done.err
    assert "version:" not in done.out
    assert len(ten.versions()) == 1 and ten.entries() == 10


def test_an_empty_first_list_is_refused_too(cli, tmp_path):
    path = tmp_path / "header-only.csv"
    path.write_text("postcode\n")
    done = cli.risk("import", str(path))
    assert done.code == 1 and "would be empty" in done.err
    assert cli.versions() == []


def test_allow_empty_saves_an_empty_list_when_the_admin_means_it(ten, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    done = ten.risk("import", str(path), "--allow-empty")
    assert done.code == 0, done.err
    assert (done.fields()["removed"], done.fields()["version"][:3]) == ("10", "v2-")
    assert ten.entries() == 0
    audit = ten.run("audit", "show").out.splitlines()
    assert "risk.import" in audit[-1] and '"allow_empty":true' in audit[-1]  # who forced it


def test_skipping_every_invalid_line_leaves_nothing_and_is_refused(ten, tmp_path):
    path = write(tmp_path, "typos.txt", ["WV8 1AAA", "ZZ"])
    done = ten.risk("import", str(path), "--skip-invalid")
    assert done.code == 1 and "would be empty" in done.err
    assert len(ten.versions()) == 1


def test_removing_more_than_half_is_refused_unless_allowed(ten, tmp_path):
    kept = write(tmp_path, "cut.txt", TEN[:4])  # 6 of the 10 entries removed
    done = ten.risk("import", str(kept))
    assert done.code == 1
    assert "cut.txt: the import would remove 6 of the 10 entries (60%) and keep 4" in done.err
    assert "--allow-shrink" in done.err and "the risk list is unchanged" in done.err
    assert len(ten.versions()) == 1
    done = ten.risk("import", str(kept), "--allow-shrink")
    assert done.code == 0, done.err
    assert done.fields()["removed"] == "6" and ten.entries() == 4


def test_removing_half_or_adding_any_number_goes_ahead(ten, tmp_path):
    half = write(tmp_path, "half.txt", [*TEN[:5], "WS7 1AA"])  # 5 of 10 removed: not more
    done = ten.risk("import", str(half))
    assert done.code == 0, done.err
    assert done.fields()["removed"] == "5"


def test_a_dry_run_says_the_import_would_be_refused(ten, tmp_path):
    cut = write(tmp_path, "cut.txt", TEN[:2])
    done = ten.risk("import", str(cut), "--dry-run")
    assert done.code == 1 and "would remove 8 of the 10 entries" in done.err
    done = ten.risk("import", str(cut), "--dry-run", "--allow-shrink")
    assert done.code == 0 and "dry run: the risk list is unchanged" in done.out
    assert len(ten.versions()) == 1


def test_a_non_utf8_byte_is_reported_at_its_line(cli, tmp_path):
    path = tmp_path / "council.csv"
    lines = ["postcode", *[f"WV8 {n % 10}{'ABDEFGHJLN'[n // 10]}B" for n in range(99)]]
    path.write_bytes(
        ("\r\n".join(lines) + "\r\n").encode() + "WV8 9ZZ,Ynys M\xf4n\r\n".encode("cp1252")
    )
    done = cli.risk("import", str(path))
    assert done.code == 1
    assert f"{path}: line 101: the file is not UTF-8 text (byte 0xf4" in done.err
    assert cli.versions() == []
