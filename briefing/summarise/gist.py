"""The model-written gist and positions of a brief, through llama.cpp, under the claim guard.

For each brief (whatever engine picked its key-fact sentences and actors), the local model
writes, each under a grammar:

1. **the gist**: one sentence of at most ~30 words (``prompts/gist.txt``), nothing else in the
   same answer, so the model spends its words on the sentence a reader sees first;
2. **one position per key actor** (``prompts/position.txt``): what that actor says or wants, in
   at most 12 words, condensed from the actor's own evidence sentence (quoted in the prompt).

The grammars allow no quote or backslash, only one sentence in the gist and at most
:data:`POSITION_MAX_WORDS` words in a position, so every answer parses. Then every claim is checked
(:mod:`briefing.summarise.claims`): names, quantities, negation, who did what, causes, cut-off
phrases and, when configured, an entailment question to the same model about the article
sentences the claim paraphrases, answered by the margin of "yes" over "no". A gist that fails is written once more, told why; if that fails too, the brief has no
gist (never an unguarded one). A position is checked against its evidence sentence only; one
that fails keeps the extractive position. The verbatim evidence stays attached either way.

Every prompt for one article starts with the same text (the article), so llama.cpp evaluates it
once and reuses it from its KV cache for the retry and the positions: the article is read once
per brief, though the model answers several short questions about it. The entailment question
(a few sentences, not the article) goes to a second context of the same model, so it does not
push the article out of the first one's cache.

A base model without a chat template (Gemma 3 270M) is asked with a plain "summary:" prompt
for the gist only; its briefs keep the extractive positions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from briefing.models import Actor, Brief
from briefing.summarise.base import Document
from briefing.summarise.claims import ClaimChecker, Source
from briefing.summarise.llama_runtime import LlamaModel
from briefing.summarise.prompts import PromptSet

log = logging.getLogger(__name__)

GIST_MAX_WORDS = 35  # "at most ~30 words": the prompt says 30, a longer sentence is rejected
POSITION_MAX_WORDS = 12
# The grammar's caps are looser than the limits: a model forced to stop mid-thought glues words
# together ("andTV's'agony") to say the rest; a sentence over the limit is rejected instead.
GRAMMAR_SLACK = 2
MAX_POSITIONS = 3  # positions condensed per brief (the most prominent actors)
JUDGE_SENTENCES = 3  # source sentences the entailment question quotes
# A position is condensed from one sentence, so most of its content words must be that sentence's:
# at least half (fixed before measuring, not tuned; docs/eval.md). Without it "wants the tax cut
# reversed" passed as a chairman's praise of his new coach: no name or number to catch.
POSITION_MIN_COVERAGE = 0.5

_CHARS = r'c ::= [^"\\\x00-\x1f\x7f .!?]'
# One sentence: a capital or digit first, words separated by single spaces, no sentence end
# inside (a full stop only between digits, as in "3.5" or "£7.8m": "10:00.The man" is two
# sentences, "assistance.100000" is debris), one end mark.
SENTENCE_RULES = (
    f'sent ::= [A-Z0-9] w0 (" " w){{3,{GIST_MAX_WORDS * GRAMMAR_SLACK}}} [.!?]\n'
    'w0 ::= c{0,23} | c{0,16} [0-9] dec\n'
    'w ::= c{1,24} | c{0,16} [0-9] dec\n'
    'dec ::= "." [0-9]{1,6} c{0,4}\n'
    f"{_CHARS}\n")
YES_NO = 'root ::= "yes" | "no"\n'


PLAIN_GRAMMAR = f"root ::= \" \"? sent\n{SENTENCE_RULES}"
# A position: 2 to POSITION_MAX_WORDS words and a full stop. Capped at the limit itself (not with
# slack, as the gist is): a position asked for in 12 words that runs on is better cut and then
# rejected by the guard's cut-off check than glued together.
POSITION_GRAMMAR = (f'root ::= " "? [A-Za-z0-9] w0 (" " w){{1,{POSITION_MAX_WORDS - 1}}} "."\n'
                    + SENTENCE_RULES.split("\n", 1)[1])


def strip_name(position: str, name: str) -> str:
    """A position without the "Name:" the model sometimes copies from the prompt's list."""
    position = position.strip()
    for prefix in (f"{name}:", f"{name} -", f"{name},"):
        if position.lower().startswith(prefix.lower()):
            return position[len(prefix):].strip()
    return position


@dataclass
class GistStats:
    """What one brief cost and what the guard did, for the benchmark and the evaluation."""

    seconds: float = 0.0  # in the model's completions
    gist_wall: float = 0.0  # from the start to the gist decided (written, checked, rewritten): what /summary waits for first
    wall: float = 0.0  # the whole brief: the gist and the positions
    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    new_tokens: int = 0
    first_gist: str = ""  # the model's first sentence, before the guard
    second_gist: str = ""  # the retry, when there was one
    rejected: list[str] = field(default_factory=list)  # why each rejected sentence was rejected
    positions: list[str] = field(default_factory=list)  # the model's positions, before the guard


