"""The daily digest by email (and its Telegram twin): compose, render, sign, send, unsubscribe.

The service (``briefing run``) needs three things from here:

* :func:`send_due_digests` -- the scheduled job; call it every ``service.digest_check_seconds``;
* :func:`unsubscribe_app` / :func:`add_unsubscribe_routes` -- the one-click unsubscribe endpoint;
* :class:`UnsubscribeSigner` -- ``UnsubscribeSigner.from_config(config.email)``.
"""

from briefing.deliver.email.digests import DigestReport, send_due_digests
from briefing.deliver.email.smtp import SmtpSender
from briefing.deliver.email.unsubscribe import UnsubscribeSigner, add_unsubscribe_routes, unsubscribe_app

__all__ = ["DigestReport", "SmtpSender", "UnsubscribeSigner", "add_unsubscribe_routes", "send_due_digests",
           "unsubscribe_app"]
