"""Deployment files: compose (service + PostgreSQL), the image, the systemd unit, the container config."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from briefing.config import EmailConfig, ServiceConfig, TelegramConfig, parse_config
from tests.support.config import REPO

DEPLOY = REPO / "deploy"


def _secret_env_names() -> set[str]:
    tg, email = TelegramConfig(), EmailConfig()
    return {tg.token_env, email.unsubscribe_secret_env, email.username_env, email.password_env}


def test_the_container_config_is_valid_and_holds_no_secret() -> None:
    text = (DEPLOY / "config.yaml").read_text()
    config = parse_config(yaml.safe_load(text), origin="deploy/config.yaml", base_dir=DEPLOY)
    assert config.database_url and config.database_url.startswith("postgresql://")
    assert "@" in config.database_url and ":" not in config.database_url.split("@")[0].removeprefix("postgresql://")
    assert config.data_dir == "/data"
    assert config.http_address == ("0.0.0.0", 8080)  # reachable from outside the container


def test_compose_runs_the_service_with_postgresql_volumes_and_secrets_from_the_environment() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "briefing"}
    db, app = services["db"], services["briefing"]
    assert db["image"].startswith("postgres:")
    assert (REPO / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    mounts = {v.split(":")[1] for v in app["volumes"]}
    assert {"/data", "/etc/briefing/config.yaml"} <= mounts
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert set(compose["volumes"]) == {"pgdata", "briefing-data"}
    env = app["environment"]
    assert _secret_env_names() | {"PGPASSWORD"} <= set(env)
    for name, value in {**env, **db["environment"]}.items():  # secrets are passed through, never written here
        if name in _secret_env_names() | {"PGPASSWORD", "POSTGRES_PASSWORD"}:
            assert re.fullmatch(r"\$\{[A-Z_]+(:[-?][^}]*)?\}", str(value)), (name, value)
    published = app["ports"][0]
    assert published.startswith("127.0.0.1:") and published.endswith(":8080")


def test_the_image_installs_the_tested_set_and_checks_health() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "-c /tmp/constraints.txt" in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile
    assert re.search(r"^USER briefing$", dockerfile, re.MULTILINE)  # not root
    assert "/healthz" in dockerfile and re.search(r"^EXPOSE 8080$", dockerfile, re.MULTILINE)
    assert dockerfile.rstrip().endswith('CMD ["briefing", "run"]')
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in copied.split():
            assert (REPO / path).exists(), path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "briefing.service").read_text()
    assert "ExecStart=/opt/briefing/venv/bin/briefing run" in unit and "EnvironmentFile=-/etc/briefing/env" in unit
    stop = int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert stop > ServiceConfig().shutdown_timeout_seconds
    # verify needs an executable at ExecStart: point it at this interpreter.
    test_unit = tmp_path / "briefing.service"
    test_unit.write_text(unit.replace("/opt/briefing/venv/bin/briefing", sys.executable))
    result = subprocess.run(["systemd-analyze", "verify", str(test_unit)], capture_output=True, text=True,
                            timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "briefing.service" in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
