"""A family asks to be forgotten, end to end with the real parts: taps at a real kiosk store,
``kiosk-sync`` to a ``kiosk-central serve`` process, ``kiosk-central family export`` and
``family erase`` as an admin types them, then ``kiosk-sync`` again.

Afterwards nothing that identifies the family is left in the server's database, in the
kiosk's data folder or in a new report, and the invoice for the month has the same lines and
the same total as before.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import daemon
from tests.privacy.helpers import leaks
from tests.recovery.helpers import Central, kiosk_desk, kiosk_sync, running_central
from tests.sync.servers import MONDAY, register_families, week_of_taps

ZAINAB_CARD = "04E5F6A7"
ZAINAB = ("Zainabella", "WS11 4QT", ("Yusufino", "Amiraline"))
KIOSK_AUDIT = "audit.jsonl"  # references (family ids), never names: SECURITY.md


@pytest.fixture
def central(db_url: str, backend: str, tmp_path: Path) -> Iterator[Central]:
    yield from running_central(db_url, tmp_path, backend)


def _ok(done) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout


def _invoice(central: Central) -> tuple[list[list[str]], str]:
    out = _ok(central.cli("report", "invoice", "--org", "lichfield", "--month", "2026-11"))
    rows = list(csv.reader(io.StringIO(out)))
    return rows, out


def _kiosk_text(data: Path, with_audit: bool) -> str:
    """Every file in the kiosk's data folder, as one text."""
    parts = []
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        if path.name == KIOSK_AUDIT and not with_audit:
            continue
        parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_an_erased_family_is_gone_from_server_kiosk_and_reports_and_invoices_add_up(
    central, tmp_path
):
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    name, postcode, kids = ZAINAB
    zainab = desk.register_family(
        name,
        postcode,
        [(kids[0], "2024-03"), (kids[1], None)],
        at=MONDAY,
        criteria=["single_parent"],
        consent=True,
        card_uid=ZAINAB_CARD,
    )
    uids = [ZAINAB_CARD, *register_families(desk, 5)]
    week_of_taps(desk, uids)
    desk.store.close()
    _ok(central.cli("org", "rate", "lichfield", "3.00", "--from", "2026-01-01"))
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    before_rows, before_text = _invoice(central)
    secrets = [zainab.family_id, name, postcode, ZAINAB_CARD, *kids]
    secrets += [c.child_id for c in zainab.children]
    assert name not in before_text and zainab.family_id in before_text  # references only
    # Three visits with both children: six qualifying child-attendances on the sheet.
    assert sum(zainab.family_id in row for row in before_rows) == 6

    # Her copy first (right of access), then the erasure.
    copy = json.loads(_ok(central.cli("family", "export", zainab.family_id, "--by", "dpo")))
    assert copy["family"]["greeting_name"] == name
    assert {c["first_name"] for c in copy["children"]} == set(kids)
    erased = central.cli("family", "erase", zainab.family_id, "--yes", "--by", "dpo")
    assert erased.returncode == 0, erased.stderr
    said = erased.stdout + erased.stderr
    assert "family erased from organisation lichfield" in said
    assert "kept, anonymous (so past invoices and reports still add up)" in said

    # The kiosk learns of it at its next pass.
    again = kiosk_sync(data, central.url, token)
    assert again.returncode == daemon.EXIT_OK, again.stderr
    assert "1 erased family(ies) removed from this kiosk" in again.stderr

    assert leaks(central.db, secrets) == []
    on_kiosk = _kiosk_text(data, with_audit=False)
    assert [s for s in secrets if s.lower() in on_kiosk.lower()] == []
    kiosk_audit = _kiosk_text(data, with_audit=True)
    assert [s for s in (name, postcode, *kids) if s in kiosk_audit] == []
    after_rows, after_text = _invoice(central)
    assert [s for s in secrets if s in after_text] == []
    # The same lines (the family now a token) and the same total.
    assert len(after_rows) == len(before_rows)
    assert after_rows[-1] == before_rows[-1]
    hers_before = [r for r in before_rows if zainab.family_id in r]
    hers_after = [r for r in after_rows if any(c.startswith("erased-") for c in r)]
    assert [r for r in after_rows if r not in hers_after] == [
        r for r in before_rows if r not in hers_before
    ]
    family_and_child = slice(3, 5)
    assert len({r[3] for r in hers_after}) == 1  # one token for the family
    assert [r[:3] + r[5:] for r in hers_after] == [r[:3] + r[5:] for r in hers_before]
    assert all(
        r[family_and_child] != b[family_and_child]
        for r, b in zip(hers_after, hers_before, strict=True)
    )
    # Erasing her again is refused, and says why.
    twice = central.cli("family", "erase", zainab.family_id, "--yes")
    assert twice.returncode == 1
    assert "erased" in twice.stderr
