"""Measuring briefs honestly: ROUGE beside Lead-3, cross-validated settings, gist checks (``briefing eval``)."""
