"""Small postcode directories and IMD files in the published layouts, written for the tests.

The headers are the real ones (every column, in order); the rows carry plausible filler in the
columns the import ignores. Files are written as the publishers write them: every field quoted,
CRLF line ends, and (by default) a UTF-8 byte-order mark, as Excel's "CSV UTF-8" adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


def _columns(header_line: str) -> list[str]:
    return header_line.split(",")


#: ONSPD November 2021: 2011 LSOAs only (``lsoa11``), IMD 2019 ranks in ``imd``.
ONSPD_2021 = _columns(
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,"
    "osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,nuts,statsward,oa01,"
    "casward,park,lsoa01,msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,ccg,bua11,buasd11,"
    "ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,stp"
)
#: ONSPD February 2023: both ``lsoa11`` and ``lsoa21``.
ONSPD_2023 = _columns(
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,"
    "osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,"
    "casward,park,lsoa01,msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,sicbl,bua11,buasd11,"
    "ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,icb,oa21,lsoa21,msoa21"
)
#: ONSPD 2025 layout: 2021 LSOAs only (``lsoa21cd``), IMD 2019 ranks in ``imd20ind``.
ONSPD_2025 = _columns(
    "pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,gridind,oa21cd,cty25cd,ced25cd,"
    "lad25cd,wd25cd,nhser24cd,ctry25cd,rgn25cd,pcon24cd,ttwa15cd,itl25cd,npark16cd,lsoa21cd,"
    "msoa21cd,wz11cd,sicbl24cd,bua24cd,ruc21ind,oac11ind,lat,long,lep21cd1,lep21cd2,pfa23cd,"
    "imd20ind,icb23cd"
)
#: NSPL August 2026 layout: 2021 LSOAs, IMD 2025 ranks in ``imd25ind``.
NSPL_2026 = [h.replace("imd20ind", "imd25ind") for h in ONSPD_2025]
LAYOUTS = {"2021": ONSPD_2021, "2023": ONSPD_2023, "2025": ONSPD_2025, "2026": NSPL_2026}

#: English indices of deprivation 2019, File 1.
IOD2019_FILE1 = [
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "Index of Multiple Deprivation (IMD) Rank",
    "Index of Multiple Deprivation (IMD) Decile",
]
#: English indices of deprivation 2019, File 7 (its first columns): scores, ranks and deciles.
IOD2019_FILE7 = [
    "LSOA code (2011)",
    "LSOA name (2011)",
    "Local Authority District code (2019)",
    "Local Authority District name (2019)",
    "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Income Score (rate)",
    "Income Rank (where 1 is most deprived)",
    "Income Decile (where 1 is most deprived 10% of LSOAs)",
    "Employment Score (rate)",
    "Employment Rank (where 1 is most deprived)",
]
#: English indices of deprivation 2025, File 1 (2021 LSOAs, 2024 districts).
IOD2025_FILE1 = [
    "LSOA code (2021)",
    "LSOA name (2021)",
    "Local Authority District code (2024)",
    "Local Authority District name (2024)",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
]
IMD_LAYOUTS = {"2019": IOD2019_FILE1, "2019-file7": IOD2019_FILE7, "2025": IOD2025_FILE1}

SOUTH_STAFFS = "E07000196"
CANNOCK = "E07000192"
STAFFORDSHIRE = "E10000028"
ENGLAND = "E92000001"


@dataclass(frozen=True)
class Lsoa:
    """One LSOA of the IMD file: code, district, national rank (decile from the rank)."""

    code: str
    rank: int
    lad: str = SOUTH_STAFFS
    lad_name: str = "South Staffordshire"
    name: str = ""
    lsoas: int = 32_844

    @property
    def decile(self) -> int:
        return -(-10 * self.rank // self.lsoas)


@dataclass(frozen=True)
class Pc:
    """One postcode row of the directory."""

    postcode: str
    lsoa: str
    imd: int | str = ""
    lad: str = SOUTH_STAFFS
    county: str = STAFFORDSHIRE
    doterm: str = ""
    lsoa21: str | None = None
    ctry: str = ENGLAND
    ward: str = "E99999999"


def _cells(pc: Pc, header: Sequence[str]) -> list[str]:
    compact = pc.postcode.replace(" ", "")
    out, inward = compact[:-3], compact[-3:]
    values = {
        "pcd": f"{out:<4}{inward}",
        "pcd7": f"{out:<4}{inward}",
        "pcd2": f"{out:<5}{inward}",
        "pcd8": f"{out:<5}{inward}",
        "pcds": pc.postcode,
        "dointr": "198001",
        "doterm": pc.doterm,
        "oscty": pc.county,
        "cty25cd": pc.county,
        "oslaua": pc.lad,
        "lad25cd": pc.lad,
        "ctry": pc.ctry,
        "ctry25cd": pc.ctry,
        "lsoa11": pc.lsoa,
        "lsoa21": pc.lsoa21 or pc.lsoa,
        "lsoa21cd": pc.lsoa21 or pc.lsoa,
        "imd": str(pc.imd),
        "imd20ind": str(pc.imd),
        "imd25ind": str(pc.imd),
        "lat": "52.652307",
        "long": "-2.028349",
        "oseast1m": "398000",
        "osnrth1m": "308000",
        "usertype": "0",
        "osgrdind": "1",
        "parish": "E04008765",
        "park": "E99999999",
        "osward": pc.ward,
        "wd25cd": pc.ward,
    }
    return [values.get(h, "E99999999" if h.endswith(("cd", "ward", "ced")) else "") for h in header]


def _write(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *, bom: bool, eol: str
) -> Path:
    def quote(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"'

    lines = [",".join(quote(c) for c in header)]
    lines += [",".join(quote(str(c)) for c in row) for row in rows]
    text = eol.join(lines) + eol
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def write_onspd(
    path: Path, rows: Iterable[Pc], layout: str = "2023", *, bom: bool = True, eol: str = "\r\n"
) -> Path:
    """A postcode directory in the given layout (2021, 2023, 2025 or 2026)."""
    header = LAYOUTS[layout]
    return _write(path, header, (_cells(pc, header) for pc in rows), bom=bom, eol=eol)


def write_imd(
    path: Path, lsoas: Iterable[Lsoa], layout: str = "2019", *, bom: bool = True, eol: str = "\r\n"
) -> Path:
    """An English IMD file (IoD2019 File 1 or File 7, or IoD2025 File 1)."""
    header = IMD_LAYOUTS[layout]
    rows = []
    for lsoa in lsoas:
        row = [
            lsoa.code,
            lsoa.name or f"{lsoa.lad_name} {lsoa.code[-3:]}A",
            lsoa.lad,
            lsoa.lad_name,
        ]
        if layout == "2019-file7":
            row += [f"{40 - lsoa.rank / 1000:.3f}", str(lsoa.rank), str(lsoa.decile)]
            row += ["0.1", "1234", "3", "0.08", "2345"]
        else:
            row += [str(lsoa.rank), str(lsoa.decile)]
        rows.append(row)
    return _write(path, header, rows, bom=bom, eol=eol)


def complete_imd(path: Path, layout: str = "2019", lsoas: int = 32_844) -> Path:
    """Every LSOA of England (E01000001 on), ranked in code order: a complete IMD file."""
    return write_imd(
        path,
        (Lsoa(f"E01{n:06d}", n, lsoas=lsoas) for n in range(1, lsoas + 1)),
        layout,
    )
