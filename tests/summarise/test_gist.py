"""The gist through llama.cpp on a tiny GGUF the tests build: grammars, the KV cache, the guard's control flow.

The tiny model writes noise; the grammars still force it into one sentence and JSON that parses,
and the guard must never let its noise through. The path where a faithful gist is kept is tested
with the model's answer fixed (the guard, the positions and the brief are real).
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest

from briefing.config import SummariserConfig
from briefing.models import Actor, Brief
from briefing.summarise import build_engine
from briefing.summarise.base import Document
from briefing.summarise.claims import ClaimChecker
from briefing.summarise.gist import PLAIN_GRAMMAR, POSITION_GRAMMAR, POSITION_MAX_WORDS, YES_NO, Abstractor
from briefing.summarise.gist_engine import GistEngine
from briefing.summarise.nlp import load_spacy
from briefing.summarise.prompts import load_prompts
from tests.builders import tiny_gguf
from tests.support.config import SEEDS

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36)")

from briefing.summarise.llama_runtime import LlamaModel, load_llama  # noqa: E402


@pytest.fixture(scope="session")
def gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    texts = [p.read_text(encoding="utf-8") for p in sorted((SEEDS / "articles").iterdir())]
    return tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", texts)


@pytest.fixture(scope="session")
def llama(gguf_path: Path) -> LlamaModel:
    return load_llama(gguf_path, n_ctx=2048, threads=1)


def _abstractor(llama: LlamaModel, **kw: object) -> Abstractor:
    return Abstractor(llama, ClaimChecker(load_spacy()), load_prompts("prompts"), max_input_tokens=600,
                      max_new_tokens=1200, **kw)  # type: ignore[arg-type]


def test_the_chat_template_of_the_gguf_is_used(llama: LlamaModel) -> None:
    prompt = llama.chat_prompt("Hello there")
    assert prompt == "<|im_start|>user\nHello there<|im_end|>\n<|im_start|>assistant\n"


def test_the_gist_is_always_one_sentence(llama: LlamaModel, seed_doc: Document) -> None:
    prompt = llama.chat_prompt(f"Article:\n{seed_doc.text[:1500]}\n\nWrite one sentence.")
    gist = llama.complete(prompt, 1200, PLAIN_GRAMMAR).text.strip()
    assert gist[0].isupper() or gist[0].isdigit()
    assert gist[-1] in ".!?" and not any(m in gist[:-1] for m in (". ", "! ", "? "))
    assert len(gist.split()) <= 2 * 35 + 1  # the grammar's cap; over 35 words the guard rejects it


def test_a_position_never_runs_past_its_word_limit(llama: LlamaModel, seed_doc: Document) -> None:
    for question in ("What does Putin want?", "What does the EU say?"):
        prompt = llama.chat_prompt(f"Article:\n{seed_doc.text[:1500]}\n\n{question}")
        position = llama.complete(prompt, 400, POSITION_GRAMMAR).text.strip()
        assert 2 <= len(position.split()) <= POSITION_MAX_WORDS and position.endswith(".")
        assert '"' not in position


def test_yes_no_is_all_the_model_can_answer(llama: LlamaModel) -> None:
    for question in ("Is the sky green?", "Did Putin warn against interference?", "Answer anything at all."):
        assert llama.complete(llama.chat_prompt(question), 5, YES_NO).text in ("yes", "no")


def test_prompts_about_one_article_reuse_its_prefix_from_the_kv_cache(llama: LlamaModel, seed_doc: Document) -> None:
    prefix = f"Article:\n{seed_doc.text[:1500]}\n\n"
    llama.complete(llama.chat_prompt(prefix + "First question?"), 2, YES_NO)
    second = llama.complete(llama.chat_prompt(prefix + "Second question?"), 2, YES_NO)
    assert second.cached_tokens >= llama.count(prefix) - 2  # the article was not read again
    other = llama.complete(llama.chat_prompt("Article:\nSomething else entirely.\n\nQ?"), 2, YES_NO)
    assert other.cached_tokens < 20  # only the chat header and "Article:" are shared


def test_noise_never_reaches_the_reader(llama: LlamaModel, seed_doc: Document) -> None:
    """A gist the guard rejects is written once more, then dropped: never shown unguarded."""
    brief = Brief(headline="h", summary=["s."], actors=[Actor("Vladimir Putin", "President", "warns",
                                                              "Putin issued a warning.")], engine="extractive")
    ab = _abstractor(llama)
    out = ab.improve(brief, seed_doc)
    assert out.gist == ""
    assert ab.last.first_gist and ab.last.second_gist  # it tried twice
    assert any(f.startswith("second gist") and "no gist" in f for f in out.flags)
    assert out.actors[0].position == "warns" or out.actors[0].position in ab.last.first_gist + json.dumps(out.flags)


class Scripted(Abstractor):
    """The model's answers fixed, to test what the guard keeps (the rest is the real code)."""

    answers: list[str] = []
    positions: dict[str, str] = {}

    def ask_gist(self, doc: Document, problem: str = "") -> str:
        self.problems = [*getattr(self, "problems", []), problem]
        return self.answers.pop(0)

    def ask_position(self, doc: Document, actor: Actor) -> str:
        return self.positions.get(actor.name, "")


