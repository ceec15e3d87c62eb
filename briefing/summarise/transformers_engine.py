"""The ``transformers`` engine: a Hugging Face model writes the brief, the guard checks it.

Decoder-only instruct models are prompted in one of two styles (``summariser.prompt_style``):
``json`` asks for the whole brief as one JSON object (parsed strictly, repaired once, retried
once, then replaced field by field); ``fields`` asks one short question per field (headline,
summary) and takes actors from the extractive finder. Encoder–decoder models (BART, PEGASUS,
T5) write the summary; the headline is the article's title (or the summary's first sentence)
and actors come from the extractive finder. Long articles are summarised in parts, then the
part summaries are summarised. Every brief passes the faithfulness guard; whatever a fallback
replaced is recorded in ``brief.flags``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field

from spacy.tokens import Doc

from briefing.config import SummariserConfig
from briefing.models import Actor, Brief
from briefing.summarise.base import Document
from briefing.summarise.chunking import split_parts
from briefing.summarise.extractive import ExtractiveEngine, headline_for, select_sentences, sentences
from briefing.summarise.generation import Generated, Generator
from briefing.summarise.guard import Guard, load_embedder, norm
from briefing.summarise.llama_runtime import LlamaGenerator, LlamaLoaded
from briefing.summarise.loader import LoadedModel, load_model
from briefing.summarise.output import Answer, parse_answer
from briefing.summarise.prompts import PromptSet, load_prompts

VERSION = "transformers-2"
HEADLINE_TOKENS = 32
# A headline comes from the lede: the first paragraphs up to this many tokens are enough,
# and prefilling a whole long article for 32 tokens of output would dominate the cost.
HEADLINE_INPUT_TOKENS = 384
# Part summaries are fed to the combine prompt: keep them short enough that many fit.
PART_TOKENS = 120
# Rounds of summarising summaries before the first group is taken as it is.
COMBINE_ROUNDS = 3


@dataclass
class Work:
    """One article on its way through the engine."""

    doc: Document
    parsed: Doc
    sents: list[str]
    parts: list[str]
    flags: list[str] = field(default_factory=list)
    headline: str | None = None
    summary: list[str] | None = None
    actors: list[Actor] | None = None
    timed_out: bool = False


def split_summary(text: str) -> list[str]:
    """Sentences of a generated summary; list markers and a lead-in ('Summary:') removed."""
    text = re.sub(r"^\s*(here is|here's)?[^.\n]*summary[^.\n]*:\s*", "", text, flags=re.IGNORECASE)
    text = re.sub(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+", "", text)
    sents = [s.strip() for s in re.split(r"(?<=[.!?])[\"']?\s+(?=[\"'A-Z0-9])", " ".join(text.split()))]
    if sents and not re.search(r"[.!?][\"')\]]*$", sents[-1]):
        sents.pop()  # cut off by the token or time limit: half a sentence says nothing reliable
    return [s for s in sents if len(s.split()) >= 3]


def clean_headline(text: str, max_words: int = 16) -> str:
    """The first line, without a 'Headline:' label or quotes; empty when it is not a headline."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^\s*(headline|title)\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip("\"'*#").strip()
    return line if len(line.split()) <= max_words else ""


def merge_actors(groups: list[list[Actor]], max_actors: int) -> list[Actor]:
    """Actors from several parts: one per person, by name or surname, first mention kept."""
    out: list[Actor] = []
    for actor in (a for g in groups for a in g):
        key = norm(actor.name).split()
        if any(key and (norm(o.name) == " ".join(key) or norm(o.name).split()[-1:] == key[-1:]) for o in out):
            continue
        out.append(actor)
    return out[:max_actors]


