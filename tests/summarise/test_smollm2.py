"""The embedded SmolLM2-135M-Instruct, for real, on the seed article (about a minute on 2 cores)."""

from __future__ import annotations

import pytest

from briefing.config import SummariserConfig
from briefing.summarise import build_engine
from briefing.summarise.base import Document
from briefing.summarise.transformers_engine import TransformersEngine
from tests.summarise.conftest import needs_smollm2

pytestmark = [pytest.mark.slow, needs_smollm2]


@pytest.fixture(scope="module")
def engine() -> TransformersEngine:
    # The transformers path on purpose (with llama-cpp-python installed, runtime auto picks llama.cpp).
    engine = build_engine(SummariserConfig(engine="transformers", max_new_tokens=72, runtime="transformers"))
    assert isinstance(engine, TransformersEngine), "the embedded model did not load"
    return engine


def test_embedded_model_loads_from_the_installed_package(engine: TransformersEngine) -> None:
    assert engine.lm.kind == "causal" and engine.lm.has_chat_template
    assert engine.lm.source.gguf_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert engine.model == "embedded:smollm2-135m-instruct"


def test_real_output_on_the_seed_is_guarded(engine: TransformersEngine, seed_doc: Document) -> None:
    brief = engine.summarise(seed_doc)
    text = " ".join([brief.headline, *brief.summary, *(a.position for a in brief.actors)]).lower()
    # The claim the model invented when tried by hand must not reach a reader.
    assert "step down" not in text
    art = engine.guard.article(seed_doc.text)
    for sentence in brief.summary:
        verdict = engine.guard.support(sentence, art)
        assert verdict.reason is None, (sentence, verdict.reason)
    assert brief.engine == "transformers" and 1 <= len(brief.summary) <= 3
    assert brief.headline == seed_doc.title  # the publisher's title is kept
    assert brief.grounding_score is not None and brief.grounding_score >= engine.cfg.grounding_threshold
    assert [a.name for a in brief.actors][:1] == ["Vladimir Putin"]
    print("\n".join([brief.headline, *brief.summary, *brief.flags]))


def test_json_style_on_the_real_model_records_its_fallbacks(engine: TransformersEngine,
                                                            seed_doc: Document) -> None:
    cfg = engine.cfg.model_copy(update={"prompt_style": "json", "max_new_tokens": 48})
    json_engine = TransformersEngine(cfg, lm=engine.lm, extractive=engine.extractive, prompts=engine.prompts)
    brief = json_engine.summarise(seed_doc)
    assert brief.summary and brief.headline
    # SmolLM2-135M does not write usable JSON for a whole brief (docs/eval.md): the retry and
    # the per-field fallbacks are recorded, and what is shown is still grounded.
    assert any("JSON" in f or "extractive" in f for f in brief.flags)
    assert "step down" not in " ".join(brief.summary).lower()
