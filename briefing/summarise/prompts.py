"""Prompt templates: plain text files in ``summariser.prompts_dir`` a user can edit.

Placeholders are ``$name`` or ``${name}`` (``string.Template``), so JSON examples in a prompt
need no escaping; a literal dollar sign is ``$$``. Every template is checked when the engine
starts: an unknown placeholder, a missing required one or a missing file stops start-up with a
message naming the file and the placeholder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from briefing.errors import ConfigError

# Template name -> (required placeholders, optional placeholders).
SPEC: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "brief_json": (frozenset({"article"}), frozenset({"title", "sentences", "max_actors"})),
    "retry_json": (frozenset({"article", "error"}), frozenset({"title", "sentences", "max_actors"})),
    "headline": (frozenset({"article"}), frozenset({"title"})),
    "summary": (frozenset({"article"}), frozenset({"title", "sentences"})),
    "combine": (frozenset({"parts"}), frozenset({"title", "sentences"})),
    "encoder": (frozenset({"article"}), frozenset({"title"})),
    # The gist (issue 10): the article comes first in every prompt (the shared prefix llama.cpp
    # keeps in its KV cache), so these templates hold only the task that follows it.
    "gist": (frozenset(), frozenset({"words"})),
    "position": (frozenset({"actor", "evidence"}), frozenset({"words"})),
    "gist_retry": (frozenset({"problem"}), frozenset({"words"})),
    "gist_plain": (frozenset(), frozenset({"words"})),
    "entail": (frozenset({"source", "claim"}), frozenset()),
}

# Templates that ship with the project, used when the configured folder does not exist
# (e.g. a relative prompts_dir while running from another directory): package data inside an
# installed wheel; in a checkout ``briefing/prompts`` is a link to the top-level ``prompts/``.
BUNDLED = Path(__file__).resolve().parents[1] / "prompts"


def placeholders(text: str, path: Path) -> set[str]:
    """Names used in a template; a malformed ``$`` is an error naming the file and line."""
    names: set[str] = set()
    for m in Template.pattern.finditer(text):
        if m.group("invalid") is not None:
            line = text.count("\n", 0, m.start()) + 1
            raise ConfigError(f"{path}:{line}: malformed placeholder near {text[m.start():m.start() + 12]!r} "
                              "(write $name or ${name}; a literal dollar sign is $$)")
        name = m.group("named") or m.group("braced")
        if name:
            names.add(name)
    return names


@dataclass(frozen=True)
class PromptSet:
    folder: Path
    templates: dict[str, str]

    @property
    def version(self) -> str:
        """Changes whenever any template text changes, so cached briefs are not reused."""
        h = hashlib.sha256()
        for name in sorted(self.templates):
            h.update(name.encode() + b"\x00" + self.templates[name].encode() + b"\x00")
        return h.hexdigest()[:12]

    def render(self, name: str, **values: object) -> str:
        allowed = SPEC[name][0] | SPEC[name][1]
        return Template(self.templates[name]).substitute(
            {k: str(v) for k, v in values.items() if k in allowed}).strip()


def resolve_folder(prompts_dir: str) -> Path:
    folder = Path(prompts_dir).expanduser()
    if not folder.is_dir() and not folder.is_absolute() and BUNDLED.is_dir():
        return BUNDLED
    return folder


def load_prompts(prompts_dir: str) -> PromptSet:
    """Read and validate every template; raises :class:`ConfigError` naming file and placeholder."""
    folder = resolve_folder(prompts_dir)
    templates: dict[str, str] = {}
    for name, (required, optional) in SPEC.items():
        path = folder / f"{name}.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read prompt template ({exc.strerror or exc}); "
                              f"summariser.prompts_dir is {prompts_dir!r}") from None
        used = placeholders(text, path)
        unknown = sorted(used - required - optional)
        if unknown:
            allowed = ", ".join(f"${n}" for n in sorted(required | optional))
            raise ConfigError(f"{path}: unknown placeholder ${unknown[0]} (this template may use {allowed})")
        missing = sorted(required - used)
        if missing:
            raise ConfigError(f"{path}: required placeholder ${missing[0]} is missing")
        templates[name] = text
    return PromptSet(folder, templates)
