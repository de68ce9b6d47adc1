"""Where credentials may be typed: the portal's host, Cisco's sign-on hosts and configured ones."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from pages.errors import CredentialHostRefused

# Cisco.com sign-on (Okta behind id.cisco.com; sso and cloudsso are its earlier hosts). Not
# *.okta.com: anyone can open an Okta tenant there, so it would let a phishing page through.
DEFAULT_SIGN_ON_HOSTS = ("id.cisco.com", "sso.cisco.com", "cloudsso.cisco.com")
ALLOWED_HOSTS_VARIABLE = "CCW_ALLOWED_HOSTS"

_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def parse_host_patterns(text: str) -> tuple[str, ...]:
    """Host names, IP addresses or `*.domain` wildcards, separated by commas or spaces.

    Raises ValueError naming the first entry that is none of those (a URL, a port), or a
    wildcard over a public suffix (`*.com`, `*.co.uk`, `*.github.io`), where anyone may own a
    name.
    """
    patterns: list[str] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if entry:
            patterns.append(_pattern(entry))
    return tuple(dict.fromkeys(patterns))


def _pattern(entry: str) -> str:
    host = entry.lower().rstrip(".")
    if "/" in host:
        raise ValueError(f"{entry!r}: give a host name, not a URL")
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if ":" in host:
        raise ValueError(f"{entry!r}: give the host without a port")
    wildcard = host.startswith("*.")
    name = host.removeprefix("*.")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{entry!r} is not a host name") from None
    if not _HOSTNAME.fullmatch(name):
        raise ValueError(f"{entry!r} is not a host name or a *.domain wildcard")
    if wildcard and ("." not in name or _public_suffixes().is_public(name)):
        raise ValueError(
            f"{entry!r} is too wide: {name} is a public suffix, under which anyone can register "
            "a name; give your own domain, such as *.example.com"
        )
    return f"*.{name}" if wildcard else name


@cache
def _public_suffixes() -> PublicSuffixList:
    # The list the package ships (ICANN and private sections): read from disk, never fetched.
    return PublicSuffixList()


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: this machine, where plain http exposes nothing."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class CredentialHosts:
    """The hosts whose pages may receive the email, password and one-time code.

    `check(url)` runs immediately before each value is typed: a page elsewhere, or on plain http
    anywhere but this machine, gets nothing.
    """

    patterns: tuple[str, ...]

    @classmethod
    def for_portal(cls, base_url: str, extra: Iterable[str] = ()) -> CredentialHosts:
        """The portal's own host, Cisco's sign-on hosts and the configured extra ones."""
        portal = urlsplit(base_url).hostname or ""
        hosts = (portal, *DEFAULT_SIGN_ON_HOSTS, *extra)
        return cls(tuple(dict.fromkeys(host for host in hosts if host)))

    def allows(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if not host:
            return False
        try:
            host = str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            pass
        return any(
            host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
            for pattern in self.patterns
        )

    def check(self, url: str) -> None:
        """Raise CredentialHostRefused unless credentials may be typed on the page at `url`."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not host:
            raise CredentialHostRefused(
                f"credentials not typed: the sign-on form is not on a web page ({parts.scheme}:)"
            )
        if not self.allows(host):
            raise CredentialHostRefused(
                f"credentials not typed: the sign-on page is on {host}, which is not an allowed "
                f"sign-on host ({', '.join(self.patterns)}). If {host} is your company's "
                f"sign-on, add it to {ALLOWED_HOSTS_VARIABLE}."
            )
        if parts.scheme != "https" and not is_loopback(host):
            raise CredentialHostRefused(
                f"credentials not typed: the sign-on page on {host} is plain http; credentials "
                "are typed only over https (or on this machine)."
            )
