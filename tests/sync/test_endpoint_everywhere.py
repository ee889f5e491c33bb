"""Every way a kiosk is given the server's URL goes through the one check (sync.endpoint), so
none lets a password in the URL through: kiosk.toml, ``kiosk-sync --endpoint`` and
``kiosk-admin enrol --endpoint`` each refuse it, say which setting is wrong, and do not repeat
the password."""

from __future__ import annotations

import io

import pytest

from kiosk.admin import main as admin_main
from kiosk.config import ConfigError, load_config
from kiosk.identity import IDENTITY_FILE
from sync.daemon import EXIT_CONFIG
from sync.daemon import main as sync_main
from sync.endpoint import EndpointError, check_endpoint

URL = "https://kiosk:hunter2@central.example.org"


def test_the_one_check_refuses_credentials_without_repeating_them():
    with pytest.raises(EndpointError, match="must not hold a user name or password") as caught:
        check_endpoint(URL)
    assert "hunter2" not in str(caught.value)


def test_kiosk_toml_refuses_them_naming_the_setting(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[device]\nid = "k1"\nsite = "s1"\n\n[sync]\nendpoint = "{URL}"\n')
    with pytest.raises(ConfigError, match=r"\[sync\] endpoint: must not hold") as caught:
        load_config(path)
    assert "hunter2" not in str(caught.value)


def test_kiosk_sync_refuses_them_before_sending_anything(tmp_path, capfd):
    token = tmp_path / "token"
    token.write_text("dsk_test\n")
    token.chmod(0o600)
    argv = ["--data", str(tmp_path), "--endpoint", URL, "--token-file", str(token), "--once"]
    assert sync_main(argv) == EXIT_CONFIG
    logged = capfd.readouterr().err
    assert "endpoint: must not hold a user name or password" in logged
    assert "hunter2" not in logged


def test_kiosk_admin_enrol_refuses_them_and_changes_nothing(tmp_path):
    token = tmp_path / "token"
    token.write_text("dsk_test\n")
    out, err = io.StringIO(), io.StringIO()
    argv = ["--data", str(tmp_path / "data"), "enrol", "--device", "k1", "--site", "s1"]
    argv += ["--endpoint", URL, "--token-file", str(token)]
    assert admin_main(argv, out=out, err=err) == 1
    assert "endpoint: must not hold a user name or password" in err.getvalue()
    assert "nothing was changed" in err.getvalue() and "hunter2" not in err.getvalue()
    assert not (tmp_path / "data" / IDENTITY_FILE).exists()
