"""The service's one web server: /healthz for probes and /metrics for Prometheus."""

from __future__ import annotations

import random
import re
from pathlib import Path

import httpx

from briefing.service.runner import Service
from briefing.summarise import Engine
from tests.service.conftest import NewsSite, running, service_config
from tests.support.wait import eventually


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format."""
    label = "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""
    m = re.search(rf"^{re.escape(name + label)} (\S+)$", text, re.MULTILINE)
    assert m, f"no sample {name}{label} in:\n{text}"
    return float(m.group(1))


async def test_healthz_and_metrics_are_served_without_email(tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    news.publish("Harbour plan approved", "the harbour")
    news.publish("Tram line extended", "the tram line")
    config = service_config(tmp_path, news)
    assert not config.email.enabled
    async with running(Service(config, engine=engine, rng=random.Random(1))) as svc:
        await eventually(lambda: svc.app.store.count_briefs() == 2, what="two briefs")
        base = f"http://127.0.0.1:{svc.http_port}"
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{base}/healthz")
            metrics = await client.get(f"{base}/metrics")
            unsubscribe = await client.get(f"{base}/unsubscribe?s=1&t=x")
    assert health.status_code == 200 and health.json() == {"status": "ok", "role": "active"}
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert "# TYPE briefing_polls_total counter" in text
    assert sample(text, "briefing_polls_total", result="ok") == 1
    assert sample(text, "briefing_articles_ingested_total", result="added") == 2
    assert sample(text, "briefing_briefs_total", result="written") == 2
    assert sample(text, "briefing_summarise_seconds_count") == 2
    assert sample(text, "briefing_summarise_seconds_sum") > 0
    assert sample(text, "briefing_summarise_seconds_bucket", le="+Inf") == 2
    assert sample(text, "briefing_articles", status="new") == 0  # queue depth
    assert sample(text, "briefing_articles", status="summarised") == 2
    assert sample(text, "briefing_deliveries", status="pending") == 0
    assert sample(text, "briefing_active") == 1
    assert unsubscribe.status_code == 404  # email is off: no unsubscribe endpoint


async def test_healthz_fails_while_stopping(tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    svc = Service(service_config(tmp_path, news), engine=engine, rng=random.Random(1))
    async with running(svc):
        url = f"http://127.0.0.1:{svc.http_port}/healthz"
        svc.stopping.set()  # what SIGTERM does first: a load balancer stops sending traffic
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        svc.stopping.clear()
    assert response.status_code == 503 and response.json()["status"] == "stopping"
