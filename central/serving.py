"""How ``kiosk-central serve`` listens: its settings from the command line over central.toml,
the listening socket, and the line that says where it listens.

The socket is bound here, before uvicorn starts, so the line printed is the truth: the address
is bound (a port in use fails before anything is printed), and ``--port 0`` prints the port the
system chose (tests use it; so can a script).
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
from dataclasses import dataclass

from central.config import CentralConfig
from central.db import CentralError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700


@dataclass(frozen=True)
class ServeSettings:
    """Where and how to listen, every value decided."""

    host: str
    port: int
    forwarded_allow_ips: str | None
    ssl_certfile: str | None
    ssl_keyfile: str | None
    secret: str | None


def serve_settings(args: argparse.Namespace, config: CentralConfig) -> ServeSettings:
    """``serve``'s options, each from the command line if given, else central.toml, else the
    default."""
    cert = args.ssl_certfile or (str(config.tls_certfile) if config.tls_certfile else None)
    key = args.ssl_keyfile or (str(config.tls_keyfile) if config.tls_keyfile else None)
    if args.ssl_certfile or args.ssl_keyfile:  # the command line gives the pair, or nothing
        cert, key = args.ssl_certfile, args.ssl_keyfile
    if bool(cert) != bool(key):
        raise CentralError("give both --ssl-certfile and --ssl-keyfile, or neither")
    return ServeSettings(
        host=args.host or config.host or DEFAULT_HOST,
        port=args.port if args.port is not None else (config.port or DEFAULT_PORT),
        forwarded_allow_ips=args.forwarded_allow_ips or config.trusted_proxies,
        ssl_certfile=cert,
        ssl_keyfile=key,
        secret=config.secret or None,
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: the system picks one), made as
    uvicorn makes its own (IPv6 when the host has a colon), so ``--host`` means what it did."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except socket.gaierror as exc:
        sock.close()
        raise CentralError(f"cannot listen on {host!r}: {exc.strerror}") from None
    except OSError as exc:
        sock.close()
        raise CentralError(
            f"cannot listen on {host}:{port}: {exc.strerror} (is another server running? "
            "choose another --port)"
        ) from None
    sock.set_inheritable(True)
    return sock


def base_url(host: str, port: int, tls: bool) -> str:
    """``http://127.0.0.1:8700/``; an IPv6 address in brackets."""
    try:
        shown = f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        shown = host  # a name
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def listening_line(sock: socket.socket, host: str, tls: bool) -> str:
    """What ``serve`` prints once it listens."""
    url = base_url(host, sock.getsockname()[1], tls)
    return f"kiosk-central: listening on {url} (dashboard: {url}dashboard)"
