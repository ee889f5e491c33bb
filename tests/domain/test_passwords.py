"""One password module for the kiosk's PINs and the dashboard's passwords: every stored format
still verifies, new dashboard hashes are argon2id, and a malformed hash never verifies."""

from __future__ import annotations

import pytest

from kiosk.domain import passwords
from kiosk.domain.passwords import (
    PasswordCheck,
    check_password,
    hash_password,
    hash_scrypt,
    needs_rehash,
    verify_password,
    verify_scrypt,
)
from kiosk.domain.volunteers import hash_pin, verify_pin

#: Written by the code before this module (central.db.hash_password, scrypt hex, N=2**14).
OLD_DASHBOARD = (
    "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$"
    "d30c8e11a6498ec664dd8ae51baed9ac9e86b698bdfead33f7865248714a86e0"
)
OLD_DASHBOARD_PASSWORD = "old dashboard pw"
#: Written by the code before this module (kiosk.domain.volunteers.hash_pin, base64, N=2**13).
OLD_PIN = "scrypt$8192$8$1$AAECAwQFBgcICQoLDA0ODw==$Hi3ahhDg0mHrGl9i77/OHcFmMKk9gn5OiU5WUjLI91k="


def test_a_dashboard_password_hashed_before_argon2_still_verifies_and_asks_for_an_upgrade():
    assert check_password(OLD_DASHBOARD_PASSWORD, OLD_DASHBOARD) == PasswordCheck(True, True)
    assert needs_rehash(OLD_DASHBOARD)
    assert check_password("old dashboard pX", OLD_DASHBOARD) == PasswordCheck(False, True)
    assert not verify_password("", OLD_DASHBOARD)


def test_a_pin_hashed_before_this_module_still_verifies():
    assert verify_pin("2468", OLD_PIN) and verify_scrypt("2468", OLD_PIN)
    assert not verify_pin("2469", OLD_PIN)
    assert hash_pin("2468", salt=bytes(range(16))) == OLD_PIN  # the same format and cost


def test_new_dashboard_hashes_are_argon2id_salted_and_need_no_upgrade():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert "correct horse" not in first
    assert check_password("correct horse", first) == PasswordCheck(True, False)
    assert not needs_rehash(first)
    assert not verify_password("correct horsf", first)


def test_argon2_hashes_below_todays_parameters_ask_for_an_upgrade():
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("pw")
    assert check_password("pw", weak) == PasswordCheck(True, True)
    assert needs_rehash(weak)


def test_pins_stay_on_the_pis_scrypt_cost():
    stored = hash_pin("2468")
    assert stored.startswith(f"scrypt${passwords.PIN_SCRYPT.n}$8$1$")
    assert verify_pin("2468", stored) and not verify_pin("2469", stored)
    assert hash_scrypt("2468") != hash_scrypt("2468")


MALFORMED = [
    "",
    "scrypt",
    "scrypt$1$2",
    "scrypt$16384$8$1$zz$zz",  # not hex
    "scrypt$16384$8$1$0001$",  # no digest
    "scrypt$1048576$64$1$0001$0a0b",  # asks for more memory than allowed
    "scrypt$a$b$c$!!$!!",
    "$argon2id$v=19$m=65536,t=3,p=4$garbage",
    "$argon2id$",
    "pbkdf2$x$y$z$a$b",
    "plain text password",
]


@pytest.mark.parametrize("stored", MALFORMED)
def test_a_malformed_dashboard_hash_never_verifies_and_never_raises(stored):
    assert check_password("anything", stored).ok is False
    assert verify_password("", stored) is False
    needs_rehash(stored)  # answers without raising


@pytest.mark.parametrize("stored", [*MALFORMED, OLD_DASHBOARD])
def test_a_malformed_or_dashboard_hash_never_verifies_as_a_pin(stored):
    assert verify_pin("2468", stored) is False


def test_the_central_database_helpers_use_the_one_module():
    from central import db

    stored = db.hash_password("pw")
    assert stored.startswith("$argon2id$")
    assert db.verify_password("pw", stored) and db.verify_password(
        OLD_DASHBOARD_PASSWORD, OLD_DASHBOARD
    )
    assert db.verify_password("pw", "scrypt$16384$8$1$zz$zz") is False
    assert not hasattr(db, "_SCRYPT")


def test_the_kiosk_hashes_and_checks_pins_without_argon2_installed():
    """The Pi installs no argon2-cffi: the password module must not need it for PINs."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['argon2'] = None\n"
        "from kiosk.domain.volunteers import hash_pin, verify_pin\n"
        f"assert verify_pin('2468', {OLD_PIN!r})\n"
        "assert verify_pin('1357', hash_pin('1357'))\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
