"""Parsing untrusted documents in a child process with a time and memory limit (issue 8, rows 2 and 8).

Feeds, pages and local files come from people we do not control. A hostile one can make a parser
run for a minute (a 540 KB feed with 50,000 attributes) or eat gigabytes, while holding the GIL:
in-process, that freezes the bot, the lease renewal and the shutdown. So :class:`ParseSandbox`
parses in one long-lived child process (``python -m briefing.ingest.sandbox``) and waits for the
answer without holding the GIL; a parse that takes longer than ``ingest.parse_timeout_seconds``
is killed with its process (the next parse starts a fresh one), and the child's address space
is capped at ``ingest.parse_max_memory_mb``. Requests and answers are pickles over the child's
stdin/stdout; the child only ever runs the few parse functions named in :data:`TASKS`.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from briefing import errors
from briefing.errors import ParseError

# Time the child gets to import the parsers (trafilatura, lxml, feedparser) before its first answer.
STARTUP_SECONDS = 60.0
_HEADER = struct.Struct("!I")


def page_text(data: bytes, url: str, content_type: str | None) -> tuple[str, str, datetime | None]:
    """(title, text, published) of a fetched page or a local article file. Runs in the child."""
    from briefing.ingest.extract import charset_of, decode, extract_html, read_article_file

    if url.startswith("file:") and url.endswith((".txt", ".md")):
        from urllib.parse import unquote, urlsplit
        return read_article_file(Path(unquote(urlsplit(url).path)), data)
    return extract_html(decode(data, charset_of(content_type)), url)


def _tasks() -> dict[str, Any]:
    from briefing.ingest.extract import read_article_file
    from briefing.ingest.feeds import parse_feed

    return {"feed": parse_feed, "page": page_text, "file": read_article_file}


TASKS = ("feed", "page", "file")


class ParseSandbox:
    """``run("feed", data, url)`` -> what :func:`briefing.ingest.feeds.parse_feed` returns, or a
    :class:`ParseError` when the parse fails, runs out of time or memory. Thread-safe (one parse
    at a time); ``close()`` kills the child, also while a parse runs."""

    def __init__(self, timeout_seconds: float, max_memory_mb: int) -> None:
        self.timeout = timeout_seconds
        self.max_memory_mb = max_memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def run(self, task: str, *args: Any) -> Any:
        if task not in TASKS:
            raise ValueError(f"unknown parse task {task!r}")
        with self._lock:
            if self._closed:
                raise ParseError("not parsed: shutting down")
            started = self._proc is None or self._proc.poll() is not None
            proc = self._start() if started else self._proc
            assert proc is not None and proc.stdin is not None and proc.stdout is not None
            deadline = time.monotonic() + self.timeout + (STARTUP_SECONDS if started else 0.0)
            try:
                _send(proc.stdin, (task, args))
                ok, value = _receive(proc.stdout, deadline)
            except TimeoutError:
                self._kill()
                raise ParseError(f"parsing took longer than {self.timeout:g} s (ingest.parse_timeout_seconds): "
                                 "stopped") from None
            except (OSError, EOFError, pickle.UnpicklingError, ValueError):
                self._kill()
                if self._closed:
                    raise ParseError("not parsed: shutting down") from None
                raise ParseError("the parser stopped (out of memory? ingest.parse_max_memory_mb "
                                 f"is {self.max_memory_mb})") from None
        if ok:
            return value
        raise _error(*value)

    def close(self) -> None:
        """Kill the child; a parse in flight ends with a ParseError. Does not wait for the lock."""
        self._closed = True
        self._kill()

    def _start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "BRIEFING_SANDBOX_MEMORY_MB": str(self.max_memory_mb)}
        self._proc = subprocess.Popen(
            # -c, not -m: the package imports this module first, and runpy would warn about it.
            [sys.executable, "-c", "from briefing.ingest.sandbox import _child; _child()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env=env, cwd=os.getcwd(), start_new_session=True)  # not hit by a terminal's Ctrl-C
        return self._proc

    def _kill(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


def _error(name: str, message: str) -> Exception:
    """Our error type again on this side (only briefing.errors' ParseError family is trusted)."""
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ParseError):
        return cls(message)
    return ParseError(f"{name}: {message}" if name != "MemoryError" else
                      "document too large to parse (ingest.parse_max_memory_mb)")


def _send(pipe: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(data)) + data)
    pipe.flush()


def _read_exactly(pipe: BinaryIO, n: int, deadline: float | None) -> bytes:
    fd, chunks, left = pipe.fileno(), [], n
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(pipe: BinaryIO, deadline: float | None) -> Any:
    (size,) = _HEADER.unpack(_read_exactly(pipe, _HEADER.size, deadline))
    return pickle.loads(_read_exactly(pipe, size, deadline))  # noqa: S301 - our own child's answer


def _child() -> None:
    """The child's loop: read a request, parse, answer; exit when the parent closes stdin."""
    import resource
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = int(os.environ.get("BRIEFING_SANDBOX_MEMORY_MB", "1024")) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    tasks = _tasks()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library that prints must not corrupt the answers
    while True:
        try:
            task, args = _receive(stdin, None)
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, Any] = (True, tasks[task](*args))
        except MemoryError:
            answer = (False, ("MemoryError", ""))
        except Exception as exc:  # noqa: BLE001 - every failure goes back as an error to the parent
            answer = (False, (type(exc).__name__, str(exc)))
        _send(stdout, answer)


if __name__ == "__main__":
    _child()
