"""``kiosk-sync``: send the kiosk's recorded events to the central server, and pull the roster.

Runs as its own process (a systemd service, or a timer with ``--once``), beside the kiosk app:
it opens the same data folder, touches the store only in short calls between HTTP requests,
and so never delays a tap at the door.

    kiosk-sync --data /var/lib/doorstep --endpoint https://central.example.org \\
               --token-file /etc/doorstep/token --once

Without ``--once`` it runs until SIGTERM: a pass, then a wait: the poll interval when all is
well (quiet in the log when there is nothing to send), exponential backoff with jitter up to a
cap while the server is unreachable or failing, and, when the server refuses the token, no more
sending at all: it logs loudly, stays alive, and checks again every ``--auth-recheck`` seconds
(10 minutes) or as soon as the token file changes, so fixing the token needs no restart.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from kiosk.domain.events import DeviceIdentity
from kiosk.store.layout import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS
from sync.client import ConfigError, SyncClient, read_token
from sync.protocol import MAX_BATCH_EVENTS
from sync.retry import RetriesExhausted, RetryPolicy
from sync.syncer import DEFAULT_BATCH_SIZE, PRUNE_EVERY, PassReport, Syncer
from sync.systemd import Notifier

log = logging.getLogger("sync")

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_AUTH = 4
EXIT_REJECTED = 5
EXIT_CONFIG = 6
EXIT_PROTOCOL = 7

EXIT_CODES_HELP = """\
exit status with --once (the most serious wins: 4, 3, 7, then 5):
  0  every pending event was sent, or there was nothing to send
  1  unexpected internal error (see the log)
  2  bad command line
  3  server unreachable or failing (network, DNS, timeout, HTTP 5xx): events are
     kept on the kiosk and sent next time
  4  the server refused the token (HTTP 401/403) or it belongs to another kiosk:
     nothing was sent; put the token from 'kiosk-central device add' in the file
  5  the server rejected some events: they are set aside on the kiosk with the
     reason (kiosk-admin status), everything else was sent
  6  configuration problem (data folder, token file, endpoint, CA file)
  7  the server answered something unexpected (wrong --endpoint? versions?)

without --once it runs until SIGTERM (exit 0), retrying with backoff; a refused
token stops all sending until the token file changes (checked every few seconds)
or --auth-recheck seconds pass.
"""

DEFAULT_POLL_INTERVAL = 30.0
DEFAULT_AUTH_RECHECK = 600.0
DEFAULT_TIMEOUT = 30.0

# Retrying a POST is normally unsafe (urllib3 does not retry POST by default): the server may
# have acted before the answer was lost. It is safe here ONLY because every event carries a
# client-made event_id that the server deduplicates on (a unique constraint): a batch sent twice
# is answered "duplicate" the second time and changes nothing.
#: The daemon: for ever, 2 s doubling to a 5-minute cap, each wait 50-100% of that.
DAEMON_RETRY = RetryPolicy(backoff_factor=2.0, backoff_max=300.0, jitter=0.5, total=None)
#: ``--once``: two quick retries of the pass, so a dropped connection does not fail the run.
ONCE_RETRY = RetryPolicy(backoff_factor=0.5, backoff_max=2.0, jitter=0.5, total=2)


@dataclass(frozen=True)
class SyncConfig:
    """The daemon's settings, checked in one place."""

    data_dir: Path
    endpoint: str
    token_file: Path
    batch_size: int = DEFAULT_BATCH_SIZE
    ca_file: Path | None = None
    poll_interval: float = DEFAULT_POLL_INTERVAL
    auth_recheck: float = DEFAULT_AUTH_RECHECK
    timeout: float = DEFAULT_TIMEOUT
    #: Days an acknowledged event stays on the kiosk (for re-sending to a restored server).
    retention_days: int = DEFAULT_RETENTION_DAYS

    def check(self) -> None:
        if not self.data_dir.is_dir():
            raise ConfigError(f"data folder {self.data_dir} does not exist (is --data right?)")
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ConfigError(f"CA file {self.ca_file} does not exist")
        read_token(self.token_file)


