"""What ``briefing status`` shows: sources, queues, today's output, jobs and the sender lease."""

from __future__ import annotations

from datetime import datetime

from briefing.app import App, StatusReport
from briefing.service.lease import SENDER


def status_report(app: App, now: datetime | None = None) -> StatusReport:
    """The service's status, with the lease that says which instance sends (:data:`SENDER`)."""
    return app.status(SENDER, now)
