"""Turning model text into brief fields, and merging actors found in different parts."""

from __future__ import annotations

from briefing.models import Actor
from briefing.summarise.chunking import split_parts
from briefing.summarise.transformers_engine import clean_headline, merge_actors, split_summary


def test_summary_lead_in_list_markers_and_a_cut_off_sentence_are_removed() -> None:
    text = "Here is a summary of the article:\n\n1. The council approved the barrier.\n2. It costs 310 million " \
           "euros.\n3. Work starts in"
    assert split_summary(text) == ["The council approved the barrier.", "It costs 310 million euros."]


def test_headline_label_and_quotes_are_removed_and_a_paragraph_is_not_a_headline() -> None:
    assert clean_headline('Headline: "Valmere approves flood barrier"\nMore text') == "Valmere approves flood barrier"
    assert clean_headline(" ".join(["word"] * 30)) == ""


def test_actors_from_parts_are_merged_by_name_and_surname() -> None:
    first = [Actor("Vladimir Putin", "Russian President", "warns the EU", "e1")]
    second = [Actor("Putin", "", "warns again", "e2"), Actor("Sergei Lavrov", "minister", "agrees", "e3")]
    merged = merge_actors([first, second], max_actors=6)
    assert [a.name for a in merged] == ["Vladimir Putin", "Sergei Lavrov"]
    assert merged[0].position == "warns the EU"  # the first mention is kept


def test_short_text_is_one_part_and_a_huge_paragraph_is_split_at_sentences() -> None:
    count = lambda t: len(t.split())  # noqa: E731 - a word count stands in for a tokenizer
    assert split_parts("One short paragraph.", count, budget=50) == ["One short paragraph."]
    para = " ".join(f"Sentence number {i} has six words." for i in range(40))
    parts = split_parts(para, count, budget=60)
    assert len(parts) >= 4 and all(count(p) <= 60 for p in parts)
    assert all(p.endswith(".") for p in parts)