class TransformersEngine:
    name = "transformers"

    def __init__(self, cfg: SummariserConfig, lm: LoadedModel | LlamaLoaded | None = None,
                 extractive: ExtractiveEngine | None = None, prompts: PromptSet | None = None) -> None:
        self.cfg = cfg
        self.prompts = prompts or load_prompts(cfg.prompts_dir)  # validated before the model loads
        self.extractive = extractive or ExtractiveEngine(cfg)
        self.lm = lm or load_model(cfg)
        self.model = cfg.model
        if isinstance(self.lm, LlamaLoaded):  # a GGUF on the CPU: llama.cpp (docs/benchmarks.md)
            self.gen = LlamaGenerator(self.lm, cfg.max_new_tokens, cfg.timeout_seconds)
        else:
            self.gen = Generator(self.lm, cfg.max_new_tokens, cfg.batch_size, cfg.timeout_seconds)
        self.guard = Guard(self.extractive.nlp, cfg.grounding_threshold, load_embedder())
        self.style = cfg.prompt_style if self.lm.kind == "causal" and self.lm.has_chat_template else "encoder"
        settings = f"{self.style}|{cfg.summary_sentences}|{cfg.max_actors}|{cfg.max_new_tokens}|" \
                   f"{cfg.max_input_tokens}|{cfg.grounding_threshold}|{self.extractive.version}"
        self.version = f"{VERSION}+{self.prompts.version}+{hashlib.sha256(settings.encode()).hexdigest()[:8]}"

    # -- public ------------------------------------------------------------

    def summarise(self, doc: Document) -> Brief:
        return self.summarise_many([doc])[0]

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        works = [self._prepare(d) for d in docs]
        if self.style == "json":
            self._json(works)
        else:
            self._summaries(works)
            if self.style == "fields":
                self._headlines(works)
        return [self._finish(w) for w in works]

    # -- steps -------------------------------------------------------------

    @property
    def part_budget(self) -> int:
        """Article tokens per prompt: the configured limit, within the model's context."""
        overhead = self.gen.count(self.gen.as_prompt(self.prompts.render("brief_json", article="", title="",
                                                                         sentences=3, max_actors=6)))
        return max(32, min(self.cfg.max_input_tokens, self.gen.input_limit) - overhead)

    def _prepare(self, doc: Document) -> Work:
        parsed = self.extractive.parse(doc.text)
        return Work(doc, parsed, sentences(parsed), split_parts(doc.text, self.gen.count, self.part_budget))

    def _ask(self, template: str, items: list[dict[str, object]], max_new_tokens: int | None = None) -> list[Generated]:
        values = {"sentences": self.cfg.summary_sentences, "max_actors": self.cfg.max_actors}
        prompts = [self.prompts.render(template, **{**values, **item}) for item in items]
        if self.style != "encoder":
            prompts = [self.gen.as_prompt(p) for p in prompts]
        return self.gen.generate(prompts, max_new_tokens)

    def _summaries(self, works: list[Work]) -> None:
        """Summary of each article: of its parts first when it has several, then of those."""
        template = "encoder" if self.style == "encoder" else "summary"
        jobs = [(w, part) for w in works for part in w.parts]
        answers = self._ask(template, [{"article": p, "title": w.doc.title} for w, p in jobs],
                            min(PART_TOKENS, self.cfg.max_new_tokens) if any(len(w.parts) > 1 for w in works)
                            else None)
        by_work: dict[int, list[str]] = {}
        for (w, _), ans in zip(jobs, answers):
            by_work.setdefault(id(w), []).append(ans.text)
            w.timed_out |= ans.timed_out
        for w in works:
            texts = by_work[id(w)]
            w.summary = split_summary(texts[0]) if len(texts) == 1 else split_summary(self._combine(w, texts))

    def _combine(self, w: Work, texts: list[str]) -> str:
        """Summarise part summaries, in parts again if they are still too long together."""
        joined = "\n\n".join(f"Part {i}: {t}" for i, t in enumerate(texts, 1) if t.strip())
        w.flags.append(f"long article: summarised in {len(texts)} parts, then combined")
        template = "encoder" if self.style == "encoder" else "combine"
        key = "article" if self.style == "encoder" else "parts"
        groups = split_parts(joined, self.gen.count, self.part_budget)
        for _ in range(COMBINE_ROUNDS):
            if len(groups) == 1:
                break
            answers = self._ask(template, [{key: g, "title": w.doc.title} for g in groups])
            joined = "\n\n".join(a.text for a in answers)
            smaller = split_parts(joined, self.gen.count, self.part_budget)
            if len(smaller) >= len(groups):
                break  # summaries of the groups are no shorter than the groups: stop here
            groups = smaller
        if len(groups) > 1:
            w.flags.append(f"long article: {len(groups)} groups of part summaries left; the first was used")
        return self._ask(template, [{key: groups[0], "title": w.doc.title}])[0].text

    def _headlines(self, works: list[Work]) -> None:
        """A model headline for articles without a title; a publisher's title is kept as it is."""
        works = [w for w in works if not w.doc.title.strip()]
        ledes = [split_parts(w.parts[0], self.gen.count, min(HEADLINE_INPUT_TOKENS, self.part_budget))[0]
                 for w in works]
        answers = self._ask("headline", [{"article": lede, "title": w.doc.title} for w, lede in zip(works, ledes)],
                            HEADLINE_TOKENS)
        for w, ans in zip(works, answers):
            w.headline = clean_headline(ans.text) or None

    def _json(self, works: list[Work]) -> None:
        """One JSON answer per part: parse, repair once, retry once, then fall back per field."""
        jobs = [(w, part) for w in works for part in w.parts]
        answers = self._ask("brief_json", [{"article": p, "title": w.doc.title} for w, p in jobs])
        parsed: list[Answer | None] = []
        retry: list[int] = []
        for i, ((w, _), ans) in enumerate(zip(jobs, answers)):
            result, error = parse_answer(ans.text, self.cfg.max_actors)
            w.timed_out |= ans.timed_out
            if result is not None and result.repaired:
                w.flags.append(f"model JSON repaired ({error})")
            if result is None:
                retry.append(i)
            parsed.append(result)
        if retry:
            again = self._ask("retry_json", [{"article": jobs[i][1], "title": jobs[i][0].doc.title,
                                              "error": parse_answer(answers[i].text, 0)[1][:80]} for i in retry])
            for i, ans in zip(retry, again):
                result, error = parse_answer(ans.text, self.cfg.max_actors)
                jobs[i][0].flags.append(f"model JSON invalid, retried once: {'ok' if result else error}")
                parsed[i] = result
        self._merge_parts(works, jobs, parsed)

    def _merge_parts(self, works: list[Work], jobs: list[tuple[Work, str]], parsed: list[Answer | None]) -> None:
        for w in works:
            mine = [a for (ow, _), a in zip(jobs, parsed) if ow is w]
            good = [a for a in mine if a is not None]
            for a in good:
                for name, why in a.problems.items():
                    w.flags.append(f"model JSON field {name!r} {why}")
            w.headline = next((a.headline for a in good if a.headline), None)
            summaries = [a.summary for a in good if a.summary]
            if len(summaries) == 1 or len(w.parts) == 1:
                w.summary = summaries[0] if summaries else None
            elif summaries:
                w.summary = split_summary(self._combine(w, [" ".join(s) for s in summaries]))
            actor_lists = [a.actors for a in good if a.actors is not None]
            w.actors = merge_actors(actor_lists, self.cfg.max_actors) if actor_lists else None

    def _finish(self, w: Work) -> Brief:
        """Fill what the model did not give from the extractive engine, then guard the brief."""
        n = self.cfg.summary_sentences
        if w.timed_out:
            w.flags.append(f"generation stopped at the time limit ({self.cfg.timeout_seconds:g}s)")
        if w.actors is None:
            if self.style == "json":
                w.flags.append("actors from the extractive finder: the model gave no usable actor list")
            w.actors = self.extractive_actors(w.parsed)
        headline = "" if w.doc.title.strip() else w.headline or ""
        brief = Brief(headline=headline, summary=(w.summary or [])[:n], actors=w.actors,
                      engine=self.name, model=self.model, flags=w.flags)
        brief = self.guard.check(brief, w.doc.text, w.parsed)
        return self.complete(brief, w)

    def complete(self, brief: Brief, w: Work) -> Brief:
        """Per-field fallback after the guard: an empty field is filled from the article itself."""
        # The guard emptied an unsupported model headline; the article's own title comes next.
        brief.headline = brief.headline or headline_for(w.doc.title, brief.summary or w.sents)
        if not brief.summary:
            brief.summary = select_sentences(self.extractive.nlp, w.sents, self.cfg.summary_sentences,
                                             self.extractive.weights)
            brief.flags.append("summary from the extractive engine: no model sentence was supported")
            # Article sentences verbatim have support 1.0 (docs/eval.md): count them in the score.
            scored = len(brief.actors)
            brief.grounding_score = round(((brief.grounding_score or 0.0) * scored + len(brief.summary))
                                          / (scored + len(brief.summary)), 3)
        return brief

    def extractive_actors(self, parsed: Doc) -> list[Actor]:
        from briefing.summarise.actors import find_actors

        return find_actors(parsed, self.cfg.max_actors)
