"""The appliance's configuration file, ``/etc/doorstep/kiosk.toml``: loaded and checked.

Every key is checked when the file is loaded: unknown sections and keys are refused (a typo shows
at once), types and ranges are checked, the server's URL must be https (plain http only to this
machine), and files that must exist do. A wrong value stops with one line naming the file, the
section and the key, never a traceback::

    /etc/doorstep/kiosk.toml: [sync] batch_size: must be a whole number from 1 to 1000, not 'lots'

The file is found as ``--config FILE``, else ``$KIOSK_CONFIG``, else ``/etc/doorstep/kiosk.toml``.
``scripts/install-pi.sh`` writes a first one; ``docs/appliance.md`` lists every key.

    >>> config = parse_config('''
    ... [device]
    ... id = "kiosk-hall-1"
    ... site = "hall"
    ... [sync]
    ... endpoint = "https://central.example.org"
    ... ''', "kiosk.toml")
    >>> config.sync.batch_size, config.reader.kind
    (200, 'rc522')

Run as a program, this module starts the kiosk app or the sync daemon with the file's settings
(the systemd units do this), after checking it: ``python -m kiosk.config exec sync``. It
replaces itself with the real program (``exec``), so systemd watches that process directly
(``Type=notify`` and the watchdog need the main process to be the daemon).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.domain.errors import KioskError
from kiosk.hardware.select import FEEDBACK_SWITCHES, FeedbackConfig, ReaderConfig
from sync.endpoint import EndpointError, check_endpoint

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("/etc/doorstep/kiosk.toml")
CONFIG_ENV = "KIOSK_CONFIG"

DEFAULT_DATA = Path("/var/lib/doorstep")
DEFAULT_TOKEN_FILE = Path("/etc/doorstep/token")
DEFAULT_BACKUP_FOLDER = Path("/var/backups/doorstep")
#: Same as the store's own default and bound (kiosk.store.layout; not imported, so reading the
#: file does not load the store; tests/appliance/test_config.py checks they agree).
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650
#: Same as the sync daemon's defaults (sync.syncer, sync.daemon).
DEFAULT_BATCH_SIZE = 200
MAX_BATCH_SIZE = 1000
DEFAULT_SYNC_INTERVAL = 30.0
DEFAULT_BACKUP_KEEP_DAYS = 14

#: Exit status for a configuration problem: the same as ``kiosk-sync``'s EXIT_CONFIG, so the
#: units' ``RestartPreventExitStatus=6`` stops a restart loop that cannot fix itself.
EXIT_CONFIG = 6


class ConfigError(KioskError, ValueError):
    """A configuration file that cannot be used; the message names the file, section and key."""

    def __init__(
        self, path: str | os.PathLike[str], message: str, section: str = "", key: str = ""
    ) -> None:
        self.path = os.fspath(path)
        self.section = section
        self.key = key
        self.reason = message
        where = f"[{section}] " if section else ""
        where += f"{key}: " if key else ""
        super().__init__(f"{self.path}: {where}{message}")


@dataclass(frozen=True)
class DeviceSettings:
    """``[device]``: who this kiosk is (written to the store's ``device.json`` at enrolment)."""

    id: str
    site: str


@dataclass(frozen=True)
class StoreSettings:
    """``[store]``: the data folder and how long acknowledged events are kept."""

    data: Path = DEFAULT_DATA
    retention_days: int = DEFAULT_RETENTION_DAYS


@dataclass(frozen=True)
class SyncSettings:
    """``[sync]``: the central server. An empty ``endpoint`` means not set up yet."""

    endpoint: str = ""
    token_file: Path = DEFAULT_TOKEN_FILE
    ca_file: Path | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    interval: float = DEFAULT_SYNC_INTERVAL


@dataclass(frozen=True)
class BackupSettings:
    """``[backup]``: where nightly backups go and how many days of them are kept."""

    folder: Path = DEFAULT_BACKUP_FOLDER
    keep_days: int = DEFAULT_BACKUP_KEEP_DAYS


@dataclass(frozen=True)
class KioskConfig:
    """The whole file, checked. ``path`` is where it was read from."""

    path: Path
    device: DeviceSettings
    store: StoreSettings = field(default_factory=StoreSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    reader: ReaderConfig = field(default_factory=lambda: ReaderConfig(kind="rc522"))
    feedback: FeedbackConfig = field(default_factory=lambda: FeedbackConfig(enabled=True))
    backup: BackupSettings = field(default_factory=BackupSettings)
    #: Lines the file no longer needs, to show a person (``kiosk-admin config check``).
    notes: tuple[str, ...] = field(default=(), compare=False)

    def token_problem(self) -> str | None:
        """Why the sync daemon could not read its token (None when it can)."""
        path = self.sync.token_file
        try:
            token = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return f"{path} does not exist"
        except OSError as exc:
            return f"{path} cannot be read ({exc.strerror})"
        if not token or any(ch.isspace() for ch in token):
            return f"{path} must hold the device token alone, on one line"
        return None

    def sync_ready(self) -> None:
        """Raise ConfigError unless the sync daemon has what it needs (endpoint, token)."""
        if not self.sync.endpoint:
            raise ConfigError(
                self.path, "is not set: write the central server's URL here", "sync", "endpoint"
            )
        problem = self.token_problem()
        if problem:
            raise ConfigError(
                self.path,
                f"{problem}: put the token from 'kiosk-central device add' in it",
                "sync",
                "token_file",
            )


# -- finding and reading the file -----------------------------------------------------------------
def config_path(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """``--config``, else ``$KIOSK_CONFIG``, else the default path."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG


def find_config(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> KioskConfig | None:
    """The checked file named by ``--config`` or ``$KIOSK_CONFIG``, else the default one.

    A file that is named must exist (:class:`ConfigError` if not); the default file may be
    missing (a laptop, a demo), and then the answer is None: the built-in defaults.
    """
    env = os.environ if env is None else env
    path = config_path(explicit, env)
    if not explicit and not env.get(CONFIG_ENV) and not path.exists():
        return None
    return load_config(path)


def load_config(path: str | os.PathLike[str]) -> KioskConfig:
    """Read and check the file; raises :class:`ConfigError` with a one-line message."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(p, "no such file (scripts/install-pi.sh writes one)") from None
    except IsADirectoryError:
        raise ConfigError(p, "is a folder, not a configuration file") from None
    except PermissionError:
        raise ConfigError(
            p, "no permission to read it (run as root or as the kiosk user)"
        ) from None
    except OSError as exc:
        raise ConfigError(p, f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(p, f"is not UTF-8 text (byte {exc.start})") from None
    return parse_config(text, p)


def parse_config(text: str, path: str | os.PathLike[str] = "kiosk.toml") -> KioskConfig:
    """Check a file's text (``path`` is only used in messages and as ``config.path``)."""
    p = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, f"not valid TOML: {exc}") from None
    return _Checker(p).config(data)


# -- checking -------------------------------------------------------------------------------------
_SECTIONS = ("device", "store", "sync", "reader", "feedback", "sessions", "backup")


def _show(value: Any) -> str:
    """A value as the file spells it: 'lots', 12, true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, section: str, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, message, section, key)

    # whole file
    def config(self, data: Mapping[str, Any]) -> KioskConfig:
        for name, value in data.items():
            if name not in _SECTIONS:
                raise ConfigError(
                    self.path,
                    f"unknown section [{name}]; the sections are "
                    + ", ".join(f"[{s}]" for s in _SECTIONS),
                )
            if not isinstance(value, dict):
                raise ConfigError(self.path, f"{name} must be a section ([{name}]), not a value")
        if "device" not in data:
            raise ConfigError(self.path, "the [device] section (id, site) is missing")
        device = self.device(data["device"])
        store = self.store(data.get("store", {}))
        sync = self.sync(data.get("sync", {}))
        reader = self.reader(data.get("reader", {}))
        feedback = self.feedback(data.get("feedback", {}), reader)
        notes = self.sessions(data.get("sessions", {}))
        backup = self.backup(data.get("backup", {}))
        return KioskConfig(self.path, device, store, sync, reader, feedback, backup, notes)

    def keys(self, section: str, table: Mapping[str, Any], known: Sequence[str]) -> None:
        for key in table:
            if key not in known:
                raise self.error(
                    section, key, f"unknown key; the keys of [{section}] are {', '.join(known)}"
                )

    # value kinds
    def whole(self, section: str, key: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(
                section, key, f"must be a whole number from {low} to {high}, not {_show(value)}"
            )
        return value

    def number(self, section: str, key: str, value: Any, low: float, high: float) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not low <= value <= high:
            raise self.error(
                section, key, f"must be a number from {low:g} to {high:g}, not {_show(value)}"
            )
        return float(value)

    def text(self, section: str, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.error(section, key, f"must be text in quotes, not {_show(value)}")
        return value.strip()

    def ident(self, section: str, key: str, value: Any) -> str:
        from kiosk.identity import check_id

        text = self.text(section, key, value)
        try:
            return check_id(text, key)
        except ValueError:
            raise self.error(
                section,
                key,
                f"must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
                f"digit, not {_show(value)}",
            ) from None

    def abspath(self, section: str, key: str, value: Any) -> Path:
        text = self.text(section, key, value)
        if not text.startswith("/"):
            raise self.error(
                section, key, f"must be an absolute path (starting with /), not {_show(value)}"
            )
        return Path(text)

    def url(self, section: str, key: str, value: Any) -> str:
        text = self.text(section, key, value)
        if not text:
            return ""
        try:
            return check_endpoint(text)
        except EndpointError as exc:
            raise self.error(section, key, str(exc)) from None

    # sections
    def device(self, table: Mapping[str, Any]) -> DeviceSettings:
        self.keys("device", table, ("id", "site"))
        for key in ("id", "site"):
            if key not in table:
                raise self.error("device", key, "is missing")
        return DeviceSettings(
            self.ident("device", "id", table["id"]), self.ident("device", "site", table["site"])
        )

    def store(self, table: Mapping[str, Any]) -> StoreSettings:
        self.keys("store", table, ("data", "retention_days"))
        out = StoreSettings()
        if "data" in table:
            data = self.abspath("store", "data", table["data"])
            if data == Path("/"):
                raise self.error("store", "data", "must be a folder of its own, not /")
            out = dataclasses.replace(out, data=data)
        if "retention_days" in table:
            days = self.whole(
                "store", "retention_days", table["retention_days"], 1, MAX_RETENTION_DAYS
            )
            out = dataclasses.replace(out, retention_days=days)
        return out

    def sync(self, table: Mapping[str, Any]) -> SyncSettings:
        self.keys("sync", table, ("endpoint", "token_file", "ca_file", "batch_size", "interval"))
        out = SyncSettings()
        if "endpoint" in table:
            out = dataclasses.replace(out, endpoint=self.url("sync", "endpoint", table["endpoint"]))
        if "token_file" in table:
            token = self.abspath("sync", "token_file", table["token_file"])
            if token.exists() and not token.is_file():
                raise self.error("sync", "token_file", f"{token} is not a file")
            out = dataclasses.replace(out, token_file=token)
        if "ca_file" in table and self.text("sync", "ca_file", table["ca_file"]):
            ca = self.abspath("sync", "ca_file", table["ca_file"])
            if not ca.is_file():
                raise self.error(
                    "sync",
                    "ca_file",
                    f"{ca} does not exist (leave it out to trust the system's CAs)",
                )
            out = dataclasses.replace(out, ca_file=ca)
        if "batch_size" in table:
            size = self.whole("sync", "batch_size", table["batch_size"], 1, MAX_BATCH_SIZE)
            out = dataclasses.replace(out, batch_size=size)
        if "interval" in table:
            every = self.number("sync", "interval", table["interval"], 1, 86400)
            out = dataclasses.replace(out, interval=every)
        return out

    def reader(self, table: Mapping[str, Any]) -> ReaderConfig:
        values = dict(table)
        if "kind" not in values:
            values["kind"] = "rc522"  # the appliance's reader; the dataclass defaults to fake
        # TOML has no None: "none" (or false) for no reset pin, "" for no USB device.
        if values.get("reset_pin") in ("none", "None", False):
            values["reset_pin"] = None
        if values.get("usb_device") == "":
            values["usb_device"] = None
        self.types("reader", ReaderConfig, values)
        try:
            return ReaderConfig.from_mapping(values)
        except (TypeError, ValueError) as exc:
            raise self._from_dataclass("reader", ReaderConfig, exc) from None

    def feedback(self, table: Mapping[str, Any], reader: ReaderConfig) -> FeedbackConfig:
        values = dict(table)
        values.setdefault("enabled", True)
        self.types("feedback", FeedbackConfig, values)
        try:
            feedback = FeedbackConfig.from_mapping(values)
        except (TypeError, ValueError) as exc:
            raise self._from_dataclass("feedback", FeedbackConfig, exc) from None
        clash = _pin_clash(reader, feedback)
        if clash:
            raise self.error(
                "feedback", clash, f"GPIO{reader.reset_pin} is the card reader's reset_pin"
            )
        return feedback

    def sessions(self, table: Mapping[str, Any]) -> tuple[str, ...]:
        """``[sessions]`` is no longer used: the timetable is always the kiosk's own.

        Installed kiosks were given ``source = "local"``, the one value ever accepted, so that
        line still loads (with a note to delete it) rather than stopping the door at an upgrade.
        Any other value never loaded; it is refused with what to do.
        """
        self.keys("sessions", table, ("source",))
        if "source" not in table:
            return ()
        source = self.text("sessions", "source", table["source"])
        if source != "local":
            raise self.error(
                "sessions",
                "source",
                "the timetable is always kept on the kiosk and edited with kiosk-admin "
                f"session; delete this line (it says {_show(table['source'])})",
            )
        note = (
            '[sessions] source = "local" is no longer needed (the timetable is always kept on '
            "the kiosk): delete the [sessions] section"
        )
        log.warning("%s: %s", self.path, note)
        return (note,)

    def backup(self, table: Mapping[str, Any]) -> BackupSettings:
        self.keys("backup", table, ("folder", "keep_days"))
        out = BackupSettings()
        if "folder" in table:
            out = dataclasses.replace(out, folder=self.abspath("backup", "folder", table["folder"]))
        if "keep_days" in table:
            days = self.whole("backup", "keep_days", table["keep_days"], 1, 3650)
            out = dataclasses.replace(out, keep_days=days)
        return out

    # the hardware dataclasses: check types first (their own checks assume them)
    def types(self, section: str, cls: type, values: Mapping[str, Any]) -> None:
        hints = {f.name: str(f.type) for f in dataclasses.fields(cls)}
        self.keys(section, values, tuple(hints))
        for key, value in values.items():
            hint = hints[key]
            if hint.startswith("int"):
                ok = (isinstance(value, int) and not isinstance(value, bool)) or (
                    value is None and "None" in hint
                )
                want = "a whole number" + (' (or "none")' if "None" in hint else "")
            elif hint == "float":
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                want = "a number"
            elif hint == "bool":
                ok = isinstance(value, bool)
                want = "true or false"
            elif hint.startswith("tuple"):
                ok = isinstance(value, list) and all(
                    isinstance(item, list)
                    and len(item) == 2
                    and isinstance(item[0], int | float)
                    and isinstance(item[1], str)
                    for item in value
                )
                want = 'a list of [seconds, "UID"] pairs'
            else:  # str, str | None, Literal[...]
                ok = isinstance(value, str) or (value is None and "None" in hint)
                want = "text in quotes"
            if not ok:
                raise self.error(section, key, f"must be {want}, not {_show(value)}")

    def _from_dataclass(self, section: str, cls: type, exc: Exception) -> ConfigError:
        """Name the key in the dataclass's own message (``reset_pin must be ...``)."""
        message = str(exc)
        for f in dataclasses.fields(cls):
            if message.startswith(f.name + " ") or message.startswith(f.name + ":"):
                return self.error(section, f.name, message[len(f.name) :].lstrip(" :"))
        if message.startswith("Unknown card reader kind"):
            return self.error(section, "kind", message)
        if message.startswith("The LED and the buzzer"):
            return self.error(section, "buzzer_pin", message)
        return self.error(section, "", message)


def _pin_clash(reader: ReaderConfig, feedback: FeedbackConfig) -> str:
    """The ``[feedback]`` key whose pin is the RC522's reset pin ("" when none is)."""
    if feedback.enabled and reader.kind == "rc522" and reader.reset_pin is not None:
        for key in ("led_pin", "buzzer_pin"):
            if getattr(feedback, key) == reader.reset_pin:
                return key
    return ""


# -- the hardware it describes (kiosk, kiosk-admin reader test, doctor) ------------------------
def hardware_settings(
    config: KioskConfig | None,
    *,
    reader: str | None = None,
    feedback: str | None = None,
    demo: bool = False,
) -> tuple[ReaderConfig, FeedbackConfig]:
    """The card reader and the LED and buzzer to open: the file's settings, then overrides.

    Every program that opens the hardware asks here, so the kiosk app, ``kiosk-admin reader
    test`` and ``kiosk-admin doctor`` use the same wiring. ``config`` None (no file) means the
    built-in defaults: an RC522 and the LED and buzzer on their usual pins. ``reader`` (a kind:
    ``rc522``, ``usb``, ``fake``) and ``feedback`` (``gpio`` or ``none``) come from the command
    line and replace only the kind and on/off: the pins and devices stay the file's. In ``demo``
    mode the reader is the fake one and feedback is off unless they say otherwise.

        >>> reader, feedback = hardware_settings(None, reader="usb")
        >>> reader.kind, reader.usb_uid_format, feedback.enabled, feedback.led_pin
        ('usb', 'auto', True, 17)
        >>> hardware_settings(None, demo=True)[0].kind
        'fake'
    """
    reader_config = config.reader if config else ReaderConfig(kind="rc522")
    feedback_config = config.feedback if config else FeedbackConfig(enabled=True)
    kind = reader or ("fake" if demo else None)
    if kind is not None and kind != reader_config.kind:
        reader_config = dataclasses.replace(reader_config, kind=kind)
    wanted = feedback or ("none" if demo else None)
    if wanted is not None:
        if wanted not in FEEDBACK_SWITCHES:
            raise ValueError(f"feedback must be {' or '.join(FEEDBACK_SWITCHES)}, not {wanted!r}")
        feedback_config = dataclasses.replace(feedback_config, enabled=wanted == "gpio")
    clash = _pin_clash(reader_config, feedback_config)
    if clash:
        raise ConfigError(
            config.path if config else "(built-in defaults)",
            f"GPIO{reader_config.reset_pin} is the card reader's reset_pin",
            "feedback",
            clash,
        )
    return reader_config, feedback_config


# -- describing it (kiosk-admin config check) -----------------------------------------------------
def describe(config: KioskConfig) -> list[tuple[str, str]]:
    """``(key, value)`` lines that say what the file sets, for a person to check."""
    from kiosk.hardware.select import describe_reader

    sync = config.sync
    if sync.endpoint:
        sync_line = (
            f"{sync.endpoint} every {sync.interval:g} s, batches of {sync.batch_size}, "
            f"token {sync.token_file}" + (f", CA {sync.ca_file}" if sync.ca_file else "")
        )
    else:
        sync_line = "not set up ([sync] endpoint is empty)"
    fb = config.feedback
    return [
        ("config", str(config.path)),
        ("device", f"{config.device.id} at site {config.device.site}"),
        (
            "data",
            f"{config.store.data} (acknowledged events kept {config.store.retention_days} days)",
        ),
        ("sync", sync_line),
        ("reader", describe_reader(config.reader)),
        (
            "feedback",
            f"LED GPIO{fb.led_pin}, buzzer GPIO{fb.buzzer_pin}"
            + ("" if fb.buzzer_active_high else " (active low)")
            if fb.enabled
            else "off",
        ),
        ("backup", f"{config.backup.folder}, kept {config.backup.keep_days} days"),
        *(("note", note) for note in config.notes),
    ]


# -- starting the programs with it (the systemd units) --------------------------------------------
def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {opt for action in parser._actions for opt in action.option_strings}


def _script(name: str, module: str) -> list[str]:
    """The console script beside this Python (the venv's ``bin/``), else ``python -m``."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", module]


def sync_command(config: KioskConfig, extra: Sequence[str] = ()) -> list[str]:
    """``kiosk-sync`` with the file's settings (it checks the endpoint and token again)."""
    from sync.daemon import build_parser

    config.sync_ready()
    argv = _script("kiosk-sync", "sync.daemon")
    if "--config" in _options(build_parser()):
        return [*argv, "--config", str(config.path), *extra]
    s = config.sync
    argv += [
        "--data",
        str(config.store.data),
        "--endpoint",
        s.endpoint,
        "--token-file",
        str(s.token_file),
        "--batch-size",
        str(s.batch_size),
        "--poll-interval",
        f"{s.interval:g}",
        "--retention-days",
        str(config.store.retention_days),
    ]
    if s.ca_file:
        argv += ["--ca-file", str(s.ca_file)]
    return [*argv, *extra]


def app_command(config: KioskConfig, extra: Sequence[str] = ()) -> list[str]:
    """``kiosk`` full screen, reading the same file (its reader, feedback and data folder)."""
    return [*_script("kiosk", "kiosk.app"), "--config", str(config.path), "--fullscreen", *extra]


def ensure_identity(config: KioskConfig, err: Any = None) -> None:
    """Write ``device.json`` from ``[device]`` if the data folder has none; warn if it differs."""
    from kiosk.domain.events import DeviceIdentity
    from kiosk.identity import IDENTITY_FILE, load_identity, save_identity

    err = err or sys.stderr
    data = config.store.data
    wanted = DeviceIdentity(config.device.id, config.device.site)
    if not (data / IDENTITY_FILE).exists():
        if data.is_dir():
            save_identity(data, wanted)
        return
    held = load_identity(data)
    if held != wanted:
        print(
            f"warning: {data / IDENTITY_FILE} says device {held.device_id} at site "
            f"{held.site_id}, but {config.path} says {wanted.device_id} at {wanted.site_id}; "
            "events keep using the data folder's (change it with kiosk-admin enrol)",
            file=err,
        )


def main(
    argv: Sequence[str] | None = None,
    execv: Callable[[str, list[str]], Any] = os.execv,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kiosk.config",
        description="Check the kiosk's configuration file, or start the kiosk app or the sync "
        "daemon with it (what the systemd units run).",
    )
    parser.add_argument(
        "--config", metavar="FILE", help=f"default: ${CONFIG_ENV} or {DEFAULT_CONFIG}"
    )
    parser.add_argument(
        "action", choices=("check", "exec"), help="check the file, or exec a program"
    )
    parser.add_argument("program", nargs="?", choices=("app", "sync"))
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="more options for the program")
    args = parser.parse_args(argv)
    path = config_path(args.config)
    try:
        config = load_config(path)
        if args.action == "check":
            for key, value in describe(config):
                print(f"{key}: {value}")
            return 0
        if args.program is None:
            parser.error("exec needs a program: app or sync")
        os.environ[CONFIG_ENV] = str(config.path)
        os.environ["KIOSK_DATA"] = str(config.store.data)
        if args.program == "sync":
            command = sync_command(config, args.extra)
        else:
            ensure_identity(config)
            command = app_command(config, args.extra)
    except ConfigError as exc:
        print(f"doorstep: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KioskError as exc:
        print(f"doorstep: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    sys.stdout.flush()
    sys.stderr.flush()
    execv(command[0], command)
    return 0  # only reached with a stand-in execv (tests)


if __name__ == "__main__":
    sys.exit(main())
