"""The email channel: render, sign, send over SMTP, verify addresses, unsubscribe.

The service (``briefing run``) needs these from here:

* :class:`EmailDigests` -- the digest job's email adapter (:mod:`briefing.service.digests` wires it);
* :func:`unsubscribe_app` / :func:`add_unsubscribe_routes` -- the one-click unsubscribe endpoint;
* :class:`UnsubscribeSigner` -- ``UnsubscribeSigner.from_config(config.email)``.
"""

from briefing.deliver.email.digests import EmailDigests
from briefing.deliver.email.smtp import SmtpSender
from briefing.deliver.email.unsubscribe import UnsubscribeSigner, add_unsubscribe_routes, unsubscribe_app

__all__ = ["EmailDigests", "SmtpSender", "UnsubscribeSigner", "add_unsubscribe_routes", "unsubscribe_app"]
