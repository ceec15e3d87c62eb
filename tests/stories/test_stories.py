"""Stories on real text: clustering with distractors, the story brief, what changed, storage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from briefing.ingest.dedup import fingerprint
from briefing.app import App
from briefing.stories.cluster import Clusterer, Params
from briefing.stories.evaluate import Matrices, fast_cluster
from briefing.stories.metrics import bcubed, pair_counts
from briefing.stories.service import Stories
from briefing.stories.signals import FeatureExtractor
from tests.stories.fixtures import COPY, DISTRACTORS, LEDGER, UPDATE, WIRE
from tests.support.config import REPO, make_config


@pytest.fixture(scope="module")
def extractor() -> FeatureExtractor:
    return FeatureExtractor()


def feats(extractor: FeatureExtractor, drafts):  # type: ignore[no-untyped-def]
    return extractor.features([(d.url, d.title, d.text, d.source_name, d.published) for d in drafts])


def test_metrics_on_a_hand_counted_example() -> None:
    gold = ["a", "a", "a", "b", "b"]
    pred = [1, 1, 2, 2, 2]
    pc = pair_counts(gold, pred)  # predicted pairs: (0,1) ok; (2,3),(2,4) wrong, (3,4) ok
    assert (pc.tp, pc.fp, pc.fn) == (2, 2, 2)
    b3 = bcubed(gold, pred)
    assert b3.precision == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    assert b3.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)


def test_one_event_from_three_outlets_is_one_story_and_distractors_stay_apart(extractor: FeatureExtractor) -> None:
    drafts = [LEDGER, WIRE, *DISTRACTORS, COPY]
    c = Clusterer(Params())
    ids = [c.add(f).story_id for f in feats(extractor, sorted(drafts, key=lambda d: d.published))]
    by_url = dict(zip([d.url for d in sorted(drafts, key=lambda d: d.published)], ids))
    assert by_url[LEDGER.url] == by_url[WIRE.url] == by_url[COPY.url]
    for d in DISTRACTORS:  # same governor / minister / country, another event
        assert by_url[d.url] != by_url[LEDGER.url], d.title
    assert len({by_url[d.url] for d in DISTRACTORS}) == 3


def test_the_story_closes_after_the_time_window(extractor: FeatureExtractor) -> None:
    from dataclasses import replace
    from datetime import timedelta

    late = replace(WIRE, published=LEDGER.published + timedelta(hours=100))
    c = Clusterer(Params(window_hours=72))
    a, b = (c.add(f) for f in feats(extractor, [LEDGER, late]))
    assert a.story_id != b.story_id and not b.joined


def test_fast_evaluation_path_decides_like_the_clusterer(extractor: FeatureExtractor) -> None:
    fs = feats(extractor, sorted([LEDGER, WIRE, UPDATE, COPY, *DISTRACTORS], key=lambda d: d.published))
    m = Matrices(fs)
    for p in (Params(), Params(linkage="mean", threshold=0.4, w_ent=1.0), Params(threshold=0.9)):
        c = Clusterer(p)
        slow = [c.add(f).story_id for f in fs]
        fast = fast_cluster(m, p)
        assert pair_counts([str(x) for x in slow], fast) == pair_counts([str(x) for x in slow], slow)


def add(app: App, draft) -> int:  # type: ignore[no-untyped-def]
    row = app.store.add_article(draft, source_name=draft.source_name, fingerprint=fingerprint(draft.text))
    assert row is not None
    return row.id


@pytest.fixture
def stories(db_url: str, tmp_path: Path) -> Stories:
    sources = [{"name": n, "kind": "feed", "url": f"http://127.0.0.1:9/{n}.xml"}
               for n in ("ledger-world", "nordic-wire", "harbour-times")]
    config = make_config(tmp_path, database_url=db_url, sources=sources)
    app = App(config)
    app.store.sync_sources(config.source_specs())
    s = Stories(config, app.store)
    s.app = app  # type: ignore[attr-defined]
    yield s
    app.close()


def test_story_brief_names_outlets_merges_actors_and_shows_a_disputed_number(stories: Stories) -> None:
    app = stories.app  # type: ignore[attr-defined]
    add(app, LEDGER)
    add(app, WIRE)
    add(app, DISTRACTORS[0])
    report = stories.update()
    assert report.assigned == 3 and report.opened == 2
    story = next(s for s in stories.db.recent_stories() if len(s.brief.outlets) == 2)
    b = story.brief
    assert [o for o, _ in b.outlets] == ["ledger-world", "nordic-wire"]
    assert b.headline == LEDGER.title  # the lead article is the first published
    assert b.summary[0].startswith("The Nordmark Central Bank kept its main interest rate at 3.75%")
    # "Brandt" (nordic-wire) and "Elise Brandt" (ledger-world) are one actor.
    brandt = [a for a in b.actors if "Brandt" in a.name]
    assert len(brandt) == 1 and brandt[0].name == "Elise Brandt"
    outlets = {o for p in brandt[0].positions for o in p.outlets}
    assert outlets == {"ledger-world", "nordic-wire"}
    aberg = next(a for a in b.actors if "Aberg" in a.name)
    assert sorted(aberg.positions[0].outlets) == ["ledger-world", "nordic-wire"]
    # 3.1% (ledger) against 3.2% (wire): both shown, each with its outlet, never averaged.
    disputed = [f for f in b.conflicts if "3.1%" in " ".join(f.variants.values())]
    assert disputed and "3.2%" in disputed[0].variants["nordic-wire"]
    assert "3.1%" in disputed[0].variants["ledger-world"]


def test_follower_gets_one_update_for_a_new_fact_and_none_for_a_copy(stories: Stories) -> None:
    app = stories.app  # type: ignore[attr-defined]
    add(app, LEDGER)
    add(app, WIRE)
    stories.update()
    sid = stories.db.story_of_article(1)
    assert sid is not None
    sub = app.store.telegram_subscriber(777)
    assert stories.db.follow(sub.id, sid)
    assert not stories.db.follow(sub.id, sid)  # following twice is one follow
    assert stories.notices() == []

    add(app, COPY)  # one more outlet, nothing new
    stories.update()
    assert stories.db.story_of_article(3) == sid
    assert len(stories.db.get_story(sid).brief.outlets) == 3
    assert stories.notices() == []

    add(app, UPDATE)  # new facts: the split vote
    stories.update()
    assert stories.db.story_of_article(4) == sid
    notices = stories.notices()
    assert len(notices) == 1
    assert "What's new" in notices[0].html and "voted to cut" in notices[0].html
    assert "kept its main interest rate" not in notices[0].html  # the difference, not a resend
    assert stories.told(notices[0])
    assert not stories.told(notices[0])  # recorded once: a second sender does not send it again
    assert stories.notices() == []


def test_a_flagged_unsupported_position_is_dropped_and_followers_get_a_correction(stories: Stories) -> None:
    app = stories.app  # type: ignore[attr-defined]
    add(app, LEDGER)
    add(app, WIRE)
    stories.update()
    sid = stories.db.story_of_article(1)
    sub = app.store.telegram_subscriber(778)
    stories.db.follow(sub.id, sid)
    # A supported brief: the re-check keeps it and nobody gets a correction.
    kept = stories.flag(sid, sub.id, "actor", "Brandt")
    assert stories.recheck(kept) == []
    assert stories.db.flags("kept")[0].id == kept
    # Tamper with the stored brief as a bad engine might: a position no article supports.
    from briefing.stories.brief import Position

    story = stories.db.get_story(sid)
    aberg = next(a for a in story.brief.actors if "Aberg" in a.name)
    aberg.positions = [Position("says the bank should raise rates to 6%", ["nordic-wire"],
                                "Aberg said the bank should raise rates to 6%.")]
    stories.db.save_story_brief(sid, story.brief)
    stories.db.mark_told(sub.id, sid, story.brief, stories.db.get_story(sid).version)
    flag = stories.flag(sid, sub.id, "actor", "Aberg")
    assert [f.id for f in stories.db.flags("open")] == [flag]
    notices = stories.recheck(flag)
    assert len(notices) == 1 and "Correction" in notices[0].html and "6%" in notices[0].html
    fixed = stories.db.get_story(sid).brief
    assert not any("6%" in p.text for a in fixed.actors for p in a.positions)
    assert stories.db.flags("corrected")[0].id == flag
    # A later rewrite (a new article joins) does not bring the removed position back.
    add(app, COPY)
    stories.update()
    assert not any("6%" in p.text for a in stories.db.get_story(sid).brief.actors for p in a.positions)


def test_eval_stories_prints_held_out_pairwise_and_bcubed_scores(tmp_path: Path) -> None:
    rows = []
    for i, d in enumerate([LEDGER, WIRE, COPY, UPDATE]):
        rows.append({"id": f"e{i}", "event": "rates", "title": d.title, "text": d.text, "outlet": d.source_name,
                     "published": d.published.isoformat()})
    for i, d in enumerate(DISTRACTORS):
        rows.append({"id": f"d{i}", "event": f"other-{i}", "title": d.title, "text": d.text,
                     "outlet": d.source_name, "published": d.published.isoformat()})
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = subprocess.run([sys.executable, "-m", "briefing", "eval-stories", str(path), "--folds", "2",
                          "--data-dir", str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=600, cwd=REPO,
                         env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert "pair P" in out.stdout and "B3 F1" in out.stdout and "held-out folds: 2" in out.stdout
    assert "setting chosen on the whole set" in out.stdout


def test_eval_set_has_provenance_and_the_promised_size() -> None:
    folder = REPO / "eval" / "stories"
    assert "CC BY 4.0" in (folder / "SOURCE.md").read_text()
    rows = [json.loads(line) for line in (folder / "uci_stories.jsonl").read_text().splitlines()]
    events: dict[str, set[str]] = {}
    for r in rows:
        if r["role"] == "event":
            events.setdefault(r["event"], set()).add(r["outlet"])
    assert len(events) >= 40 and all(len(o) >= 2 for o in events.values())
    distractors = [r for r in rows if r["role"] == "distractor"]
    assert len(distractors) >= 100
    assert all(r["event"] not in events and r["shared_entities"] for r in distractors)


def test_digest_lists_a_story_once_with_all_its_outlets(stories: Stories) -> None:
    from datetime import date, datetime, timedelta, timezone

    from briefing.models import Brief
    from briefing.digest import compose

    app = stories.app  # type: ignore[attr-defined]
    for i, d in enumerate([LEDGER, WIRE, DISTRACTORS[1]], 1):
        aid = add(app, d)
        app.store.save_brief(aid, Brief(d.title, [d.text.split("\n")[0]], [], "extractive"), f"k{i}")
    now = datetime.now(timezone.utc)
    before = compose(app.store, digest_date=date.today(), period_start=now - timedelta(hours=1),
                     period_end=now + timedelta(hours=1), subs=None, now=now)
    assert len(before.items) == 3  # no stories yet: one entry per brief
    stories.update()
    after = compose(app.store, digest_date=date.today(), period_start=now - timedelta(hours=1),
                    period_end=now + timedelta(hours=1), subs=None, now=now)
    headlines = [i.brief.headline for i in after.items]
    assert len(headlines) == 2 and LEDGER.title in headlines and WIRE.title not in headlines
    rates = next(i for i in after.items if i.brief.headline == LEDGER.title)
    assert rates.sources == 2  # ledger-world and nordic-wire


def test_digest_marks_a_story_seen_before_the_period_as_an_update(stories: Stories) -> None:
    from datetime import date, datetime, timedelta, timezone

    from briefing.models import Brief
    from briefing.digest import compose

    app = stories.app  # type: ignore[attr-defined]
    add(app, LEDGER)
    add(app, WIRE)
    stories.update()  # the story exists before the next digest's period starts
    start = datetime.now(timezone.utc) + timedelta(seconds=1)
    import time

    time.sleep(1.2)
    for d in (UPDATE, DISTRACTORS[1]):
        aid = add(app, d)
        app.store.save_brief(aid, Brief(d.title, [d.text.split("\n")[0]], [], "extractive"), d.url)
    stories.update()
    now = datetime.now(timezone.utc)
    digest = compose(app.store, digest_date=date.today(), period_start=start, period_end=now + timedelta(hours=1),
                     subs=None, now=now)
    headlines = sorted(i.brief.headline for i in digest.items)
    assert headlines == [DISTRACTORS[1].title, "Update: " + UPDATE.title]
