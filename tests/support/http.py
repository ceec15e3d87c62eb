"""The one HTTP server harness for tests: a real threaded server on a loopback address, routes
with canned or computed responses, every request and connection recorded; and ``free_port``."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (for a server the code under test starts, or a dead peer)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# Test DNS for the fetcher's ``resolver``: names standing for a public site (news.test, served by a
# LocalHTTPServer on 127.0.0.1) and for internal addresses that must stay refused.
NAMES = {"news.test": "127.0.0.1", "intranet.test": "10.0.0.5", "metadata.test": "169.254.169.254",
         "v6.test": "::1", "mapped.test": "::ffff:192.168.1.1", "6to4.test": "2002:7f00:1::"}


def resolver(host: str, port: int) -> list[str]:
    """Test DNS: names above, IP literals as themselves."""
    return [NAMES.get(host, host)]


def loopback_is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The fetcher's ``ip_allowed`` with exactly 127.0.0.1 standing in for a public web server;
    every other non-public address (127.0.0.2 too) stays refused."""
    from briefing.ingest.fetch import is_public_ip

    return str(ip) == "127.0.0.1" or is_public_ip(ip)


@dataclass
class Response:
    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (to trigger client timeouts)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes = b""  # a POST's body


Handler = Callable[[Request], Response]


class LocalHTTPServer:
    """``server.route("/feed", Response(...))``; ``server.url("/feed")``; ``server.requests``;
    ``server.connections`` counts every connection accepted, even one that never sends a request."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Response | Handler] = {}
        self.requests: list[Request] = []
        self.connections = 0
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                self.do_GET()

            def do_GET(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                outer.requests.append(req)
                route = outer.routes.get(self.path.split("?")[0])
                resp = Response(b"not found", 404) if route is None else (
                    route(req) if callable(route) else route)
                if resp.delay:
                    time.sleep(resp.delay)
                body = resp.body.encode() if isinstance(resp.body, str) else resp.body
                self.send_response(resp.status)
                headers = {"Content-Length": str(len(body)), **resp.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        class _Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                outer.connections += 1
                return True

        self._server = _Server((host, 0), _H)
        self._server.daemon_threads = True
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "LocalHTTPServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, response: Response | Handler) -> None:
        self.routes[path] = response
