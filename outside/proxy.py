"""Trusted proxies: the client's address and scheme from forwarding headers.

Behind a reverse proxy every connection comes from the proxy, which reports the real
client in ``X-Forwarded-For`` / ``X-Forwarded-Proto`` or in ``Forwarded`` (RFC 7239).
Anyone can send those headers, so they are believed only when the connection comes
from an address listed in ``config["forwarded_allow_ips"]``:

- ``[]`` (the default): never; ``request.address`` is the peer.
- a list of addresses and networks, ``["127.0.0.1", "10.0.0.0/8", "::1"]`` (a string
  with commas works too): the proxies you run.
- ``"*"``: every peer, only when nothing but the proxy can reach the server.

From a trusted peer, the hops of ``X-Forwarded-For`` are read right to left (each proxy
appends the address it received the request from) and the first one that is not a
trusted proxy is the client: values a client wrote itself, further left, are ignored.
The port reads 0 unless the hop gives one (``192.0.2.1:4711``, ``[2001:db8::1]:4711``).
``X-Forwarded-Proto`` (``http``/``https``) sets ``request.scheme``.
``Forwarded`` is read the same way, but only when there is no ``X-Forwarded-For``: make
your proxy set (not pass through) the header family it uses. A trusted peer's
``X-Request-ID`` becomes ``request.id`` (see ``outside/request_id.py``).
"""
from __future__ import annotations

import ipaddress
from typing import Any, List, Optional, Sequence, Tuple, Union

from .request_id import trusted_id

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
_SCHEMES = ("http", "https")


class ProxyConfigError(ValueError):
    """``forwarded_allow_ips`` holds something that is not an address or network."""


class TrustedProxies:
    """The peers whose forwarding headers are believed (see the module docstring)."""

    def __init__(self, allow: Union[str, Sequence[str], None]) -> None:
        self.allow_all = False
        self.networks: List[Network] = []
        entries = allow.split(",") if isinstance(allow, str) else list(allow or ())
        for entry in entries:
            text = str(entry).strip()
            if text == "*":
                self.allow_all = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ProxyConfigError(
                    f"forwarded_allow_ips: {text!r} is not an IP address or network; "
                    f"use e.g. [\"127.0.0.1\", \"10.0.0.0/8\"] or \"*\"") from None

    def __bool__(self) -> bool:
        return self.allow_all or bool(self.networks)

    def trusts(self, host: str) -> bool:
        """Whether ``host`` (an address as text) is a trusted proxy."""
        if self.allow_all:
            return True
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])  # IPv6 zone ids
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def apply(self, request: Any) -> None:
        """Set ``request.address`` and ``request.scheme`` from its forwarding headers
        when its peer is trusted; leave them alone otherwise."""
        address = request.address
        if not address or not self.trusts(str(address[0])):
            return
        headers = request.headers
        request_id = trusted_id(headers)
        if request_id is not None:
            request.__dict__["_request_id"] = request_id
        forwarded_for = headers.get("X-Forwarded-For")
        if forwarded_for is not None:
            hops = [_host_and_port(hop.strip()) for hop in forwarded_for.split(",")]
            schemes = [scheme.strip().lower() for scheme in headers.get("X-Forwarded-Proto", "").split(",")]
        elif "Forwarded" in headers:
            hops, schemes = _parse_forwarded(headers["Forwarded"])
        else:
            return
        index = self._client_index(hops)
        if index is None:
            return
        request.address = hops[index]
        scheme = _scheme_for(schemes, index, len(hops))
        if scheme is not None:
            request.scheme = scheme

    def _client_index(self, hops: List[Tuple[str, int]]) -> Optional[int]:
        """The right-most hop that is not a trusted proxy (the left-most if all are)."""
        for index in range(len(hops) - 1, -1, -1):
            host = hops[index][0]
            if not host:
                return None  # an empty hop: the header is malformed, believe none of it
            if not self.trusts(host):
                return index
        return 0 if hops else None


def _scheme_for(schemes: List[str], index: int, hop_count: int) -> Optional[str]:
    """The scheme reported with the client's hop: the entry at its position when there
    is one per hop, else the last one (written by the proxy nearest to us)."""
    schemes = [scheme for scheme in schemes if scheme]
    if not schemes:
        return None
    scheme = schemes[index] if len(schemes) == hop_count else schemes[-1]
    return scheme if scheme in _SCHEMES else None


def _parse_forwarded(value: str) -> Tuple[List[Tuple[str, int]], List[str]]:
    """The ``for`` hops and ``proto`` values of a ``Forwarded`` header, one per element."""
    hops, schemes = [], []
    for element in value.split(","):
        pairs = {}
        for pair in element.split(";"):
            name, _, text = pair.partition("=")
            pairs[name.strip().lower()] = text.strip().strip('"')
        hops.append(_host_and_port(pairs.get("for", "")))
        schemes.append(pairs.get("proto", "").lower())
    return hops, schemes


def _host_and_port(node: str) -> Tuple[str, int]:
    """``192.0.2.1:4711``, ``[2001:db8::1]:4711``, ``unknown``... as (host, port)."""
    if node.startswith("["):
        host, _, rest = node[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif node.count(":") == 1:
        host, port = node.split(":")
    else:
        host, port = node, ""
    return host, int(port) if port.isdigit() and port.isascii() else 0
