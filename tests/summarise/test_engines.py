"""The transformers and hybrid engines on tiny random models, through the real loading path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from briefing.config import SummariserConfig
from briefing.errors import ConfigError, ModelUnavailableError
from briefing.summarise import build_engine
from briefing.summarise.base import Document
from briefing.summarise.chunking import split_parts
from briefing.summarise.loader import load_model, resolve_source
from briefing.summarise.transformers_engine import TransformersEngine
from tests.summarise.conftest import TINY_CONTEXT, tiny_cfg


def _shape_ok(brief, engine: str) -> None:  # type: ignore[no-untyped-def]
    assert brief.engine == engine
    assert brief.headline.strip()
    assert 1 <= len(brief.summary) <= 3 and all(s.strip() for s in brief.summary)
    assert brief.grounding_score is not None
    assert all(a.evidence for a in brief.actors)


def test_kind_comes_from_the_config_not_the_name(tiny_causal: Path, tiny_seq2seq: Path, tmp_path: Path) -> None:
    # A misleading directory name does not matter: is_encoder_decoder in config.json decides.
    renamed = tmp_path / "bart-large-cnn"
    renamed.symlink_to(tiny_causal, target_is_directory=True)
    assert load_model(tiny_cfg(renamed)).kind == "causal"
    lm = load_model(tiny_cfg(tiny_seq2seq))
    assert lm.kind == "seq2seq" and lm.context == TINY_CONTEXT


def test_model_is_loaded_once_per_process(tiny_causal: Path) -> None:
    assert load_model(tiny_cfg(tiny_causal)) is load_model(tiny_cfg(tiny_causal, max_new_tokens=8))


def test_decoder_only_brief_has_the_right_shape(tiny_causal: Path, seed_doc: Document) -> None:
    engine = build_engine(tiny_cfg(tiny_causal))
    assert isinstance(engine, TransformersEngine) and engine.style == "fields"
    brief = engine.summarise(seed_doc)
    _shape_ok(brief, "transformers")
    # A random model writes nonsense: the guard drops it and says so; the brief is still faithful.
    assert any(f.startswith("summary from the extractive engine") for f in brief.flags)
    assert brief.grounding_score is not None and brief.grounding_score > 0.8  # scores what is shown
    assert brief.actors and brief.actors[0].name == "Vladimir Putin"


def test_encoder_decoder_brief_has_the_right_shape(tiny_seq2seq: Path, seed_doc: Document) -> None:
    engine = build_engine(tiny_cfg(tiny_seq2seq))
    assert isinstance(engine, TransformersEngine) and engine.style == "encoder"
    brief = engine.summarise(seed_doc)
    _shape_ok(brief, "transformers")
    assert brief.headline == seed_doc.title  # no headline prompt for a summary-only model


def test_json_style_falls_back_per_field_and_records_why(tiny_causal: Path, seed_doc: Document) -> None:
    engine = build_engine(tiny_cfg(tiny_causal, prompt_style="json"))
    calls = engine.gen.calls
    brief = engine.summarise(seed_doc)
    _shape_ok(brief, "transformers")
    assert any("retried once" in f for f in brief.flags)
    assert any(f.startswith("actors from the extractive finder") for f in brief.flags)
    parts = len(split_parts(seed_doc.text, engine.gen.count, engine.part_budget))
    assert parts <= engine.cfg.batch_size
    assert engine.gen.calls - calls == 2  # every part answered in one batch, then one retry batch


def test_article_four_times_the_context_is_summarised_in_parts(tiny_causal: Path, seed_doc: Document) -> None:
    engine = build_engine(tiny_cfg(tiny_causal))
    copies = 4 * TINY_CONTEXT // engine.gen.count(seed_doc.text) + 1
    long_text = "\n\n".join([seed_doc.text] * copies)
    assert engine.gen.count(long_text) > 4 * TINY_CONTEXT
    parts = split_parts(long_text, engine.gen.count, engine.part_budget)
    assert len(parts) >= 4
    assert all(engine.gen.count(p) <= engine.part_budget for p in parts)
    # Consecutive parts overlap: the end of one part opens the next.
    assert parts[1].split("\n\n")[0] in parts[0]
    brief = engine.summarise(Document(seed_doc.title, long_text))
    _shape_ok(brief, "transformers")
    assert any(f.startswith(f"long article: summarised in {len(parts)} parts") for f in brief.flags)


def test_batch_gives_the_same_briefs_as_one_by_one(tiny_causal: Path, seed_doc: Document) -> None:
    engine = build_engine(tiny_cfg(tiny_causal, batch_size=4))
    other = Document("Harbour strike", "Dock workers in the harbour walked out on Monday, the union said. "
                     "The port authority said talks would resume on Friday.")
    together = engine.summarise_many([seed_doc, other])
    assert [b.summary for b in together] == [engine.summarise(d).summary for d in (seed_doc, other)]


def test_missing_model_falls_back_to_extractive_with_one_clear_paragraph(
        tmp_path: Path, seed_doc: Document, caplog: pytest.LogCaptureFixture) -> None:
    cfg = SummariserConfig(engine="transformers", model="example-org/not-cached-model",
                           cache_dir=str(tmp_path / "hf"))
    with caplog.at_level(logging.WARNING):
        engine = build_engine(cfg)
    assert engine.name == "extractive"
    assert engine.summarise(seed_doc).engine == "extractive"
    message = "\n".join(r.getMessage() for r in caplog.records)
    assert "'example-org/not-cached-model' is not available" in message
    assert str(tmp_path / "hf") in message
    assert "briefing model fetch --model example-org/not-cached-model" in message


def test_missing_model_without_fallback_stops(tmp_path: Path) -> None:
    cfg = SummariserConfig(engine="transformers", model=str(tmp_path / "nowhere.gguf"), fallback="none")
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        build_engine(cfg)


def test_bad_template_stops_start_up_even_before_the_model(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    from briefing.summarise.prompts import BUNDLED

    for f in BUNDLED.iterdir():
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "brief_json.txt").write_text("Summarise $article for $audience.\n", encoding="utf-8")
    cfg = SummariserConfig(engine="transformers", model="example-org/not-cached-model", prompts_dir=str(folder))
    with pytest.raises(ConfigError, match=r"brief_json\.txt: unknown placeholder \$audience"):
        build_engine(cfg)


def test_gguf_file_path_is_resolved(tmp_path: Path) -> None:
    gguf = tmp_path / "model.Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF")
    src = resolve_source(str(gguf))
    assert (src.path, src.gguf_file, src.local) == (str(tmp_path), "model.Q4_K_M.gguf", True)
