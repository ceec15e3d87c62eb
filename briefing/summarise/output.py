"""Reading a model's JSON answer: strict parse, one mechanical repair, then per-field checks.

The schema is ``{"headline": str, "summary": [str, ...], "actors": [{"name", "description",
"position", "evidence"}]}``. :func:`parse_answer` never raises: it says which fields are usable
and why the others are not, so the engine can replace only those (and record it on the brief).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from briefing.models import Actor

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


@dataclass
class Answer:
    """The usable parts of an answer; ``None`` marks a field to replace, with the reason in ``problems``."""

    headline: str | None = None
    summary: list[str] | None = None
    actors: list[Actor] | None = None
    repaired: bool = False
    problems: dict[str, str] = field(default_factory=dict)


def _object_text(text: str) -> str:
    """The JSON object in an answer: code fences and chatter around it removed."""
    text = _FENCE.sub("", text.strip())
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the answer")
    return text[start:]


def strict_load(text: str) -> Any:
    """``json.loads`` of the object in the answer; raises ``ValueError`` with the reason."""
    body = _object_text(text)
    obj, end = json.JSONDecoder().raw_decode(body)
    if body[end:].strip():
        raise ValueError(f"extra text after the JSON object: {body[end:end + 30]!r}")
    return obj


def repair(text: str) -> str:
    """One mechanical repair of the usual small-model faults; the result may still be invalid."""
    body = _object_text(text)
    body = body.translate(str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"}))
    if '"' not in body and "'" in body:
        body = body.replace("'", '"')  # Python-style dict
    body = re.sub(r"\bTrue\b", "true", re.sub(r"\bFalse\b", "false", re.sub(r"\bNone\b", "null", body)))
    body = re.sub(r",\s*([}\]])", r"\1", body)  # trailing commas
    body = re.sub(r'"\s*\n\s*"', '", "', body)  # missing commas between strings on separate lines
    body = re.sub(r'}\s*{', '}, {', body)  # missing commas between objects
    return _close(body)


def _close(body: str) -> str:
    """Cut what follows the outermost object, or close what a truncated answer left open."""
    stack: list[str] = []
    in_str = escape = False
    for i, ch in enumerate(body):
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
            if not stack:
                return body[: i + 1]
    tail = body.rstrip()
    if in_str:
        tail += '"'
    tail = re.sub(r',\s*$', "", tail)
    tail = re.sub(r'[,{]\s*"[^"]*"\s*:?\s*$', lambda m: m.group(0)[0] if m.group(0)[0] == "{" else "", tail)
    return tail + "".join(reversed(stack))


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _summary(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])", value.strip())
    if not isinstance(value, list):
        return None
    sents = [s for s in (_text(v) for v in value) if s]
    return sents or None


def _actors(value: Any, max_actors: int) -> list[Actor] | None:
    if not isinstance(value, list):
        return None
    out: list[Actor] = []
    for item in value:
        if not isinstance(item, dict):
            continue
        name = _text(item.get("name"))
        if not name:
            continue
        out.append(Actor(name=name, description=_text(item.get("description")) or "",
                         position=_text(item.get("position")) or "", evidence=_text(item.get("evidence")) or ""))
    return out[:max_actors] if out or value == [] else None


def fields(obj: Any, max_actors: int) -> Answer:
    """Check each field on its own: a bad actor list does not cost a good summary."""
    ans = Answer()
    if not isinstance(obj, dict):
        ans.problems = {f: f"the answer is a JSON {type(obj).__name__}, not an object"
                        for f in ("headline", "summary", "actors")}
        return ans
    ans.headline = _text(obj.get("headline"))
    ans.summary = _summary(obj.get("summary"))
    ans.actors = _actors(obj.get("actors"), max_actors)
    for name, value in (("headline", ans.headline), ("summary", ans.summary), ("actors", ans.actors)):
        if value is None:
            ans.problems[name] = "missing" if name not in obj else "not in the expected form"
    return ans


def parse_answer(text: str, max_actors: int) -> tuple[Answer | None, str]:
    """Parse strictly, else after one repair. ``(None, reason)`` when neither gives JSON."""
    try:
        return fields(strict_load(text), max_actors), ""
    except ValueError as exc:
        first = str(exc)
    try:
        ans = fields(strict_load(repair(text)), max_actors)
    except ValueError:
        return None, first
    ans.repaired = True
    return ans, first
