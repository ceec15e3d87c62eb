"""Build ``uci_stories.jsonl`` from the UCI News Aggregator CSV (see SOURCE.md).

Usage: python eval/stories/build_uci.py PATH/TO/uci-news-aggregator.csv

Deterministic: events are the Google News story clusters of the CSV with at least two
publishers (up to 8 articles each, one per publisher); distractors are articles of the
*other* stories whose title names a person, organisation or place that one of the chosen
events also names (same entity, different event label).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from briefing.summarise.nlp import load_spacy

N_EVENTS = 45
PER_EVENT = 8
ENTITY_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "EVENT"}


def entities(nlp, title: str) -> set[str]:
    return {e.text.lower().removesuffix("'s") for e in nlp(title).ents if e.label_ in ENTITY_LABELS}


def main(path: str) -> None:
    nlp = load_spacy()
    rows = [r for r in csv.DictReader(open(path, encoding="utf-8")) if (r.get("TIMESTAMP") or "").isdigit()]
    by_story: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_story[r["STORY"]].append(r)
    events = []
    for story, items in by_story.items():
        seen, chosen = set(), []
        for r in sorted(items, key=lambda r: int(r["ID"])):
            if r["PUBLISHER"] not in seen:
                seen.add(r["PUBLISHER"])
                chosen.append(r)
        if len(chosen) >= 2:
            events.append((story, chosen[:PER_EVENT]))
    events.sort(key=lambda e: int(e[1][0]["ID"]))
    events = events[:N_EVENTS]
    event_ids = {s for s, _ in events}
    event_ents: dict[str, set[str]] = {s: set().union(*(entities(nlp, r["TITLE"]) for r in items))
                                       for s, items in events}
    out = []
    for story, items in events:
        for r in items:
            out.append(record(r, "event", []))
    for r in rows:
        if r["STORY"] in event_ids:
            continue
        ents = entities(nlp, r["TITLE"])
        shared = sorted({s for s, ee in event_ents.items() if ents & ee})
        if shared:
            out.append(record(r, "distractor", shared, sorted(ents & set().union(*(event_ents[s] for s in shared)))))
    dest = Path(__file__).with_name("uci_stories.jsonl")
    with dest.open("w", encoding="utf-8") as fh:
        for rec in sorted(out, key=lambda x: x["published"]):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    n_dis = sum(1 for r in out if r["role"] == "distractor")
    print(f"{len(events)} events, {len(out) - n_dis} event articles, {n_dis} distractors -> {dest}")


def record(r: dict, role: str, shares_with: list[str], shared_entities: list[str] | None = None) -> dict:
    ts = datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, tz=timezone.utc)
    rec = {"id": f"uci-{r['ID']}", "event": r["STORY"], "role": role, "title": r["TITLE"], "text": "",
           "outlet": r["PUBLISHER"], "url": r["URL"].replace("\\?", "?"), "published": ts.isoformat(),
           "category": r["CATEGORY"]}
    if role == "distractor":
        rec["shares_entities_with"] = shares_with
        rec["shared_entities"] = shared_entities or []
    return rec


if __name__ == "__main__":
    main(sys.argv[1])
