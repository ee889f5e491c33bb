"""How one server process spends its CPU under load: few request threads and a calmer collector.

Every sync request runs in a thread (FastAPI's ``def`` routes), and nearly all of its work is
Python holding the one interpreter lock: checking events, building rows, encoding answers.
anyio's default of 40 threads bought no parallelism for that work, only contention: 40 threads
taking the lock in turn, and 40 requests' bodies and models alive at once. 8 leaves room
for a slow page (a PDF, a chart) without stalling the kiosks, and is under the database pool
(20), so no request waits for a database connection.

The garbage collector is the other half. Its youngest generation is collected every 700
allocations by default, and each batch makes tens of thousands (parsed JSON, one model per
event, rows), so it ran all the time, and its older generations re-walked every object the
app keeps for its whole life (modules, routes, compiled SQL). :func:`calm_collector` moves
what exists at start-up out of its sight (``gc.freeze``) and collects the young generation
less often. Reference counting still frees almost everything at once; the collector is only
for cycles, which a request rarely makes.

Measured with ``bench/load.py`` (300 kiosks at once, one process, PostgreSQL, two cores, same
machine and hour): the two together took the server's CPU for the run from 22-30 s to 13-15 s
and the batch answer's p99 from 7-10 s to 4.5-5.8 s; each alone gave about half of that, and
4 threads did no better than 8.
"""

from __future__ import annotations

import gc

import anyio.to_thread

#: Threads answering requests in one server process (anyio's default is 40).
REQUEST_THREADS = 8

#: ``gc.set_threshold``: the young generation after this many allocations (Python's: 700),
#: the older ones after this many collections of the one before (Python's: 10 and 10).
COLLECTOR_THRESHOLDS = (50_000, 20, 20)


def limit_request_threads(threads: int = REQUEST_THREADS) -> None:
    """Run at most ``threads`` requests at once in this event loop's worker threads.

    Must run inside the running event loop (the app's lifespan): the limiter is the loop's.
    """
    if threads < 1:
        raise ValueError(f"request threads must be at least 1, not {threads}")
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def calm_collector() -> None:
    """Freeze what exists now (the loaded app) and collect young objects less often.

    For a serving process only, once its app is built: tests and commands keep Python's
    defaults.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
