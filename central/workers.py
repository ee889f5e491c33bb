"""Several server processes: ``kiosk-central --db postgresql://... serve --workers 4``.

One Python process uses one CPU core at a time, so on a server with several cores more
processes answer more kiosks at once. :func:`serve_processes` starts ``--workers`` processes,
each a uvicorn server over its own app and pool of database connections (:func:`_worker`). The
parent (``kiosk-central serve``) has already checked the database and read central.toml; it
hands each worker what it needs (:class:`WorkerApp`) through multiprocessing, not the
environment, so the database password and the metrics secret are not in ``/proc/PID/environ``.

Each worker listens on the port with a socket of its own (``SO_REUSEPORT``), so the kernel
deals new connections out between them evenly. uvicorn's own ``workers=N`` shares one socket
instead, and each worker's event loop accepts every connection waiting when it wakes: 300
kiosks connecting at once all went to one process (``bench/load.py`` showed 60 of 60 batches
on one of two), and as a kiosk keeps its connection, the other processes sat idle.

What makes several processes safe is that no process keeps anything the others need. Every
piece of state was checked for this:

- dashboard sessions: a random id in the cookie, its SHA-256 in ``web_sessions``;
  logging out deletes the row, so the cookie stops working in every process at once;
- login throttling: failures are rows in ``login_failures``, counted by every process;
- CSRF: an ``Origin``/``Referer`` check against the request itself, no token, no secret;
- device tokens, user passwords: hashes in the database; nothing is signed with a key. The one
  secret, central.toml's (the bearer token for ``/metrics``), comes from the shared file, and
  nothing is generated at start-up except per-process caches of what is derived from files
  (templates, the SQLite file check);
- writes for one organisation (a kiosk's batch, write-offs, erasure, retention, risk lists) and
  the audit log's chain are serialised by a lock in the database (PostgreSQL: a transaction
  advisory lock, taken by ``CentralDB.writing(org)`` and ``writing_shared("audit_log")``), so
  the roster cursor (the events' row id) grows in commit order across processes too: a writer
  takes its ids only once the one before it has committed, so a kiosk that has read cursor N
  can never later miss a row below N;
- the epoch and the schema version: rows, created and migrated under the ``schema`` lock.

Several processes are refused on SQLite (:func:`refusal`): SQLite lets one process write at a
time, so more processes add waiting on its file lock, not capacity, and a writer that waits
past the busy timeout fails its kiosk's batch. PostgreSQL is what several processes are for.
They are also refused without central.toml's ``[server] secret``: what the
processes share is written down in the file they all read, never made up by each.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import make_url

from central.db import CentralDB, normalise_url

#: Each line says which process wrote it, so one can see the workers share the load.
LOG_FORMAT = "%(levelname)s %(name)s [pid %(process)d]: %(message)s"
#: Seconds a worker is given to finish its requests after SIGTERM before it is killed.
STOP_SECONDS = 30

log = logging.getLogger("central.workers")


def refusal(url: str, workers: int, secret: str | None = None) -> str | None:
    """Why ``serve --workers`` must not start with this database and central.toml's
    ``secret`` (None when the file, or the one ``$KIOSK_CENTRAL_CONFIG`` names, sets none),
    or None if it may.

    Several processes need PostgreSQL, and the one secret they share written down in
    central.toml: nothing may be made up per process at start-up, where each
    worker would have a different one, so a deployment of several processes says its secret.
    """
    if workers < 1:
        return f"--workers {workers}: give 1 or more"
    if workers == 1:
        return None
    backend = make_url(normalise_url(url)).get_backend_name()
    if backend != "postgresql":
        return (
            f"--workers {workers} needs PostgreSQL (--db postgresql://...): SQLite lets one "
            "process write at a time, so more processes only wait on each other. Serve this "
            "database with --workers 1, or move to PostgreSQL."
        )
    if not secret:
        return (
            f"--workers {workers} needs the secret every process shares: set [server] secret "
            "in central.toml (--config FILE, or $KIOSK_CENTRAL_CONFIG), e.g. the output of "
            "'openssl rand -hex 32', or serve with --workers 1."
        )
    return None


@dataclass(frozen=True)
class WorkerApp:
    """What each worker process builds its app from (``serve``'s settings)."""

    db_url: str
    log_level: str
    metrics_secret: str | None = None


def serve_processes(
    workers: int, sock: socket.socket, app: WorkerApp, options: dict[str, Any]
) -> int:
    """Run ``workers`` server processes on the address ``sock`` holds (:func:`hold_port`)
    until SIGTERM or SIGINT, then stop them all. ``options`` are ``uvicorn.Config``'s (TLS,
    log level, proxies).

    If a worker ends on its own (it could not listen, or crashed), the others are stopped
    too and 1 is returned: under systemd (``Restart=on-failure``) the whole service starts
    again, rather than running on with fewer processes than it was asked for.
    """
    host, port = sock.getsockname()[:2]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_worker, args=(host, port, app, options), name=f"worker-{n + 1}")
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    log.info("%d server processes: %s", workers, ", ".join(str(p.pid) for p in processes))
    status = 0
    while not stop.wait(0.5):
        ended = [p for p in processes if not p.is_alive()]
        if ended:
            log.error(
                "server process %s ended (exit status %s): stopping the others",
                ended[0].pid,
                ended[0].exitcode,
            )
            status = 1
            break
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn finishes the requests it has, then exits
    for process in processes:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
    return status


def hold_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: the system picks one) that keeps the port for
    the workers while they run. It never listens, so it is given no connections; each worker
    listens on a socket of its own on the same port (``SO_REUSEPORT``).

    A port something already listens on is refused: with ``SO_REUSEPORT`` another server of
    the same user could otherwise share it, and take some of the kiosks' connections.
    """
    from central.db import CentralError

    if port:
        with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise CentralError(
                    f"cannot listen on {host}:{port}: {exc.strerror} (is another server "
                    "running? choose another --port)"
                ) from None
    sock = _reuse_port_socket(host)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CentralError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _reuse_port_socket(host: str) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def _worker(host: str, port: int, app: WorkerApp, options: dict[str, Any]) -> None:
    """One server process: its own listening socket on the shared port, its own app and
    database pool (the parent has migrated the database)."""
    import uvicorn

    from central.app import create_app
    from central.process_tuning import REQUEST_THREADS, calm_collector

    logging.basicConfig(level=app.log_level.upper(), format=LOG_FORMAT)
    sock = _reuse_port_socket(host)
    sock.bind((host, port))
    db = CentralDB.open(app.db_url, migrate=False)
    served = create_app(
        db,
        on_shutdown=db.close,
        metrics_secret=app.metrics_secret,
        request_threads=REQUEST_THREADS,
    )
    calm_collector()
    config = uvicorn.Config(served, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])
