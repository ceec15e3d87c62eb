"""HTTP (and local-file) fetching with the limits a polite, safe crawler needs.

- conditional GET with ETag / Last-Modified (RFC 9110 §13.1), 304 -> ``not_modified``;
- a time limit, a byte cap enforced while streaming (a huge page never lands in memory),
  a redirect limit, a descriptive User-Agent;
- per-host politeness: at most one request per ``per_host_delay_seconds`` per host;
- ONE fetch policy for every URL fetched on anyone's behalf (feeds, their item links, pages,
  redirects, ``/addsource``, ``/summary``; issue 8 row 5): only http(s), no credentials in
  the URL, and every address the host resolves to, on every redirect hop, must be public.
  The connection is pinned to the checked address (Host header and TLS SNI keep the name),
  so a DNS answer that changes between check and connect (rebinding) cannot reach an
  internal address. Numeric hosts in any spelling (``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``)
  are resolved and judged like names. Only a source the operator configured with
  ``allow_private: true`` may reach loopback, private and link-local addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

import httpx

from briefing.config import IngestConfig
from briefing.errors import (BlockedURLError, FetchError, FetchTimeout, HTTPStatusError, TooLargeError,
                             TooManyRedirects)

Resolver = Callable[[str, int], list[str]]
IPPolicy = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    return sorted({info[4][0] for info in infos})


def _split(url: str) -> SplitResult:
    """urlsplit, but a malformed URL (from a feed, a redirect or a user) is a refusal, not a crash."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
        return parts
    except ValueError:
        raise BlockedURLError(f"{url}: not a valid URL") from None


def _no_credentials(url: str, parts: SplitResult) -> None:
    """A URL with user:password@ is refused: we never send credentials found in a link, and
    ``http://public.example@127.0.0.1/`` is a classic way to disguise the real host."""
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BlockedURLError(f"{url}: URLs with credentials (user@host) are not fetched")


