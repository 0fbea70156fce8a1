"""Which URLs webhooks may call, and the one connection that calls them.

Only http and https, without a user name or password in the URL. Unless
settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS is on (development, tests), every address the host
resolves to must be public: private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback,
link-local (169.254/16, where cloud metadata services answer), shared (100.64/10), reserved,
unspecified and multicast addresses are refused. This is SSRF protection: a tenant must not be
able to make our servers call into our own network.

The check runs when a URL is saved (a field error) and again before every attempt, and the request
then connects to the very address that was checked: a DNS answer that changes in between
(rebinding) cannot move it. Redirects are never followed (a 3xx is a failed attempt, as Standard
Webhooks recommends), so a public URL cannot bounce the request inward either.
"""

import http.client
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_URL_LENGTH = 2000
RESPONSE_EXCERPT_BYTES = 200  # of a failed answer's body, kept in the log to help the receiver
_UNSAFE_TEXT = re.compile(r"[\x00-\x20\x7f]")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The URL may not be called; the message says why, for a field error or the delivery log."""

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA), without brackets
    port: int
    path: str  # path and query, as sent in the request line


def parse(url: str) -> Target:
    if _UNSAFE_TEXT.search(url):
        raise TargetRefused(_("A URL cannot contain spaces or control characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("Enter a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(_("Use an http or https URL."), "scheme")
    if not parts.hostname:
        raise TargetRefused(_("Enter a valid URL."))
    if parts.username is not None or parts.password is not None:
        # They would be stored and shown to every administrator; the signature authenticates us.
        raise TargetRefused(_("Leave user names and passwords out of the URL."), "credentials")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetRefused(_("Enter a valid URL.")) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    # http.client sends the request line as ASCII: percent-encode anything else.
    path = re.sub(r"[^\x21-\x7e]+", lambda match: quote(match.group()), path)
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 carried inside IPv6 is judged as that IPv4 address.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def address_of(target: Target) -> str:
    """The address to connect to: the host's first address, once every one has been checked."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(_("The host name does not resolve."), "unresolvable") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(_("The host name does not resolve."), "unresolvable")
    # All of them, not just the first: the resolver's order is not ours to trust.
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS and not all(map(is_public, addresses)):
        raise TargetRefused(_("This URL points at a private or local network address."), "private_address")
    return addresses[0]


def check(url: str) -> None:
    """Raise TargetRefused unless `url` may be called now."""
    address_of(parse(url))


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST `body` and return the answer's status and the start of its body. Raises
    TargetRefused, OSError (connection, TLS, timeout) or http.client.HTTPException."""
    target = parse(url)
    address = address_of(target)
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    # Connect to the checked address; TLS (SNI, certificate) and the Host header still use the name.
    def connect_to_checked_address(_address, timeout, source_address=None):
        return socket.create_connection((address, target.port), timeout, source_address)

    connection._create_connection = connect_to_checked_address
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_EXCERPT_BYTES).decode("utf-8", "replace")
        return response.status, excerpt
    finally:
        connection.close()
