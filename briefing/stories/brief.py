"""One brief per story: headline, summary, outlets, who says what where, and disagreements.

- Headline and summary come from the *lead* article (the first published; the longest on a tie):
  its sentences, preferring those that other outlets also report ("facts several outlets agree
  on"). Two sentences report the same fact when their content words overlap enough.
- A number that outlets disagree on (the same fact with different figures) is not averaged: each
  figure is shown with its outlet.
- Actors are found per article by :func:`briefing.summarise.actors.find_actors`, then merged across
  articles by name ("Putin" and "Vladimir Putin"); each position lists the outlets reporting it,
  with the quoting sentence as evidence; an actor given different positions by different outlets
  is marked as conflicting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from spacy.language import Language

from briefing.models import Fact, MemberRow, Position, StoryActor, StoryBrief
from briefing.summarise.actors import find_actors
from briefing.summarise.extractive import sentences as split_sentences
from briefing.summarise.guard import numbers

SAME_FACT = 0.5  # content-word Jaccard at which two sentences report one fact
SAME_POSITION = 0.4
MAX_FACT_SENTENCES = 12  # per article: the lead and the body's first paragraphs carry the facts
_WORD = re.compile(r"[a-z][a-z'-]+|\d[\d,.]*%?")


def content_words(text: str) -> frozenset[str]:
    stop = _STOP
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in stop and len(w) > 2)


_STOP = frozenset("""the and for with from that this said says will would could should have has had were was
are not but its their they them there then than been being also into over after before about which while
who whom what when where said told more most some such only other its our your his her she him""".split())


def similar(a: frozenset[str], b: frozenset[str], at: float) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= at


def _order(members: Sequence[MemberRow]) -> list[MemberRow]:
    far = datetime.max.replace(tzinfo=None)
    return sorted(members, key=lambda m: ((m.published.replace(tzinfo=None) if m.published else far),
                                          -len(m.text), m.article_id))


def facts_of(nlp: Language, ordered: Sequence[MemberRow]) -> tuple[list[Fact], dict[int, int]]:
    """Facts across articles, and for the lead article: sentence index -> fact index."""
    facts: list[Fact] = []
    keys: list[frozenset[str]] = []
    lead_map: dict[int, int] = {}
    for n, m in enumerate(ordered):
        for i, sent in enumerate(split_sentences(nlp(m.text))[:MAX_FACT_SENTENCES]):
            words = content_words(sent)
            if len(words) < 4:
                continue
            match = next((k for k, key in enumerate(keys) if similar(words, key, SAME_FACT)), None)
            if match is None:
                facts.append(Fact(sent, [m.outlet]))
                keys.append(words)
                match = len(facts) - 1
            else:
                fact = facts[match]
                if m.outlet not in fact.outlets:
                    fact.outlets.append(m.outlet)
                if numbers(sent) != numbers(fact.text) and (numbers(sent) or numbers(fact.text)):
                    fact.variants.setdefault(fact.outlets[0], fact.text)
                    fact.variants[m.outlet] = sent
            if n == 0:
                lead_map.setdefault(i, match)
    return facts, lead_map


def merge_actors(per_article: Sequence[tuple[MemberRow, list[Any]]], max_actors: int) -> list[StoryActor]:
    merged: list[StoryActor] = []
    keys: list[set[str]] = []
    for member, actors in per_article:
        for a in actors:
            tokens = a.name.lower().split()
            idx = next((k for k, names in enumerate(keys) if _same_name(tokens, names)), None)
            if idx is None:
                merged.append(StoryActor(a.name, a.description, []))
                keys.append({a.name.lower()})
                idx = len(merged) - 1
            actor = merged[idx]
            keys[idx].add(a.name.lower())
            if len(a.name) > len(actor.name):
                actor.name = a.name
            if not actor.description and a.description:
                actor.description = a.description
            pos_words = content_words(a.position)
            pos = next((p for p in actor.positions if similar(pos_words, content_words(p.text), SAME_POSITION)
                        or similar(content_words(a.evidence), content_words(p.evidence), SAME_FACT)), None)
            if pos is None:
                actor.positions.append(Position(a.position, [member.outlet], a.evidence))
            elif member.outlet not in pos.outlets:
                pos.outlets.append(member.outlet)
    merged.sort(key=lambda a: -sum(len(p.outlets) for p in a.positions))
    return merged[:max_actors]


def _same_name(tokens: list[str], names: set[str]) -> bool:
    """'Putin' and 'Vladimir Putin' are one actor: one name ends with the other's words."""
    for name in names:
        other = name.split()
        short, long_ = (tokens, other) if len(tokens) <= len(other) else (other, tokens)
        if short and long_[-len(short):] == short:
            return True
    return False


def compose(nlp: Language, members: Sequence[MemberRow], *, summary_sentences: int = 3,
            max_actors: int = 6) -> StoryBrief:
    ordered = _order(members)
    lead = ordered[0]
    facts, lead_map = facts_of(nlp, ordered)
    # Lead sentences, those more outlets report first, then in the lead's order.
    ranked = sorted(lead_map.items(), key=lambda kv: (-len(facts[kv[1]].outlets), kv[0]))
    chosen = sorted(ranked[:summary_sentences])
    summary = [facts[f].text for _, f in chosen] or [lead.title]
    outlets: list[tuple[str, str | None]] = []
    for m in ordered:
        if m.outlet not in [o for o, _ in outlets]:
            outlets.append((m.outlet, m.url))
    per_article = [(m, find_actors(nlp(m.text), max_actors)) for m in ordered]
    stamps = [m.published for m in ordered if m.published]
    return StoryBrief(
        headline=lead.title, summary=summary, outlets=outlets,
        actors=merge_actors(per_article, max_actors), facts=facts,
        conflicts=[f for f in facts if len(f.variants) > 1],
        first_seen=min(stamps) if stamps else None, last_seen=max(stamps) if stamps else None,
        articles=len(members))
