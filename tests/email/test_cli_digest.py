"""`briefing subscriber add` and `briefing digest preview` as an admin uses them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from briefing.cli import main
from briefing.store import Store
from tests.support.briefs import add_brief


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "Harbour Times", "kind": "folder", "path": "x", "topics": ["economy", "city"]}],
        "email": {"from_address": "briefing@news.example"},
    }))
    (tmp_path / "data").mkdir()
    return path


def _store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{(tmp_path / 'data' / 'briefing.db').resolve()}")


def test_subscriber_add_then_preview(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["subscriber", "add", "--config", str(config_file), "--email", "Reader@Example.org",
               "--topic", "Economy", "--keyword", "harbour", "--digest-time", "07:30", "--timezone", "Europe/Berlin"])
    out = capsys.readouterr().out
    assert rc == 0 and "added subscriber 1: Reader@example.org (verified), digest at 07:30 Europe/Berlin" in out
    assert "2 new subscription(s)" in out

    store = _store(tmp_path)
    now = datetime.now(timezone.utc)
    add_brief(store, "Harbour <b>tolls</b> cut", topics=["economy"], source="Harbour Times",
              created_at=now - timedelta(hours=1))
    add_brief(store, "Football results", topics=["sport"], source="Harbour Times", created_at=now - timedelta(hours=1))
    sub = store.subscriber_by_email("reader@example.org")
    assert sub is not None and sub.email_verified and sub.digest_time == "07:30"
    store.close()

    html = tmp_path / "out.html"
    rc = main(["digest", "preview", "--config", str(config_file), "--subscriber", "reader@example.org",
               "--html", str(html), "--text"])
    captured = capsys.readouterr()
    assert rc == 0 and "1 stories since" not in captured.err and "1 story" in captured.err
    assert "Harbour <b>tolls</b> cut" in captured.out and "Football" not in captured.out
    page = html.read_text()
    assert "Harbour &lt;b&gt;tolls&lt;/b&gt; cut" in page and "Football" not in page

    rc = main(["digest", "preview", "--config", str(config_file)])  # no subscriber: everything
    out = capsys.readouterr().out
    assert rc == 0 and "Football results" in out and "Harbour <b>tolls</b> cut" in out


@pytest.mark.parametrize(("extra", "rc", "message"), [
    (["--topic", "gardening"], 1, "unknown topic 'gardening'; known topics: city, economy"),
    (["--source", "Nope"], 1, "unknown source 'Nope'"),
    (["--timezone", "Mars/Base"], 2, "unknown time zone 'Mars/Base'"),
    (["--digest-time", "25:00"], 2, "HH:MM"),
])
def test_subscriber_add_refuses_bad_input_and_stores_nothing(config_file: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             extra: list[str], rc: int, message: str) -> None:
    assert main(["subscriber", "add", "--config", str(config_file), "--email", "a@example.org", *extra]) == rc
    assert message in capsys.readouterr().err
    store = _store(tmp_path)
    assert store.subscriber_by_email("a@example.org") is None
    store.close()


def test_bad_address_and_unknown_subscriber(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["subscriber", "add", "--config", str(config_file), "--email", "not an address"]) == 1
    assert "is not an email address" in capsys.readouterr().err
    assert main(["digest", "preview", "--config", str(config_file), "--subscriber", "nobody@example.org"]) == 1
    assert "no subscriber with id or email 'nobody@example.org'" in capsys.readouterr().err
