"""Per-source include/exclude filters, applied to an article before it is stored and summarised.

``sources[].include`` and ``sources[].exclude`` are lists of patterns matched against the
article's title and text, case-insensitively. A plain pattern is a keyword or phrase matched
as whole words (``"rate"`` does not match "generate"); a pattern written between slashes,
``/central bank(s)?/``, is a regular expression. An article is kept when it matches at least
one ``include`` pattern (or there are none) and no ``exclude`` pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from briefing.config import compile_pattern


@dataclass(frozen=True)
class SourceFilter:
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    include_text: tuple[str, ...] = ()
    exclude_text: tuple[str, ...] = ()

    @classmethod
    def build(cls, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> "SourceFilter":
        return cls(tuple(compile_pattern(p) for p in include), tuple(compile_pattern(p) for p in exclude),
                   tuple(include), tuple(exclude))

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude)

    def rejects(self, title: str, text: str) -> str | None:
        """Why the article is filtered out, or None to keep it."""
        doc = f"{title}\n{text}"
        for pattern, raw in zip(self.exclude, self.exclude_text):
            if pattern.search(doc):
                return f"excluded by {raw!r}"
        if self.include and not any(p.search(doc) for p in self.include):
            return f"matches none of include {list(self.include_text)}"
        return None