class Abstractor:
    def __init__(self, llama: LlamaModel, checker: ClaimChecker, prompts: PromptSet, *,
                 max_input_tokens: int = 1536, max_new_tokens: int = 160, entailment: bool = True,
                 label: str = "", judge: LlamaModel | None = None, entail_threshold: float = 0.0) -> None:
        self.llama = llama
        self.checker = checker
        self.prompts = prompts
        self.max_input_tokens = max_input_tokens
        self.max_new_tokens = max_new_tokens
        self.entailment = entailment
        # The entailment question goes to its own context of the same model (llama.cpp shares the
        # mapped weights), so the article stays in the writer's KV cache for the retry and positions.
        self.judge = judge or llama
        self.entail_threshold = entail_threshold
        self.label = label or llama.path
        self.chat = llama.has_chat_template
        self.last = GistStats()
        self._prefix: tuple[Document, str] | None = None  # the last article and its cut text (prefix)

    # -- prompts -------------------------------------------------------------

    def prefix(self, doc: Document) -> str:
        """The article, cut to ``max_input_tokens`` at a paragraph or sentence end: every prompt starts with it.

        Cut once per article: the gist, its rewrite and each position all start with the same text
        (which is also what lets llama.cpp reuse its KV cache), so the last one is kept.
        """
        if self._prefix is not None and self._prefix[0] is doc:
            return self._prefix[1]
        text = self._cut(doc)
        self._prefix = (doc, text)
        return text

    def _cut(self, doc: Document) -> str:
        body = doc.text.strip()
        if self.llama.count(body) > self.max_input_tokens:
            paras = body.split("\n\n")
            kept: list[str] = []
            for para in paras:
                if self.llama.count("\n\n".join([*kept, para])) > self.max_input_tokens:
                    break
                kept.append(para)
            body = "\n\n".join(kept) or body[: self.max_input_tokens * 3]
        title = f"{doc.title.strip()}\n\n" if doc.title.strip() else ""
        return f"Article:\n{title}{body}\n\n"

    def _prompt(self, doc: Document, task: str) -> str:
        text = self.prefix(doc) + task
        return self.llama.chat_prompt(text) if self.chat else text

    def _call(self, prompt: str, gbnf: str, max_tokens: int) -> str:
        with self.llama.lock:
            out = self.llama.complete(prompt, max_tokens, gbnf)
        s = self.last
        s.seconds += out.seconds
        s.calls += 1
        s.prompt_tokens += out.prompt_tokens
        s.cached_tokens += out.cached_tokens
        s.new_tokens += out.new_tokens
        return out.text

    # -- asking --------------------------------------------------------------

    def ask_gist(self, doc: Document, problem: str = "") -> str:
        """One sentence about the article; ``problem`` says why the previous one was rejected."""
        if not self.chat:
            task = self.prompts.render("gist_plain", words=30)
        elif problem:
            task = self.prompts.render("gist_retry", words=30, problem=problem)
        else:
            task = self.prompts.render("gist", words=30)
        return self._call(self._prompt(doc, task), PLAIN_GRAMMAR, self.max_new_tokens).strip()

    def ask_position(self, doc: Document, actor: Actor) -> str:
        """What ``actor`` says or wants, in at most POSITION_MAX_WORDS words, from its evidence sentence."""
        task = self.prompts.render("position", actor=actor.name, evidence=actor.evidence,
                                   words=POSITION_MAX_WORDS - 2)
        text = self._call(self._prompt(doc, task), POSITION_GRAMMAR, POSITION_MAX_WORDS * 4)
        return self.without_subject(strip_name(text.strip().strip('"').rstrip("."), actor.name))

    def without_subject(self, position: str) -> str:
        """ "The EU has vowed sanctions" -> "has vowed sanctions": the actor's name goes before every position."""
        doc = self.checker.nlp(position)
        root = next((t for t in doc if t.dep_ == "ROOT"), None)
        subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None) if root is not None else None
        if root is None or subj is None or root.pos_ not in ("VERB", "AUX") or subj.left_edge.i != 0:
            return position
        rest = doc[subj.right_edge.i + 1:].text.strip()
        return rest if len(rest.split()) >= 2 else position

    def stated_margin(self, sentence: str, src: Source) -> float:
        """The judge's answer to "do the source sentences this claim paraphrases state all of it?".

        The logit margin of "yes" over "no" (> 0: yes) from :attr:`judge`, asked about the
        :data:`JUDGE_SENTENCES` source sentences sharing most content words with the claim, not the
        whole article (asked about the whole article the 1.5B model said "yes" to 56 of 59 labelled
        sentences). A server without logits answers yes (1.0) or no (-1.0).
        """
        passage = " ".join(s.text for s in self.checker.aligned(self.checker.nlp(sentence), src, JUDGE_SENTENCES))
        prompt = self.judge.chat_prompt(self.prompts.render("entail", source=passage, claim=sentence))
        margin = getattr(self.judge, "answer_margin", None)
        with self.judge.lock:
            value = (margin(prompt) if margin is not None
                     else 1.0 if self.judge.complete(prompt, 2, YES_NO).text.strip() == "yes" else -1.0)
        self.last.calls += 1
        return value

    # -- the guard -----------------------------------------------------------

    def verdict(self, doc: Document, sentence: str, src: Source, limit: int = GIST_MAX_WORDS, min_coverage: float | None = None) -> str | None:
        """Why ``sentence`` is unsupported by ``src`` (rules, then the model), or None."""
        if not sentence:
            return "no sentence"
        if len(sentence.split()) > limit:
            return f"longer than {limit} words"
        reason = self.checker.check(sentence, src, min_coverage)
        if reason is None and self.entailment:
            margin = self.stated_margin(sentence, src)
            if margin < self.entail_threshold:
                reason = f"the model does not find it stated by the source sentences it paraphrases (margin {margin:.1f})"
        return reason

    # -- a brief ---------------------------------------------------------------

    def write_gist(self, doc: Document, article: Source, flags: list[str]) -> str:
        """A guarded gist: the model's sentence, or its one rewrite, or "" (each rejection flagged)."""
        gist = self.ask_gist(doc)
        self.last.first_gist = gist
        reason = self.verdict(doc, gist, article)
        if not reason:
            return gist
        self.last.rejected.append(reason)
        flags.append(f"gist {gist!r} rejected ({reason}); written again")
        gist = self.ask_gist(doc, problem=f'"{gist}" ({reason})' if gist else reason)
        self.last.second_gist = gist
        reason = "the same sentence again" if gist == self.last.first_gist else self.verdict(doc, gist, article)
        if not reason:
            return gist
        self.last.rejected.append(reason)
        flags.append(f"second gist {gist!r} rejected ({reason}); the brief has no gist")
        return ""

    def write_positions(self, doc: Document, actors: list[Actor], flags: list[str]) -> list[Actor]:
        """The actors, the first MAX_POSITIONS with the model's position where the guard keeps it."""
        out = list(actors)
        for i, actor in enumerate(actors[:MAX_POSITIONS] if self.chat else []):
            try:
                position = self.ask_position(doc, actor)
            except Exception as exc:  # noqa: BLE001 - the gist stands; the extractive positions stay
                log.warning("no model positions for %r: %s", doc.title[:80], exc)
                flags.append(f"no model positions: the model failed ({exc})")
                break
            self.last.positions.append(position)
            # Checked as the claim it makes: "Vladimir Putin warns against ...", not a bare fragment.
            claim = f"{actor.name} {position[:1].lower()}{position[1:]}" if position else ""
            # The name is the actor's (grounded in the article by the engine); the claim is the evidence's.
            evidence = self.checker.source(f"{actor.name}: {actor.evidence}")
            why = self.verdict(doc, claim, evidence, limit=POSITION_MAX_WORDS + len(actor.name.split()), min_coverage=POSITION_MIN_COVERAGE)
            if why:
                flags.append(f"model position {position!r} for {actor.name!r} rejected ({why}); "
                             "the extractive one is kept")
                continue
            out[i] = replace(actor, position=position)
            flags.append(f"position of {actor.name!r} condensed by {self.label} from its evidence sentence "
                         "and checked against it")
        return out

    def improve(self, brief: Brief, doc: Document) -> Brief:
        """The brief with a guarded gist and model-condensed positions (or without, saying why)."""
        self.last = GistStats()
        start = time.perf_counter()
        flags = list(brief.flags)
        gist = self.write_gist(doc, self.checker.source(doc.text), flags)
        self.last.gist_wall = time.perf_counter() - start
        actors = self.write_positions(doc, brief.actors, flags)
        if gist:
            flags.append(f"gist written by {self.label} and checked by the claim guard")
        self.last.wall = time.perf_counter() - start
        log.info("gist for %r in %.1fs, with positions %.1fs (%d calls, %d/%d prompt tokens from cache)",
                 doc.title[:60], self.last.gist_wall, self.last.wall, self.last.calls, self.last.cached_tokens,
                 self.last.prompt_tokens)
        return replace(brief, gist=gist, actors=actors, flags=flags)
