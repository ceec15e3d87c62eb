"""What changed in a story since a follower was last told: new facts, new actors, changed positions.

Phrased as the difference ("Now: …"), never a resend. A copy of an article that adds nothing —
the same sentences from one more outlet — changes nothing here, so it sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from briefing.stories.brief import SAME_FACT, SAME_POSITION, StoryBrief, content_words, similar

MAX_NEW_FACTS = 3


@dataclass
class Change:
    facts: list[tuple[str, list[str]]] = field(default_factory=list)  # (sentence, outlets)
    actors: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (name, position, outlets)
    positions: list[tuple[str, str, list[str]]] = field(default_factory=list)  # changed: (name, new, outlets)

    def __bool__(self) -> bool:
        return bool(self.facts or self.actors or self.positions)


def what_changed(old: StoryBrief | None, new: StoryBrief) -> Change:
    if old is None:
        return Change()
    change = Change()
    old_facts = [content_words(f.text) for f in old.facts]
    for f in new.facts:
        words = content_words(f.text)
        if not any(similar(words, o, SAME_FACT) for o in old_facts):
            change.facts.append((f.text, f.outlets))
    change.facts = change.facts[:MAX_NEW_FACTS]
    old_actors = {a.name.lower(): a for a in old.actors}
    for a in new.actors:
        before = old_actors.get(a.name.lower()) or next(
            (o for n, o in old_actors.items() if n.split()[-1:] == a.name.lower().split()[-1:]), None)
        if before is None:
            if a.positions:
                p = a.positions[0]
                change.actors.append((a.name, p.text, p.outlets))
            continue
        for p in a.positions:
            words = content_words(p.text)
            if not any(similar(words, content_words(q.text), SAME_POSITION)
                       or similar(content_words(p.evidence), content_words(q.evidence), SAME_FACT)
                       for q in before.positions):
                change.positions.append((a.name, p.text, p.outlets))
    return change
