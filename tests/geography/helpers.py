"""Population files in the ONS layouts, and a small county built through the real imports.

The ONS "Lower layer Super Output Area population estimates" (single year of age) come as an
XLSX workbook whose data sheet starts with title rows, then ``LAD 2021 Code, LAD 2021 Name,
LSOA 2021 Code, LSOA 2021 Name, Total, F0..F90, M0..M90``; the CSV form has the same header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

AGES = range(91)
ONS_HEADER = [
    "LAD 2021 Code",
    "LAD 2021 Name",
    "LSOA 2021 Code",
    "LSOA 2021 Name",
    "Total",
    *[f"F{a}" for a in AGES],
    *[f"M{a}" for a in AGES],
]
TITLE_ROWS = [
    ["Mid-2022 population estimates for 2021 Lower layer Super Output Areas (LSOAs) in England"],
    ["This worksheet contains one table. Some cells refer to notes found in the Notes worksheet."],
    ["Source: Office for National Statistics"],
]


def split(people: Sequence[int]) -> tuple[list[int], list[int]]:
    """Females and males for each age: half each, the odd one female."""
    return [-(-n // 2) for n in people], [n // 2 for n in people]


def ons_rows(
    people: Mapping[str, Sequence[int]], lad: tuple[str, str] = ("E07000194", "Lichfield")
) -> list[list[object]]:
    rows: list[list[object]] = []
    for code, ages in people.items():
        females, males = split(ages)
        rows.append([lad[0], lad[1], code, f"{lad[1]} {code[-3:]}A", sum(ages), *females, *males])
    return rows


def write_ons_csv(path: Path, people: Mapping[str, Sequence[int]]) -> Path:
    lines = [",".join(ONS_HEADER)]
    lines += [",".join(str(c) for c in row) for row in ons_rows(people)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def write_ons_xlsx(path: Path, people: Mapping[str, Sequence[int]]) -> Path:
    """The workbook as the ONS publishes it: a Contents sheet, then the data sheet with titles."""
    import openpyxl

    book = openpyxl.Workbook()
    contents = book.active
    contents.title = "Contents"
    contents.append(["Worksheet name", "Worksheet title"])
    contents.append(["Mid-2022 LSOA 2021", "Mid-2022 population estimates"])
    sheet = book.create_sheet("Mid-2022 LSOA 2021")
    for row in TITLE_ROWS:
        sheet.append(row)
    sheet.append(ONS_HEADER)
    for row in ons_rows(people):
        sheet.append(row)
    book.save(path)
    return path


def write_plain_csv(path: Path, rows: Sequence[tuple[str, int | str, int | str]]) -> Path:
    lines = ["lsoa,age,count", *(f"{lsoa},{age},{count}" for lsoa, age, count in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def people_with(under_five: int, older: int = 5) -> list[int]:
    """An LSOA's people by age: ``under_five`` children aged 0-4 (spread over the five ages,
    the remainder at age 0), then ``older`` people at every age from 5 to 90."""
    base, extra = divmod(under_five, 5)
    return [base + (extra if a == 0 else 0) for a in range(5)] + [older] * 86
