"""``briefing run`` as a real process, its config written to a file, its log collected."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.support.config import REPO
from tests.support.wait import eventually


def write_config(path: Path, data: dict[str, Any]) -> Path:
    # The service's web server on any free port, so tests (and two instances) never collide.
    service = data.get("service", {})
    data = {**data, "service": {"http_port": 0, **service}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class ServiceProcess:
    """``python -m briefing run`` as a subprocess, its log collected line by line."""

    def __init__(self, config_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "briefing", "run", "--config", str(config_path), *args],
            cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_until(self, check: Callable[[], object], what: str, timeout: float = 30.0) -> object:
        """:func:`eventually` ``check``, failing at once, with the service log, if the service exits."""
        def running_and_check() -> object:
            result = check()
            if not result and self.proc.poll() is not None:
                raise AssertionError(f"no {what}: the service exited ({self.proc.returncode}); log:\n{self.log}")
            return result

        try:
            return asyncio.run(eventually(running_and_check, timeout, what=what))
        except AssertionError as exc:
            if self.proc.poll() is not None:
                raise
            raise AssertionError(f"{exc}; service log:\n{self.log}") from None

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Wait for a log line containing ``text``."""
        self.wait_until(lambda: any(text in line for line in self.lines), f"{text!r} in the service log", timeout)

    def terminate(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """SIGTERM (or ``sig``); (exit status, seconds it took to exit)."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(2)
        return rc, time.monotonic() - started