def is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that embeds an IPv4 one (mapped ::ffff:a.b.c.d, 6to4 2002:AABB:CCDD::,
        # Teredo) reaches that IPv4 address: judge the embedded one too (RFC 4291, 3056, 4380).
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            if ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            elif not is_public_ip(embedded):
                return False
    if ip in _METADATA:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_reserved or ip.is_unspecified)


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Fetcher:
    """Fetches URLs and configured local files. One per process; thread-safe."""

    def __init__(self, cfg: IngestConfig, *, transport: httpx.BaseTransport | None = None,
                 resolver: Resolver = system_resolver, ip_allowed: IPPolicy = is_public_ip,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cfg = cfg
        self._resolver = resolver
        self._ip_allowed = ip_allowed
        self._clock, self._sleep = clock, sleep
        self._client = httpx.Client(
            transport=transport, follow_redirects=False,
            timeout=httpx.Timeout(cfg.timeout_seconds),
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._last_hit: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public ------------------------------------------------------------

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              allow_private: bool = False, allow_files: bool = False) -> FetchResult:
        """Fetch ``url`` under the fetch policy (module docstring).

        ``allow_private`` lifts the public-address rule (a source configured with
        ``allow_private: true``); ``allow_files`` permits file:// URLs (configured local sources).
        """
        parts = _split(url)
        scheme = parts.scheme.lower()
        if scheme == "file" or (not scheme and allow_files):
            if not allow_files:
                raise BlockedURLError(f"{url}: local files are not allowed here")
            return self._read_file(url)
        if scheme not in ("http", "https"):
            raise BlockedURLError(f"{url}: only http and https links can be fetched")
        _no_credentials(url, parts)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(self.cfg.max_redirects + 1):
            response = self._request(current, headers, allow_private)
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                current = urljoin(current, response.headers["location"])
                hop = _split(current)
                if hop.scheme.lower() not in ("http", "https"):
                    raise BlockedURLError(f"{url}: redirected to a non-http(s) URL")
                _no_credentials(current, hop)
                continue
            return self._finish(current, response)
        raise TooManyRedirects(f"{url}: more than {self.cfg.max_redirects} redirects")

    # -- internals ---------------------------------------------------------

    def _polite_wait(self, host: str) -> None:
        delay = self.cfg.per_host_delay_seconds
        with self._lock:
            now = self._clock()
            last = self._last_hit.get(host)
            wait = 0.0 if last is None else max(0.0, last + delay - now)
            self._last_hit[host] = now + wait
        if wait:
            self._sleep(wait)

    def _pin(self, url: str, allow_private: bool) -> tuple[str, dict[str, str], dict[str, str]]:
        """Check the host's addresses and return a URL that connects to a checked one."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host:
            raise BlockedURLError(f"{url}: no host in URL")
        port = parts.port or (443 if parts.scheme == "https" else 80)  # valid: checked by _split
        addresses = self._resolver(host, port)
        if not addresses:
            raise FetchError(f"cannot resolve host {host!r}")
        for addr in addresses:
            ip = ipaddress.ip_address(addr.split("%")[0])
            if not allow_private and not self._ip_allowed(ip):
                raise BlockedURLError(f"{url}: {host} resolves to a non-public address ({ip})")
        ip_text = addresses[0]
        netloc_host = f"[{ip_text}]" if ":" in ip_text else ip_text
        pinned = urlunsplit((parts.scheme, f"{netloc_host}:{port}", parts.path or "/", parts.query, ""))
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return pinned, {"Host": host_header}, extensions

    def _request(self, url: str, headers: dict[str, str], allow_private: bool) -> httpx.Response:
        host = _split(url).hostname or ""
        target, extra, extensions = self._pin(url, allow_private)
        self._polite_wait(host)
        try:
            request = self._client.build_request("GET", target, headers={**headers, **extra},
                                                 extensions=extensions)
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise FetchTimeout(f"{url}: no answer within {self.cfg.timeout_seconds:g} s") from None
        except httpx.InvalidURL as exc:
            raise BlockedURLError(f"{url}: not a valid URL ({exc})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        try:
            body = self._read_capped(response, url)
        finally:
            response.close()
        response._content = body  # noqa: SLF001 - body already read under the cap
        return response

    def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        cap = self.cfg.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise TooLargeError(f"{url}: response is {int(declared):,} bytes, over the {cap:,}-byte cap")
        chunks: list[bytes] = []
        total = 0
        # httpx's timeout applies to each read, so a server dripping one byte at a time could
        # hold us forever: the time limit is also enforced on the whole body.
        deadline = time.monotonic() + self.cfg.timeout_seconds
        try:
            for chunk in response.iter_bytes():
                if time.monotonic() > deadline:
                    raise FetchTimeout(f"{url}: body not received within {self.cfg.timeout_seconds:g} s")
                total += len(chunk)
                if total > cap:
                    raise TooLargeError(f"{url}: response exceeds the {cap:,}-byte cap")
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise FetchTimeout(f"{url}: body not received within {self.cfg.timeout_seconds:g} s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        return b"".join(chunks)

    def _finish(self, url: str, response: httpx.Response) -> FetchResult:
        status = response.status_code
        headers = {k.lower(): v for k, v in response.headers.items()}
        if status == 304:
            return FetchResult(url=url, status=304, content=b"", headers=headers)
        if status >= 400:
            retry_after = headers.get("retry-after", "")
            raise HTTPStatusError(f"{url}: HTTP {status} {response.reason_phrase}".rstrip(), status,
                                  float(retry_after) if retry_after.isdigit() else None)
        return FetchResult(url=url, status=status, content=response.content, headers=headers)

    def _read_file(self, url: str) -> FetchResult:
        path = Path(unquote(urlsplit(url).path)) if url.startswith("file:") else Path(url)
        try:
            size = path.stat().st_size
            if size > self.cfg.max_bytes:
                raise TooLargeError(f"{path}: file is {size:,} bytes, over the {self.cfg.max_bytes:,}-byte cap")
            data = path.read_bytes()
        except FileNotFoundError:
            raise FetchError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise FetchError(f"{path}: is a directory") from None
        except PermissionError as exc:
            raise FetchError(f"{path}: {exc.strerror}") from None
        return FetchResult(url=path.resolve().as_uri(), status=200, content=data)
