"""The one check of the central server's URL, for ``kiosk.toml`` and for ``kiosk-sync``.

The device token and families' data travel to that URL, so it must be ``https://`` (plain
``http://`` only to this machine, for testing), and it must not carry credentials of its own
(``https://user:secret@host``: the device token is the credential, and a password in a URL ends
up in logs and ``ps``), a query or a fragment.

    >>> check_endpoint("https://central.example.org/")
    'https://central.example.org'
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class EndpointError(ValueError):
    """The URL cannot be used; the message says why, in plain words."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``127.0.0.1``, ``::1`` ...)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str) -> str:
    """The base URL without a trailing slash; EndpointError when it cannot be used."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.username is not None or parts.password is not None:
        raise EndpointError(
            "must not hold a user name or password (the device token is the credential)"
        )
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointError(f"must be a URL like https://central.example.org, not {text!r}")
    if parts.query or parts.fragment:
        raise EndpointError(f"{text} must not hold a query or a fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise EndpointError(
            f"{text} is plain http: the device token and families' data must travel over "
            "https (plain http is allowed only to this machine, for testing)"
        )
    try:
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        raise EndpointError(f"has a bad port number: {text}") from None
    return text.rstrip("/")