def test_a_faithful_gist_and_position_are_kept_and_marked(llama: LlamaModel, seed_doc: Document) -> None:
    ab = Scripted(llama, ClaimChecker(load_spacy()), load_prompts("prompts"), entailment=False)
    ab.answers = ["Vladimir Putin warned against foreign interference in Belarus after protests against "
                  "Lukashenko's re-election."]
    ab.positions = {"Vladimir Putin": "Warns against any external interference in Belarus"}
    evidence = ("Moscow/Minsk: Russian President Vladimir Putin has issued a warning and said, ‘We don’t want "
                "to see any external interference in Belarus.")
    brief = Brief(headline="h", summary=["s."], actors=[Actor("Vladimir Putin", "Russian President",
                                                              "has issued a warning", evidence)], engine="extractive")
    out = ab.improve(brief, seed_doc)
    assert out.gist.startswith("Vladimir Putin warned")
    assert out.actors[0].position == "Warns against any external interference in Belarus"
    assert out.actors[0].evidence == evidence  # the verbatim evidence stays attached


def test_a_position_that_its_evidence_does_not_support_keeps_the_extractive_one(
        llama: LlamaModel, seed_doc: Document) -> None:
    ab = Scripted(llama, ClaimChecker(load_spacy()), load_prompts("prompts"), entailment=False)
    ab.answers = ["Vladimir Putin warned against foreign interference in Belarus."]
    ab.positions = {"Vladimir Putin": "Wants to see external interference in Belarus",  # the negation dropped
                    "Lukashenko": "Announces his victory with over 90% of the vote",  # 80% in the evidence
                    "EU": "Vows sanctions against the"}  # cut off at the word limit
    actors = [Actor("Vladimir Putin", "Russian President", "says: We don't want to see any external interference",
                    "Russian President Vladimir Putin said, 'We don't want to see any external interference in "
                    "Belarus.'"),
              Actor("Lukashenko", "President", "announces his victory", "Last week, President Lukashenko had "
                    "announced his victory in the Belarusian Presidential elections winning over 80% of the vote."),
              Actor("EU", "organisation", "vows sanctions against the Belarusian regime",
                    "The EU has vowed sanctions against the Belarusian regime.")]
    out = ab.improve(Brief("h", ["s."], actors, "extractive"), seed_doc)
    assert [a.position for a in out.actors] == [a.position for a in actors]
    assert [a.evidence for a in out.actors] == [a.evidence for a in actors]
    rejected = [f for f in out.flags if f.startswith("model position")]
    assert len(rejected) == 3 and "'want'" in rejected[0] and "90%" in rejected[1] and "cut short" in rejected[2]


