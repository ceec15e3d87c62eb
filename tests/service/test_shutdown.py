"""``briefing run`` as a process: SIGTERM stops it cleanly and within the configured bound."""

from __future__ import annotations

from pathlib import Path

from briefing.store import Store
from tests.support.http import LocalHTTPServer, Response
from tests.support.process import ServiceProcess, write_config


def test_sigterm_exits_0_within_the_bound_even_with_a_fetch_in_flight(
        tmp_path: Path, http_server: LocalHTTPServer) -> None:
    http_server.route("/slow.xml", Response("<rss/>", delay=30))  # answers long after we are gone
    config = write_config(tmp_path / "config.yaml", {
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "slow", "kind": "feed", "url": http_server.url("/slow.xml"), "allow_private": True}],
        "ingest": {"timeout_seconds": 60, "per_host_delay_seconds": 0},
        "service": {"jitter_seconds": 0, "shutdown_timeout_seconds": 3},
    })
    proc = ServiceProcess(config)
    proc.wait_for("briefing is running")
    proc.wait_until(lambda: any(r.path == "/slow.xml" for r in http_server.requests), "the slow fetch", timeout=10)
    rc, seconds = proc.terminate()
    assert rc == 0, proc.log
    assert seconds < 3 + 1.0, f"took {seconds:.1f}s to stop:\n{proc.log}"
    assert "stopped" in proc.log
    print(f"stopped in {seconds:.2f}s")
    # The interrupted poll left the source due: the next start polls it again.
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'briefing.db'}")
    src = store.get_source("slow")
    store.close()
    assert src is not None and src.last_polled_at is None
