"""central.toml (``central.config``): every key checked and named when wrong, the file found
the documented way, and the command line over the file over the defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from central.cli import build_parser, main
from central.config import (
    CONFIG_ENV,
    CentralConfig,
    ConfigError,
    database_url,
    find_config,
    load_config,
)
from central.serving import DEFAULT_PORT, serve_settings

GOOD = """
[database]
url = "postgresql://doorstep:pw@db.example.org/doorstep"

[server]
host = "127.0.0.1"
port = 8710
trusted_proxies = ["127.0.0.1", "::1", "10.0.0.0/24"]
secret = "s3cret"

[backup]
folder = "/srv/backups"
keep_days = 30
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "central.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_whole_file_is_read(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.database_url == "postgresql://doorstep:pw@db.example.org/doorstep"
    assert (config.host, config.port, config.secret) == ("127.0.0.1", 8710, "s3cret")
    assert config.trusted_proxies == "127.0.0.1,::1,10.0.0.0/24"
    assert (config.backup_folder, config.backup_keep_days) == (Path("/srv/backups"), 30)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[server]\nprot = 80\n", "[server] prot: unknown key"),
        ("[sever]\n", "unknown section [sever]"),
        ('[server]\nport = "80"\n', "[server] port: must be a number"),
        ("[server]\nport = 70000\n", "[server] port: 70000 is not a port"),
        ('[server]\ntrusted_proxies = ["proxy.lan"]\n', "'proxy.lan' is not an IP address"),
        ("[server]\nsecret = 5\n", "[server] secret: must be a string"),
        ('[server]\ntls_certfile = "/c.pem"\n', "give both tls_certfile and tls_keyfile"),
        ('[database]\nurl = "mysql://x@y/z"\n', "[database] url: mysql://x@y/z is neither"),
        ('[database]\nurl = "nonsense"\n', "[database] url: not a database URL"),
        ('[backup]\nfolder = "backups"\n', "[backup] folder: 'backups' must be an absolute"),
        ("[backup]\nkeep_days = 0\n", "[backup] keep_days: a number of days"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_a_wrong_key_is_named(tmp_path, text, names):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert names in str(caught.value) and str(tmp_path) in str(caught.value)


def test_a_password_in_a_bad_url_is_not_shown(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, '[database]\nurl = "mysql://u:hunter2@h/d"\n'))
    assert "hunter2" not in str(caught.value)


def test_the_file_is_found_by_option_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "env.toml"))
    assert find_config(str(tmp_path / "given.toml")) == tmp_path / "given.toml"
    assert find_config(None) == tmp_path / "env.toml"


def test_the_database_is_most_explicit_first(monkeypatch):
    config = CentralConfig(database_url="sqlite:////from/file.sqlite3")
    monkeypatch.delenv("KIOSK_CENTRAL_DB", raising=False)
    assert database_url(None, config) == "sqlite:////from/file.sqlite3"
    assert database_url("sqlite:////given.sqlite3", config) == "sqlite:////given.sqlite3"
    monkeypatch.setenv("KIOSK_CENTRAL_DB", "sqlite:////env.sqlite3")
    assert database_url(None, config) == "sqlite:////env.sqlite3"


def serve_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def test_serve_takes_the_file_where_the_command_line_says_nothing(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    settings = serve_settings(serve_args(), config)
    assert (settings.host, settings.port) == ("127.0.0.1", 8710)
    assert settings.forwarded_allow_ips == "127.0.0.1,::1,10.0.0.0/24"
    assert settings.secret == "s3cret"
    given = serve_args("--host", "0.0.0.0", "--port", "9000", "--forwarded-allow-ips", "10.1.1.1")
    settings = serve_settings(given, config)
    assert (settings.host, settings.port, settings.forwarded_allow_ips) == (
        "0.0.0.0",
        9000,
        "10.1.1.1",
    )
    assert serve_settings(serve_args(), CentralConfig()).port == DEFAULT_PORT


def test_a_bad_config_stops_every_command_naming_the_key(tmp_path, capsys):
    path = write(tmp_path, "[server]\nprot = 80\n")
    assert main(["--config", str(path), "org", "list"]) == 1
    assert "[server] prot: unknown key" in capsys.readouterr().err


def test_config_may_be_given_before_or_after_serve():
    parse = build_parser().parse_args
    assert parse(["--config", "/a.toml", "serve"]).config == "/a.toml"
    assert parse(["serve", "--config", "/b.toml"]).config == "/b.toml"
    assert parse(["serve"]).config is None
