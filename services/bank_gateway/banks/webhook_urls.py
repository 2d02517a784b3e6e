"""A bank's webhook URL is somewhere the gateway will POST to: hostile until checked.

At registration: https (plain http only where private addresses are allowed — development,
tests), no user:password, and a host that is not a private, loopback, link-local,
multicast, reserved or unspecified address in any spelling (``2130706433``, ``0x7f.1``,
``[::1]``) nor ``localhost``. Before each delivery: the host resolved, and every address it
resolves to checked the same way (a public name pointing at 127.0.0.1 is refused), so a
URL that was public when registered cannot be turned inward later by its DNS — and the
connection goes to the address checked (:func:`pinned`), not to a second lookup. Pure but
for the resolver.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _inward(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _literal(host: str) -> Address | None:
    """The address a host name spells, in any form a resolver would accept (dotted,
    integer, hex, octal, short dotted), or None for a real name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why the gateway must not call ``url``; None if it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not allow_private):
        return "回调地址须为 https 地址"
    if parts.username is not None or parts.password is not None:
        return "回调地址不能包含用户名或密码"
    host = (parts.hostname or "").lower()
    if not host:
        return "回调地址缺少主机名"
    if allow_private:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"回调地址 {host} 指向本机或内网"
    address = _literal(host)
    if address is not None and _inward(address):
        return f"回调地址 {host} 是内网、本机或保留地址"
    return None


@dataclass(frozen=True)
class Pinned:
    """Where to connect: the checked address itself, with the name kept for the Host
    header and for TLS (SNI and the certificate check), so DNS cannot answer differently
    between the check and the connection (DNS rebinding)."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, str]


async def resolved_problem(url: str, *, allow_private: bool) -> str | None:
    """``url_problem``, then every address its host resolves to checked (not read: the
    delivery is refused before any connection)."""
    problem, _ = await pinned(url, allow_private=allow_private)
    return problem


async def pinned(url: str, *, allow_private: bool) -> tuple[str | None, Pinned | None]:
    """(why not, None) or (None, where to connect). Where private addresses are allowed
    (development, tests) the URL is called as it is."""
    problem = url_problem(url, allow_private=allow_private)
    if problem is not None:
        return problem, None
    if allow_private:
        return None, Pinned(url, {}, {})
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        return "回调地址的主机名无法解析", None
    addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
    if not addresses or any(_inward(a) for a in addresses):
        return f"回调地址 {host} 解析到内网、本机或保留地址", None
    first = addresses[0]
    literal = f"[{first}]" if first.version == 6 else str(first)
    netloc = literal + (f":{parts.port}" if parts.port else "")
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    host_header = host + (f":{parts.port}" if parts.port else "")
    return None, Pinned(target, {"Host": host_header}, {"sni_hostname": host})
