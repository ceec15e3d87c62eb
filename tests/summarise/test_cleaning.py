"""Cleaning and sentence splitting on real-looking news text (issue 9).

The fixtures are written for these tests in the style of the pages they imitate (a Daily Mail
story with its video prompt and photo captions, a BBC sport page with its player notice).
"""

from __future__ import annotations

from briefing.ingest.clean import clean_article
from briefing.sentences import split_sentences
from briefing.summarise.extractive import headline_for

DAILY_MAIL = (
    "A father of three was rescued from a flooded quarry on Sunday after clinging to a tree for two hours. "
    "Firefighters from Ashby reached Martin Cole, 44, by boat shortly after 6pm. "
    "Scroll down for video Lucky escape: Martin Cole (pictured) was pulled from the water by crews from Ashby "
    "Fire Station The quarry has been closed to the public since 2012. "
    "Mr. Cole told the Leicester Mercury he had gone in after his dog. "
    "Soaked: Rescuers wrapped Mr Cole in foil blankets on the bank Crews said the water was 40ft deep."
)


def test_video_prompt_and_the_caption_glued_after_it_are_removed() -> None:
    _, text = clean_article(DAILY_MAIL, title="")
    assert "Scroll down" not in text
    assert "Lucky escape" not in text and "pulled from the water" not in text
    assert "(pictured)" not in text
    # the story's own sentences stay
    assert "Firefighters from Ashby reached Martin Cole, 44, by boat shortly after 6pm." in text
    assert "Mr. Cole told the Leicester Mercury he had gone in after his dog." in text


def test_a_labelled_caption_anywhere_in_the_story_is_removed_but_a_quote_after_a_colon_is_not() -> None:
    _, text = clean_article(DAILY_MAIL + " He added: 'I would do it again.'", title="")
    assert "Soaked:" not in text and "foil blankets" not in text
    assert "He added: 'I would do it again.'" in text


def test_bbc_player_notice_on_its_own_line_is_removed_before_lines_are_joined() -> None:
    article = ("Celtic came from behind to beat Aberdeen 2-1 and go six points clear at the top.\n"
               "Media playback is not supported on this device\n"
               "Manager Brendan Rodgers said his side showed great character.\n"
               "Image copyright Getty Images\n"
               "Aberdeen remain second.")
    _, text = clean_article(article, title="")
    assert "Media playback" not in text and "Image copyright" not in text
    assert split_sentences(text) == [
        "Celtic came from behind to beat Aberdeen 2-1 and go six points clear at the top.",
        "Manager Brendan Rodgers said his side showed great character.",
        "Aberdeen remain second."]


def test_player_notice_at_the_start_never_becomes_the_headline() -> None:
    article = ("Media playback is not supported on this device\n"
               "Wales wing George North will miss the Six Nations opener against Italy with a hamstring injury.\n"
               "North, 24, was hurt in training on Tuesday.")
    _, text = clean_article(article, title="")
    headline = headline_for("", split_sentences(text))
    assert headline == "Wales wing George North will miss the Six Nations opener against Italy with a hamstring injury"


def test_a_long_first_sentence_makes_a_headline_cut_at_a_clause() -> None:
    first = ("The regional council of Valmere on Monday approved a 310 million euro flood barrier on the river Aske, "
             "three months after record water levels forced the evacuation of 9,000 residents.")
    headline = headline_for("", [first])
    assert headline == "The regional council of Valmere on Monday approved a 310 million euro flood barrier on the river Aske …"
    assert headline_for("Valmere approves flood barrier", [first]) == "Valmere approves flood barrier"


def test_no_split_after_titles_abbreviations_or_initials() -> None:
    text = ("Dr. Anna Reyes of St. Mary's Hospital said the U.S. Food and Drug Administration had approved the drug. "
            "Mr. Obama and Mrs. Clinton met Gen. David Petraeus at 9 a.m. on Jan. 5. "
            "The book by J. K. Rowling sold No. 1 in the U.K. market.")
    assert split_sentences(text) == [
        "Dr. Anna Reyes of St. Mary's Hospital said the U.S. Food and Drug Administration had approved the drug.",
        "Mr. Obama and Mrs. Clinton met Gen. David Petraeus at 9 a.m. on Jan. 5.",
        "The book by J. K. Rowling sold No. 1 in the U.K. market."]


def test_an_acronym_that_ends_a_sentence_still_ends_it() -> None:
    text = 'Thousands of troops will return to the U.S. The president said "the mission is over." It was.'
    assert split_sentences(text) == ["Thousands of troops will return to the U.S.",
                                      'The president said "the mission is over."', "It was."]


def test_quotes_and_paragraphs_end_sentences() -> None:
    text = '"We will appeal," the club said. "This is not over."\n\nFans gathered outside! Why now?'
    assert split_sentences(text) == ['"We will appeal," the club said.', '"This is not over."',
                                      "Fans gathered outside!", "Why now?"]


def test_sentences_glued_without_a_space_are_split_but_abbreviations_and_acronyms_are_not() -> None:
    text = ('He taught at Cornell University in the US."Christopher was generous," said Ann Lee. '
            "An attorney told the AP.Less than a day later, the FBI agreed to help (AP).It was 2013.Then "
            "she met Mrs.Smith in the U.S.A and visited St.Louis.")
    assert split_sentences(text) == [
        "He taught at Cornell University in the US.", '"Christopher was generous," said Ann Lee.',
        "An attorney told the AP.", "Less than a day later, the FBI agreed to help (AP).", "It was 2013.",
        "Then she met Mrs.Smith in the U.S.A and visited St.Louis."]


def test_a_lost_paragraph_break_and_the_bbc_share_bar_are_restored_and_removed() -> None:
    text = ("Councillors met residents on Monday. More stories from across YorkshireThe council said the panels "
            "had failed. It was seen on the 11th holeMr Lahiff said. "
            "Share this withEmailFacebookMessengerTwitterPinterestWhatsAppLinkedinCopy this link Mr Hale told the BBC "
            "the firm paid its taxes.")
    _, cleaned = clean_article(text, title="")
    assert split_sentences(cleaned) == [
        "Councillors met residents on Monday.", "More stories from across Yorkshire",
        "The council said the panels had failed.", "It was seen on the 11th hole", "Mr Lahiff said.",
        "Mr Hale told the BBC the firm paid its taxes."]


def test_a_sentence_glued_after_a_closing_quote_is_split() -> None:
    text = 'Tidal Lagoon Power said the claims had no "clear scientific basis".NRW said its figures were right.'
    assert split_sentences(text) == ['Tidal Lagoon Power said the claims had no "clear scientific basis".',
                                     "NRW said its figures were right."]
