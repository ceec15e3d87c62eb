"""The faithfulness guard drops what the article does not support, and says why."""

from __future__ import annotations

import pytest

from briefing.config import SummariserConfig
from briefing.models import Actor, Brief
from briefing.summarise.base import Document
from briefing.summarise.guard import Guard, load_embedder, name_grounded, numbers, padded
from briefing.summarise.nlp import load_spacy

PUTIN_EVIDENCE = ("Moscow/Minsk: Russian President Vladimir Putin has issued a warning and said, 'We don't want "
                  "to see any external interference in Belarus.")


@pytest.fixture(scope="module")
def guard() -> Guard:
    return Guard(load_spacy("en_core_web_sm"), SummariserConfig().grounding_threshold, load_embedder())


def _brief(summary: list[str], actors: list[Actor] | None = None, headline: str = "") -> Brief:
    return Brief(headline=headline, summary=summary, actors=actors or [], engine="transformers")


def test_names_are_case_accent_and_surname_tolerant() -> None:
    words = padded("President Putin met Lech Wałęsa and the European Union (EU) in Zürich.")
    assert name_grounded("Vladimir Putin", words)
    assert name_grounded("PUTIN", words)
    assert name_grounded("Lech Walesa", words)
    assert name_grounded("zurich", words)
    assert name_grounded("European Union (EU)", words)
    assert not name_grounded("Sergei Lutskoff", words)
    assert not name_grounded("Putins", words)


def test_numbers_are_compared_as_digits() -> None:
    assert numbers("more than 200,000 citizens, 80% of the vote") == {"200000", "80"}


def test_invented_actor_is_dropped(guard: Guard, seed_doc: Document) -> None:
    real = Actor("Putin", "Russian President", "warns against external interference in Belarus", PUTIN_EVIDENCE)
    invented = Actor("Sergei Lutskoff", "Foreign Minister", "visits Belarus", "Lutskoff visited Minsk.")
    brief = guard.check(_brief([], [real, invented]), seed_doc.text)
    assert [a.name for a in brief.actors] == ["Putin"]
    assert any("Lutskoff" in f and "not in the article" in f for f in brief.flags)


def test_paraphrased_evidence_is_replaced_by_the_article_sentence(guard: Guard, seed_doc: Document) -> None:
    actor = Actor("European Union", "bloc", "vows sanctions against the Belarusian regime",
                  "The EU vowed sanctions against the Belarusian regime")
    brief = guard.check(_brief([], [actor]), seed_doc.text)
    assert brief.actors[0].evidence == "The EU has vowed sanctions against the Belarusian regime."
    assert any("replaced by the article sentence" in f for f in brief.flags)


def test_invented_number_is_dropped(guard: Guard, seed_doc: Document) -> None:
    brief = guard.check(_brief(["The protests saw more than 500,000 citizens take part.",
                                "The protests saw a participation of more than 200,000 citizens."]), seed_doc.text)
    assert brief.summary == ["The protests saw a participation of more than 200,000 citizens."]
    assert any("500000" in f for f in brief.flags if f.startswith("dropped sentence"))


def test_unsupported_claim_is_dropped_and_supported_kept(guard: Guard, seed_doc: Document) -> None:
    # The claim the embedded model invented when tried by hand (issue 3).
    invented = "The EU has also demanded that the government step down."
    supported = "Putin warned that external interference in Belarus could make the political crisis escalate."
    brief = guard.check(_brief([supported, invented]), seed_doc.text)
    assert brief.summary == [supported]
    assert any("step down" in f for f in brief.flags)
    assert brief.grounding_score is not None and 0.6 <= brief.grounding_score <= 1.0


def test_unsupported_headline_is_dropped(guard: Guard, seed_doc: Document) -> None:
    brief = guard.check(_brief(["The EU has vowed sanctions against the Belarusian regime."],
                               headline="Kremlin sends 5,000 troops to Minsk"), seed_doc.text)
    assert brief.headline == ""
    assert any(f.startswith("dropped headline") for f in brief.flags)


def test_extractive_sentences_score_high(guard: Guard, seed_doc: Document) -> None:
    first = seed_doc.text.split("\n\n")[1].split(". ")[0] + "."
    brief = guard.check(_brief([first]), seed_doc.text)
    assert brief.summary == [first] and brief.grounding_score is not None and brief.grounding_score > 0.9


# Sentences the embedded SmolLM2-135M-Instruct really wrote for the seed article (greedy decoding,
# prompts/summary.txt); the integration test in test_smollm2.py runs the model itself.
SMOLLM2_INVENTED = [
    "Moscow/Moscow/Minske: Russian President Vladimir Putin issued a warning and warned against external "
    "interference in Belarus, a country facing a political crisis.",
    "The European Commission has rejected the UN Security Council's resolution to negotiate the political crisis "
    "in Belarus, and Russia has taken a stance against external interference.",
    "The European Union has called for a ban on Russian military aid to Belarus, while the EU has also called for "
    "Russia to help negotiate the political crisis.",
    "The situation has also been linked to the recent Russian Foreign Minister Sergei Lutskoff's visit to Belarus, "
    "which has been criticized for its harsh treatment of the country's opposition.",
]


def test_real_smollm2_inventions_are_dropped(guard: Guard, seed_doc: Document) -> None:
    brief = guard.check(_brief(SMOLLM2_INVENTED), seed_doc.text)
    assert brief.summary == []
    dropped = [f for f in brief.flags if f.startswith("dropped sentence")]
    assert len(dropped) == 4
    assert "'Minske' is not in the article" in dropped[0] and "support 0." in dropped[2]
