"""The independent counter of invented names and numbers used to check the guard."""

from __future__ import annotations

from briefing.evaluation.gist_eval import invented, novel_bigram_share

ARTICLE = "Officials in Tianjin said 1,084,604 people were counted in 2012-13 and 150 died."


def test_invented_names_and_numbers_are_counted() -> None:
    assert invented("Officials in Beijing said 150 died.", ARTICLE) == ["Beijing"]
    assert invented("Some 1.3 million people were counted.", ARTICLE) == ["1300000"]
    assert invented("Officials in Tianjin counted 1,084,604 people.", ARTICLE) == []
    assert invented("Only 13 died.", ARTICLE) == ["13"]  # not found inside "2012-13"
    assert invented("Officials in Tianjin counted 150 deaths.", "The Tianjin-based officials counted 150 deaths.") == []
    # A plural possessive is the name: "the Reds' second signing" names no one new (seen on the dev set).
    assert invented("Benteke becomes Reds' second signing.", "Benteke becomes the Reds' second signing.") == []
    assert invented("Benteke joins the Reds.", "Benteke becomes the Reds' second signing.") == []
    assert invented("Benteke joins the Blues' squad.", "Benteke becomes the Reds' second signing.") == ["Blues"]


def test_novel_bigram_share() -> None:
    assert novel_bigram_share("officials in tianjin said", ARTICLE) == 0.0
    assert novel_bigram_share("the mayor resigned today", ARTICLE) == 1.0
