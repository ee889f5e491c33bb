"""A small fault-injecting HTTP proxy for the sync tests: sits between the daemon and a real
central server on loopback and misbehaves on request.

    proxy = FaultProxy(upstream_port)
    proxy.inject("drop", times=1)     # forward the next POST, let the server commit, then cut
                                      # the client's connection before it sees the answer
    proxy.inject("http500", times=2)  # answer the next two POSTs 500 without forwarding
    slow = proxy.inject("slow", times=1, delay=3.0)  # forward, then hold the answer for 3 s
    slow.answered.wait(30)            # ...the server has answered (so committed) that request
    slow.release.set()                # ...let the held answer go now
    proxy.inject("reset", times=1)    # cut the connection without forwarding
    proxy.inject("hold", skip=2)      # let two POSTs through, then hold the third unforwarded
    proxy.inject("mark")              # forward and answer as usual; only mark when it is done
    fault.struck.wait(30)             # ...the fault has done its thing (a kill can follow)

It understands just enough HTTP/1.1 (Content-Length bodies, keep-alive) for requests and
uvicorn. ``log`` records (method, path, fault) for every request seen. A held answer is let go
when its fault's ``release`` is set or the proxy closes.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Fault:
    mode: str
    times: int
    method: str | None
    delay: float
    skip: int = 0  # matching requests to let through untouched first
    struck: threading.Event = field(default_factory=threading.Event)  # the fault has acted
    answered: threading.Event = field(default_factory=threading.Event)  # the server answered
    release: threading.Event = field(default_factory=threading.Event)  # let a held answer go


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._faults: deque[_Fault] = deque()
        self._injected: list[_Fault] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._conns: set[socket.socket] = set()
        self.log: list[tuple[str, str, str | None]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def inject(
        self,
        mode: str,
        times: int = 1,
        method: str | None = "POST",
        delay: float = 0.0,
        skip: int = 0,
    ) -> _Fault:
        """Misbehave on the next ``times`` requests (after letting ``skip`` through). The fault's
        ``answered`` event is set once the server has answered one of them (for "drop" and
        "slow": it has committed), ``struck`` once the fault has acted: a request held, an answer
        held or passed on, a connection cut."""
        assert mode in ("drop", "http500", "slow", "reset", "hold", "mark")
        fault = _Fault(mode, times, method, delay, skip)
        with self._lock:
            self._faults.append(fault)
            self._injected.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults_applied(self, mode: str | None = None) -> int:
        return sum(1 for _m, _p, f in self.log if f and (mode is None or f == mode))

    def close(self) -> None:
        self._closed.set()
        for fault in self._injected:
            fault.release.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------
    def _take(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in (None, method):
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._conns.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        cbuf, ubuf = b"", b""
        try:
            while not self._closed.is_set():
                request, cbuf = _read_message(client, cbuf)
                if request is None:
                    return
                method, path = request.split(b" ", 2)[:2]
                fault = self._take(method.decode())
                self.log.append((method.decode(), path.decode(), fault.mode if fault else None))
                if fault and fault.mode == "reset":
                    _reset(client)
                    fault.struck.set()
                    return
                if fault and fault.mode == "hold":
                    fault.struck.set()
                    fault.release.wait(fault.delay or None)
                    _reset(client)
                    return
                if fault and fault.mode == "http500":
                    body = b'{"detail":"injected failure"}'
                    client.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json"
                        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                    )
                    fault.struck.set()
                    continue
                if upstream is None:
                    try:
                        upstream = socket.create_connection(self.upstream, timeout=60)
                    except OSError:
                        _reset(client)  # the server is down: so are we
                        return
                upstream.sendall(request)
                response, ubuf = _read_message(upstream, ubuf, response=True)
                if response is None:
                    _reset(client)
                    return
                if fault:
                    fault.answered.set()
                if fault and fault.mode == "drop":
                    _reset(client)  # the server has answered (so committed); the client never knows
                    fault.struck.set()
                    return
                # Late answers are network latency the proxy plays, not a test's wait; closing
                # the proxy lets them go.
                if fault and fault.mode == "slow":
                    fault.struck.set()
                    fault.release.wait(fault.delay)
                client.sendall(response)
                if fault and fault.mode == "mark":
                    fault.struck.set()
        except OSError:
            return
        finally:
            self._conns.discard(client)
            with contextlib.suppress(OSError):
                client.close()
            if upstream is not None:
                with contextlib.suppress(OSError):
                    upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a crashed peer or a dropped mobile link looks."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def _read_message(
    sock: socket.socket, buf: bytes, response: bool = False
) -> tuple[bytes | None, bytes]:
    """One HTTP/1.1 message (head + Content-Length body) and what was read past it."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if response and head.split(b" ", 2)[1] in (b"204", b"304"):
        length = 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]
