"""The story stage: cluster stored articles into stories, compose and store each story's brief,
work out what followers should be told, and re-check briefs readers flagged.

Faces (CLI, bot, service jobs) call :class:`Stories`; it uses the store and the NLP models only.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from briefing.config import Config, StoriesConfig
from briefing.models import Actor, MemberRow
from briefing.store import Store
from briefing.stories.brief import StoryBrief, compose
from briefing.stories.cluster import Clusterer, Params, Story
from briefing.stories.diff import what_changed
from briefing.stories.render import correction_html, whats_new_html
from briefing.stories.signals import Features, FeatureExtractor, title_words

log = logging.getLogger(__name__)

FLAG_KINDS = ("actor", "position", "fact", "other")


def params_from_config(cfg: StoriesConfig) -> Params:
    return Params(threshold=cfg.threshold, w_emb=cfg.weight_embedding, w_ent=cfg.weight_entities,
                  w_title=cfg.weight_title, linkage=cfg.linkage, window_hours=cfg.window_hours)


@dataclass
class UpdateReport:
    assigned: int = 0
    opened: int = 0
    touched: list[int] = field(default_factory=list)  # story ids whose brief was rewritten


@dataclass
class Notice:
    """A message for one follower, and the state to record once it is sent."""

    subscriber_id: int
    chat_id: int | None
    story_id: int
    html: str
    brief: StoryBrief
    version: int


class Stories:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.db = store  # stories are part of the store (briefing/store/stories.py)
        self.params = params_from_config(config.stories)

    @functools.cached_property
    def extractor(self) -> FeatureExtractor:
        return FeatureExtractor(self.config.summariser.spacy_model)

    @property
    def nlp(self):  # type: ignore[no-untyped-def]
        return self.extractor.nlp

    def _features(self, row: MemberRow) -> Features:
        emb = np.asarray(row.embedding, dtype=np.float32) if row.embedding is not None else None
        return Features(str(row.article_id), row.title, row.outlet, row.published, emb,
                        frozenset(row.entities), title_words(row.title))

    def update(self, limit: int = 1000) -> UpdateReport:
        """Put every unassigned article into a story (joining or opening one), then rewrite the
        briefs of the stories that changed."""
        report = UpdateReport()
        new = self.db.unassigned_articles(limit)
        if not new or not self.config.stories.enabled:
            return report
        oldest = min((r.published for r in new if r.published), default=datetime.now(timezone.utc))
        since = oldest - timedelta(hours=self.params.window_hours)
        clusterer = Clusterer(self.params)
        stories: dict[int, Story] = {}
        for row in self.db.recent_members(since):
            story = stories.setdefault(row.story_id, Story(row.story_id))
            story.add(self._features(row))
        clusterer.restore(stories.values())
        feats = self.extractor.features([(str(r.article_id), r.title, r.text, r.outlet, r.published) for r in new])
        touched: set[int] = set()
        for row, f in zip(new, feats):
            story, score = clusterer.best(f)
            if story is not None and score >= self.params.threshold:
                sid = story.id
            else:
                sid = self.db.new_story()
                report.opened += 1
                story = Story(sid)
                clusterer.stories[sid] = story
            emb = [float(x) for x in f.emb] if f.emb is not None else None
            if self.db.add_member(sid, row.article_id, row.outlet, score, emb, sorted(f.ents)):
                story.add(f)
                touched.add(sid)
                report.assigned += 1
        for sid in sorted(touched):
            self.rewrite(sid)
            report.touched.append(sid)
        return report

    def compose(self, story_id: int) -> StoryBrief:
        cfg = self.config.summariser
        return compose(self.nlp, self.db.members(story_id),
                       summary_sentences=cfg.summary_sentences, max_actors=cfg.max_actors)

    def rewrite(self, story_id: int) -> StoryBrief:
        """Compose the brief again from all members, keeping corrections (what a re-check removed)."""
        brief = self.compose(story_id)
        old = self.db.get_story(story_id)
        if old is not None:
            brief = _apply_corrections(brief, old.brief)
            if _same(brief, old.brief):
                return old.brief  # nothing a reader would notice: no new version, nobody is told
        self.db.save_story_brief(story_id, brief)
        return brief

    # -- followers ------------------------------------------------------------

    def notices(self) -> list[Notice]:
        """One "What's new" per follower of each story that gained a fact, actor or position.

        A new version that changes nothing a follower would notice (a copy from one more outlet)
        is recorded as told without a message.
        """
        out = []
        for f in self.db.stale_follows():
            story = self.db.get_story(f.story_id)
            if story is None:
                continue
            change = what_changed(f.told, story.brief)
            if not change:
                self.db.mark_told(f.subscriber_id, f.story_id, story.brief, story.version)
                continue
            out.append(Notice(f.subscriber_id, f.chat_id, f.story_id,
                              whats_new_html(story.brief.headline, change), story.brief, story.version))
        return out

    def told(self, notice: Notice) -> bool:
        return self.db.mark_told(notice.subscriber_id, notice.story_id, notice.brief, notice.version)

    # -- problem reports ----------------------------------------------------------

    def flag(self, story_id: int, subscriber_id: int | None, kind: str, detail: str = "") -> int:
        if kind not in FLAG_KINDS:
            kind = "other"
        return self.db.add_flag(story_id, subscriber_id, kind, detail)

    def recheck(self, flag_id: int) -> list[Notice]:
        """Re-run the guard on a flagged story brief; drop what the articles do not support.

        Returns a correction notice per follower when the brief changed (none when it holds).
        """
        from briefing.summarise.guard import Guard, load_embedder

        flag = next((fl for fl in self.db.flags(None, limit=10_000) if fl.id == flag_id), None)
        story = self.db.get_story(flag.story_id) if flag else None
        if flag is None or story is None:
            raise KeyError(flag_id)
        guard = Guard(self.nlp, self.config.summariser.grounding_threshold, load_embedder())
        members = self.db.members(flag.story_id)
        arts = {m.outlet: guard.article(m.text) for m in members}
        brief, removed = _recheck(guard, arts, story.brief, flag.kind, flag.detail)
        if not removed:
            self.db.resolve_flag(flag_id, "kept", "re-check found the brief supported by its articles")
            return []
        brief.removed = sorted({*story.brief.removed, *removed})
        version = self.db.save_story_brief(flag.story_id, brief)
        self.db.resolve_flag(flag_id, "corrected", "; ".join(removed))
        new = self.db.get_story(flag.story_id)
        assert new is not None
        notices = []
        for f in self.db.stale_follows():
            if f.story_id == flag.story_id:
                notices.append(Notice(f.subscriber_id, f.chat_id, f.story_id,
                                      correction_html(brief.headline, removed), new.brief, version))
        return notices


def _recheck(guard, arts, brief: StoryBrief, kind: str, detail: str) -> tuple[StoryBrief, list[str]]:  # type: ignore[no-untyped-def]
    removed: list[str] = []
    target = detail.casefold().strip()
    if kind in ("actor", "position", "other"):
        for actor in list(brief.actors):
            if target and target not in actor.name.casefold():
                continue
            kept = []
            for p in actor.positions:
                ok = any(guard.check_actor(Actor(actor.name, actor.description, p.text, p.evidence), arts[o])[0]
                         for o in p.outlets if o in arts)
                if ok:
                    kept.append(p)
                else:
                    removed.append(f"{actor.name} — {p.text}")
            actor.positions = kept
        brief.actors = [a for a in brief.actors if a.positions]
    if kind in ("fact", "other"):
        kept_summary = []
        for sent in brief.summary:
            if target and kind == "fact" and target not in sent.casefold():
                kept_summary.append(sent)
                continue
            if any(not guard.support(sent, art).reason for art in arts.values()):
                kept_summary.append(sent)
            else:
                removed.append(sent)
        brief.summary = kept_summary or brief.summary[:1]
    return brief, removed


def _apply_corrections(brief: StoryBrief, old: StoryBrief) -> StoryBrief:
    """A position or sentence a re-check removed stays removed when the brief is rewritten."""
    removed = set(old.removed)
    if not removed:
        return brief
    brief.summary = [s for s in brief.summary if s not in removed] or brief.summary[:1]
    for a in brief.actors:
        a.positions = [p for p in a.positions if f"{a.name} — {p.text}" not in removed]
    brief.actors = [a for a in brief.actors if a.positions]
    brief.removed = sorted(removed)
    return brief


def _same(a: StoryBrief, b: StoryBrief) -> bool:
    return a.to_dict() == b.to_dict()
