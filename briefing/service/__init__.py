"""The service (``briefing run``): the composition root, the one place that wires the channels
to the library (``docs/architecture.md``)."""
