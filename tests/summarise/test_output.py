"""Parsing the model's JSON: strict first, one repair, per-field fallback."""

from __future__ import annotations

from briefing.summarise.output import parse_answer

GOOD = ('{"headline": "Putin warns against interference", "summary": ["Putin warned the EU.", "Protests grew."], '
        '"actors": [{"name": "Vladimir Putin", "description": "Russian President", "position": "warns", '
        '"evidence": "Putin issued a warning."}]}')


def test_strict_json_is_read_as_is() -> None:
    ans, error = parse_answer(GOOD, max_actors=6)
    assert ans is not None and not ans.repaired and error == ""
    assert ans.headline == "Putin warns against interference"
    assert ans.summary == ["Putin warned the EU.", "Protests grew."]
    assert ans.actors is not None and ans.actors[0].name == "Vladimir Putin"


def test_code_fence_and_chatter_are_not_errors() -> None:
    ans, _ = parse_answer("Sure! Here it is:\n```json\n" + GOOD + "\n```", max_actors=6)
    assert ans is not None and ans.headline


def test_trailing_commas_and_smart_quotes_are_repaired() -> None:
    broken = GOOD.replace('"Protests grew."]', '"Protests grew.",]').replace('"headline"', "“headline”")
    ans, error = parse_answer(broken, max_actors=6)
    assert ans is not None and ans.repaired and error
    assert ans.summary == ["Putin warned the EU.", "Protests grew."]


def test_truncated_answer_keeps_the_complete_fields() -> None:
    truncated = '{"headline": "Floods hit the river town", "summary": ["The river rose two metres.", "Sch'
    ans, _ = parse_answer(truncated, max_actors=6)
    assert ans is not None and ans.repaired
    assert ans.headline == "Floods hit the river town"
    assert ans.summary is not None and ans.summary[0] == "The river rose two metres."
    assert "actors" in ans.problems  # missing: the engine takes actors from the extractive finder


def test_python_style_dict_is_repaired() -> None:
    ans, _ = parse_answer("{'headline': 'Strike ends', 'summary': 'Workers returned. Talks go on.', "
                          "'actors': []}", max_actors=6)
    assert ans is not None and ans.summary == ["Workers returned.", "Talks go on."] and ans.actors == []


def test_bad_field_is_reported_and_others_kept() -> None:
    ans, _ = parse_answer('{"headline": 42, "summary": ["A bridge opens in 2028."], "actors": "none"}', 6)
    assert ans is not None and ans.headline is None and ans.actors is None
    assert ans.summary == ["A bridge opens in 2028."]
    assert ans.problems == {"headline": "not in the expected form", "actors": "not in the expected form"}


def test_prose_is_not_json() -> None:
    ans, error = parse_answer("1. Putin warned the EU.\n2. Protests grew.", max_actors=6)
    assert ans is None and error == "no JSON object in the answer"


def test_actor_list_is_capped() -> None:
    actors = ", ".join(f'{{"name": "Person {i}"}}' for i in range(9))
    ans, _ = parse_answer(f'{{"headline": "h", "summary": ["s s s."], "actors": [{actors}]}}', max_actors=3)
    assert ans is not None and ans.actors is not None and len(ans.actors) == 3