def test_an_invented_number_is_regenerated_once_with_the_reason(llama: LlamaModel, seed_doc: Document) -> None:
    ab = Scripted(llama, ClaimChecker(load_spacy()), load_prompts("prompts"), entailment=False)
    ab.answers = ["Over 300,000 people protested against Lukashenko's re-election in Belarus.",
                  "More than 200,000 people protested against Lukashenko's re-election in Belarus."]
    out = ab.improve(Brief("h", ["s."], [], "extractive"), seed_doc)
    assert out.gist.startswith("More than 200,000")
    assert "300,000" in ab.problems[1]  # the retry was told what was wrong
    assert any("300,000" in f and "written again" in f for f in out.flags)


def test_build_engine_adds_the_gist_and_falls_back_without_the_model(gguf_path: Path, tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    engine = build_engine(SummariserConfig(gist=True, gist_model=str(gguf_path), gist_max_input_tokens=500))
    assert isinstance(engine, GistEngine)
    caplog.set_level(logging.WARNING)
    plain = build_engine(SummariserConfig(gist=True, models_dir=str(tmp_path)))
    assert not isinstance(plain, GistEngine)
    assert any("briefing model install" in r.getMessage() for r in caplog.records)


def test_a_failing_model_leaves_the_brief_as_it_was(gguf_path: Path, seed_doc: Document) -> None:
    engine = build_engine(SummariserConfig(gist=True, gist_model=str(gguf_path), gist_max_input_tokens=500))
    assert isinstance(engine, GistEngine)
    broken = copy.copy(engine.abstractor)
    broken.ask_gist = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("decode failed"))  # type: ignore[method-assign]
    engine.abstractor = broken
    brief = engine.summarise(seed_doc)
    assert brief.gist == "" and brief.summary and any("decode failed" in f for f in brief.flags)


def test_briefing_eval_prints_the_gist_columns(gguf_path: Path, seed_doc: Document, tmp_path: Path) -> None:
    from briefing.evaluation.evaluate import Example, evaluate, format_table
    from tests.support.config import make_config

    config = make_config(tmp_path, summariser={"gist": True, "gist_model": str(gguf_path),
                                               "gist_max_input_tokens": 500})
    example = Example("seed-1", seed_doc.text, "Putin warned against foreign interference in Belarus.", "xsum")
    result = evaluate(config, [example])
    table = format_table(result)
    assert "gist (model-written" in table and "inv.before" in table
    assert [r.dataset for r in result.gist] == ["xsum", "overall"]
    assert result.gist[0].n == 1 and result.gist[0].kept == 0  # noise never kept, so never scored as shown
    assert result.gist[0].positions_asked == 3 and "positions" in table  # the three most prominent actors


@pytest.mark.timeout(1800)  # a 1.5B model on 2 shared cores: minutes, not seconds
def test_the_embedded_model_writes_a_guarded_gist_and_positions_on_a_seed_article(seed_doc: Document) -> None:
    """The real path of `make demo`: the shipped gist model on a seed article, guard and all.

    Runs only where `briefing model install` has put the model (skipped in CI, which has neither
    llama-cpp-python nor the model); greedy decoding makes its answer the same on every run.
    """
    from briefing.summarise.weights import OFFLINE, installed_path, models_dir

    cfg = SummariserConfig(gist=True, threads=2)
    if installed_path(OFFLINE[cfg.gist_model], models_dir(cfg.models_dir)) is None:
        pytest.skip(f"{cfg.gist_model} is not installed (briefing model install)")
    engine = build_engine(cfg)
    assert isinstance(engine, GistEngine)
    brief = engine.summarise(seed_doc)
    written = [f for f in brief.flags if f.startswith("position of") and "condensed by" in f]
    assert brief.gist and any("checked by the claim guard" in f for f in brief.flags)
    assert written, brief.flags  # at least one key actor's position in the model's words
    extractive = engine.first(seed_doc)
    for before, after in zip(extractive.actors, brief.actors):
        assert after.evidence == before.evidence  # the verbatim evidence stays attached
        assert len(after.position.split()) <= 12 or after.position == before.position