# -- logging ---------------------------------------------------------------------------------
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class JournalFormatter(logging.Formatter):
    """Plain lines with a ``<N>`` syslog priority prefix, which journald turns into levels.

    No timestamp: the journal adds its own. Every line of a multi-line message (a traceback)
    carries the prefix, so it stays at the right level.
    """

    def __init__(self) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{_PRIORITY.get(record.levelno, 6)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def configure_logging(
    verbose: bool = False, stream: TextIO | None = None, env: Mapping[str, str] | None = None
) -> logging.Handler:
    """Journald-friendly lines under systemd (``$JOURNAL_STREAM``), else timestamped ones."""
    env = os.environ if env is None else env
    handler = logging.StreamHandler(stream or sys.stderr)
    if env.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("sync")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    return handler


# -- one pass (--once) -----------------------------------------------------------------------
def exit_code(reports: Sequence[PassReport]) -> int:
    """The status for a ``--once`` run from its passes (the last says how it ended)."""
    last = reports[-1]
    match last.outcome:
        case "auth":
            return EXIT_AUTH
        case "unreachable":
            return EXIT_UNREACHABLE
        case "protocol":
            return EXIT_PROTOCOL
    if any(r.rejected for r in reports):
        return EXIT_REJECTED
    return EXIT_OK


def run_once(
    syncer: Syncer,
    retry: RetryPolicy = ONCE_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """One pass (retried briefly if the server cannot be reached); returns the exit status."""
    reports: list[PassReport] = []
    while True:
        report = syncer.run_pass()
        reports.append(report)
        if report.outcome not in ("unreachable", "protocol"):
            break
        try:
            retry = retry.increment(str(report.error))
        except RetriesExhausted:
            break
        delay = retry.next_delay()
        log.info("%s; trying again in %.1f s", report.error, delay)
        sleep(delay)
    total = PassReport(
        accepted=sum(r.accepted for r in reports),
        duplicate=sum(r.duplicate for r in reports),
        rejected=sum(r.rejected for r in reports),
        roster_applied=sum(r.roster_applied for r in reports),
        erased=sum(r.erased for r in reports),
        pruned=sum(r.pruned for r in reports),
        requeued=sum(r.requeued for r in reports),
        written_off=sum(r.written_off for r in reports),
        setup_changes=[c for r in reports for c in r.setup_changes],
        waiting=reports[-1].waiting,
        error=reports[-1].error,
    )
    if total.error is None:
        log.info("%s", total.summary())
    elif total.outcome == "auth":
        log.error("TOKEN REFUSED: %s", total.error)
    else:
        log.error("sync failed: %s (%s)", total.error, total.summary())
    return exit_code(reports)


# -- the daemon ------------------------------------------------------------------------------
class Daemon:
    """Pass after pass until stopped; see the module docstring for the waiting rules."""

    def __init__(
        self,
        syncer: Syncer,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        retry: RetryPolicy = DAEMON_RETRY,
        auth_recheck: float = DEFAULT_AUTH_RECHECK,
        token_file: Path | None = None,
        notifier: Notifier | None = None,
        stop: threading.Event | None = None,
        rand: Callable[[], float] = random.random,
        wait_slice: float = 5.0,
    ) -> None:
        self.syncer = syncer
        self.poll_interval = poll_interval
        self.retry = retry
        self.auth_recheck = auth_recheck
        self.token_file = token_file
        self.notifier = notifier or Notifier(env={})
        self.stop = stop or threading.Event()
        self.rand = rand
        self.wait_slice = wait_slice  # how often a wait pings the watchdog, checks the token
        self.state = "starting"
        self.passes = 0
        self._token_stamp = self._stamp()

    def run(self) -> int:
        self.notifier.ready()
        log.info("sync daemon started (%s)", self.syncer.client.endpoint)
        while not self.stop.is_set():
            self.notifier.watchdog_ping()
            delay = self.step()
            self.wait(delay)
        self.notifier.stopping()
        log.info("sync daemon stopped")
        return EXIT_OK

    def step(self) -> float:
        """One pass; returns how long to wait before the next."""
        try:
            report = self.syncer.run_pass()
            outcome: str = report.outcome
        except Exception as exc:  # e.g. the store's disk: log, back off, keep going
            log.exception("sync pass failed unexpectedly: %s", exc)
            report, outcome = PassReport(), "internal"
        self.passes += 1
        previous, self.state = self.state, outcome
        if outcome == "ok":
            self.retry = self.retry.reset()
            if previous not in ("ok", "starting"):
                log.info("sync working again: %s", report.summary())
            elif report.sent or report.rejected or report.roster_applied:
                log.info("%s", report.summary())
            else:
                log.debug("nothing to send")
            self.notifier.status(f"ok: {report.waiting} waiting")
            return self.poll_interval
        if outcome == "auth":
            log.error(
                "TOKEN REFUSED, sending stopped: %s Checking again in %d min, or as soon as %s "
                "changes.",
                report.error,
                round(self.auth_recheck / 60),
                self.token_file or "the token file",
            )
            self.notifier.status("token refused: sending stopped")
            return self.auth_recheck
        self.retry = self.retry.increment(str(report.error or outcome))
        delay = self.retry.next_delay(self.rand)
        log.warning(
            "%s; %d failure(s) in a row, next try in %.0f s (%d waiting)",
            report.error or "unexpected error",
            self.retry.attempts,
            delay,
            report.waiting,
        )
        self.notifier.status(f"{outcome}: retrying in {delay:.0f} s")
        return delay

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, pinging the watchdog and watching the token file."""
        deadline = time.monotonic() + seconds
        slice_ = self.wait_slice
        if self.notifier.watchdog_period:
            slice_ = min(slice_, self.notifier.watchdog_period / 2)
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.stop.wait(min(left, slice_)):
                return
            self.notifier.watchdog_ping()
            if self._token_changed():
                return

    def _stamp(self) -> tuple[int, int] | None:
        if self.token_file is None:
            return None
        try:
            st = self.token_file.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _token_changed(self) -> bool:
        stamp = self._stamp()
        if stamp == self._token_stamp or self.token_file is None:
            return False
        self._token_stamp = stamp
        try:
            token = read_token(self.token_file)
        except ConfigError as exc:
            log.error("%s", exc)
            return False
        if token != self.syncer.client.token:
            log.info("token file %s changed: using the new token", self.token_file)
            self.syncer.client.token = token
            self.syncer.identity = None
            self.retry = self.retry.reset()
            return True
        return False


# -- the command -----------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_BATCH_EVENTS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_BATCH_EVENTS}")
    return value


def _retention_days(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_RETENTION_DAYS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_RETENTION_DAYS} days")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-sync",
        description="Send this kiosk's recorded events to the central server and pull the "
        "roster (families and cards from the organisation's other kiosks).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, metavar="DIR", help="the kiosk's data folder")
    parser.add_argument(
        "--endpoint",
        required=True,
        metavar="URL",
        help="the central server, e.g. https://central.example.org (https unless loopback)",
    )
    parser.add_argument(
        "--token-file", required=True, metavar="FILE", help="holds this kiosk's device token"
    )
    parser.add_argument("--once", action="store_true", help="one pass, then exit (see below)")
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"events per request (default {DEFAULT_BATCH_SIZE}; halved on HTTP 413)",
    )
    parser.add_argument(
        "--ca-file", metavar="F", help="trust this CA bundle (PEM) for the server's certificate"
    )
    parser.add_argument(
        "--poll-interval",
        type=_positive_float,
        default=DEFAULT_POLL_INTERVAL,
        metavar="S",
        help=f"seconds between passes when all is well (default {DEFAULT_POLL_INTERVAL:.0f})",
    )
    parser.add_argument(
        "--auth-recheck",
        type=_positive_float,
        default=DEFAULT_AUTH_RECHECK,
        metavar="S",
        help="after a refused token, seconds before trying again "
        f"(default {DEFAULT_AUTH_RECHECK:.0f})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"seconds to wait for the server's answer (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--retention-days",
        type=_retention_days,
        default=DEFAULT_RETENTION_DAYS,
        metavar="N",
        help="drop acknowledged events older than N days, once the server says it holds them "
        f"(default {DEFAULT_RETENTION_DAYS}; kiosk.toml [store] retention_days)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every pass")
    return parser


def enrolled_identity(data_dir: Path) -> DeviceIdentity | None:
    """The device and site ``kiosk-admin enrol`` wrote in the data folder (None if not
    enrolled), read again at every pass so an enrolment while the daemon runs takes effect."""
    from kiosk.identity import is_enrolled, load_identity

    if not is_enrolled(data_dir):
        return None
    try:
        return load_identity(data_dir)
    except Exception as exc:  # a damaged identity file: the token check falls back to events
        log.warning("%s", exc)
        return None


def token_file_exposure(path: Path) -> str | None:
    """Why the token file is more open than the appliance lays it out, or None if it is not.

    The installer makes it ``root:kiosk 0640``: the daemon reads it through its group, so group
    read is the design, not a leak. Anything for other users, or group write (someone in the
    group could swap the kiosk's identity), is worth a warning with the command that fixes it.
    """
    mode = path.stat().st_mode
    if mode & 0o007:
        return f"token file {path} can be read by other users: 'chmod 640 {path}'"
    if mode & 0o020:
        return f"token file {path} can be changed by its group: 'chmod 640 {path}'"
    return None


def open_store(data_dir: Path, retention_days: int = DEFAULT_RETENTION_DAYS) -> Any:
    from kiosk.store import LocalStore

    return LocalStore(data_dir, retention_days=retention_days)


def main(argv: Sequence[str] | None = None, store: Any = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    config = SyncConfig(
        data_dir=Path(args.data),
        endpoint=args.endpoint,
        token_file=Path(args.token_file),
        batch_size=args.batch_size,
        ca_file=Path(args.ca_file) if args.ca_file else None,
        poll_interval=args.poll_interval,
        auth_recheck=args.auth_recheck,
        timeout=args.timeout,
        retention_days=args.retention_days,
    )
    try:
        config.check()
        exposed = token_file_exposure(config.token_file)
        if exposed:
            log.warning("%s", exposed)
        client = SyncClient(
            config.endpoint,
            read_token(config.token_file),
            ca_file=config.ca_file,
            timeout=(min(5.0, config.timeout), config.timeout),
        )
    except ConfigError as exc:
        log.error("%s", exc)
        return EXIT_CONFIG
    stop = threading.Event()
    notifier = Notifier(env={}) if args.once else Notifier()
    try:
        store = store if store is not None else open_store(config.data_dir, config.retention_days)
        syncer = Syncer(
            store,
            client,
            batch_size=config.batch_size,
            should_stop=stop.is_set,
            heartbeat=notifier.watchdog_ping,
            enrolment=functools.partial(enrolled_identity, config.data_dir),
            prune_every=PRUNE_EVERY,
        )
        if args.once:
            syncer.setup_interval = 0.0  # one pass brings the server's timetable now
            return run_once(syncer)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        return Daemon(
            syncer,
            poll_interval=config.poll_interval,
            auth_recheck=config.auth_recheck,
            token_file=config.token_file,
            notifier=notifier,
            stop=stop,
        ).run()
    except Exception as exc:
        log.exception("kiosk-sync failed unexpectedly: %s", exc)
        return EXIT_INTERNAL
    finally:
        notifier.close()
        client.close()


if __name__ == "__main__":
    sys.exit(main())
