"""The ``hybrid`` engine: the model's headline over the extractive engine's sentences and actors.

Measured on the development set (docs/eval.md), the embedded SmolLM2's own summary sentences
score far below the extractive selector on ROUGE-2, and using them to re-rank the extractive
shortlist did not help either; what a small instruct model does well is a short headline.
So this engine asks the model for the headline only (one short generation, guarded like every
model text), and takes the summary sentences and actors — verbatim article text — from the
extractive engine. It is the mix to use when articles arrive without a usable title.
"""

from __future__ import annotations

from briefing.models import Brief
from briefing.summarise.base import Document
from briefing.summarise.extractive import headline_for, select_sentences
from briefing.summarise.transformers_engine import TransformersEngine, Work


class HybridEngine(TransformersEngine):
    name = "hybrid"

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        works = [self._prepare(d) for d in docs]
        if self.style != "encoder":  # a summary-only model writes no headline
            self._headlines(works)
        return [self._hybrid(w) for w in works]

    def _hybrid(self, w: Work) -> Brief:
        summary = select_sentences(self.extractive.nlp, w.sents, self.cfg.summary_sentences, self.extractive.weights)
        brief = Brief(headline=w.headline or "", summary=summary, actors=self.extractive_actors(w.parsed),
                      engine=self.name, model=self.model, flags=w.flags)
        brief = self.guard.check(brief, w.doc.text, w.parsed)
        brief.headline = brief.headline or headline_for(w.doc.title, brief.summary or w.sents)
        return brief
