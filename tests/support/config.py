"""The repository's paths and a config for tests: fast limits, everything in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

from briefing.config import Config, parse_config

REPO = Path(__file__).resolve().parent.parent.parent
SEEDS = REPO / "seeds"
SEED_ARTICLE = SEEDS / "articles" / "000_5a90e4aeb8699e52.txt"


def make_config(tmp_path: Path, **data: object) -> Config:
    """A config rooted in ``tmp_path`` with fast limits for tests."""
    base: dict[str, object] = {"data_dir": str(tmp_path / "data"),
                               "ingest": {"per_host_delay_seconds": 0, "timeout_seconds": 5},
                               "service": {"http_port": 0}}  # the web server on any free port
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}  # type: ignore[dict-item]
        else:
            base[key] = value
    return parse_config(base, origin="test-config", base_dir=tmp_path)
