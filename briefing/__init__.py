"""briefing — a self-hosted news summarisation and briefing bot.

The library API lives in the capability packages (``ingest``, ``summarise``,
``store``, ``deliver``, ``service``); ``briefing.cli`` is a thin shell over it.
Nothing here reads configuration or configures logging at import time.
"""

__version__ = "0.1.0"
