"""Signed one-click unsubscribe links and the small HTTP endpoint that serves them.

Every digest carries ``List-Unsubscribe: <mailto:...>, <https://.../unsubscribe?s=ID&t=TOKEN>``
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058,
https://www.rfc-editor.org/rfc/rfc8058). The token is an HMAC-SHA256 over the subscriber id
and their current address, keyed with the secret in ``email.unsubscribe_secret_env``: without
the key nobody can unsubscribe someone else, and a link stops working once the address changes.

* ``POST`` to the URL (what a mail provider's "Unsubscribe" button does, body
  ``List-Unsubscribe=One-Click``) unsubscribes at once and answers 200, no redirect, no cookie.
* ``GET`` (a reader clicking the footer link, or a link scanner prefetching it) only shows a
  confirmation page with a button that POSTs; a GET never changes anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from briefing.config import EmailConfig, secret
from briefing.errors import ConfigError
from briefing.store import Store

log = logging.getLogger(__name__)

PATH = "/unsubscribe"
_STORE_KEY: web.AppKey[Store] = web.AppKey("briefing_unsubscribe_store", Store)
_SIGNER_KEY: web.AppKey["UnsubscribeSigner"] = web.AppKey("briefing_unsubscribe_signer")


@dataclass(frozen=True)
class UnsubscribeSigner:
    key: bytes
    base_url: str

    @classmethod
    def from_config(cls, config: EmailConfig, *, ephemeral_ok: bool = False) -> "UnsubscribeSigner":
        """The signer keyed from ``email.unsubscribe_secret_env``.

        ``ephemeral_ok`` (previews only) uses a random key when the variable is unset, so a
        preview renders; its links cannot work, which is fine because nothing is sent.
        """
        value = secret(config.unsubscribe_secret_env)
        if value is None:
            if not ephemeral_ok:
                raise ConfigError(f"email.unsubscribe_secret_env: environment variable "
                                  f"{config.unsubscribe_secret_env} is not set; it signs the unsubscribe "
                                  f"links every digest must carry (e.g. `openssl rand -hex 32`)")
            value = secrets.token_hex(32)
        return cls(key=value.encode("utf-8"), base_url=config.unsubscribe_base_url.rstrip("/"))

    def token(self, subscriber_id: int, email: str) -> str:
        mac = hmac.new(self.key, f"unsubscribe\0{subscriber_id}\0{email.casefold()}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode("ascii")

    def url(self, subscriber_id: int, email: str) -> str:
        query = urlencode({"s": subscriber_id, "t": self.token(subscriber_id, email)})
        return f"{self.base_url}{PATH}?{query}"

    def check(self, subscriber_id: int, email: str, token: str) -> bool:
        return hmac.compare_digest(self.token(subscriber_id, email), token)


def unsubscribe_email(store: Store, subscriber_id: int, reason: str) -> None:
    """Stop email to a subscriber. A Telegram subscriber keeps Telegram; email-only ones go inactive.

    The address is marked unverified rather than erased, so ``/email`` can verify it again.
    """
    sub = store.get_subscriber(subscriber_id)
    if sub is None:
        return
    store.update_subscriber(subscriber_id, email_verified=False)
    if sub.telegram_chat_id is None:
        store.deactivate_subscriber(subscriber_id, reason)
    log.info("subscriber %s unsubscribed from email: %s", subscriber_id, reason)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    doc = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
           f"<meta name='color-scheme' content='light dark'><title>{html.escape(title)}</title></head>"
           f"<body style='font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
           f"line-height:1.5'><h1 style='font-size:1.4rem'>{html.escape(title)}</h1>{body}</body></html>")
    return web.Response(text=doc, status=status, content_type="text/html", headers={
        "Cache-Control": "no-store", "X-Robots-Tag": "noindex",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        "Referrer-Policy": "no-referrer"})


def _verified(request: web.Request) -> tuple[int, str] | None:
    """(subscriber id, address) when the link's signature matches the subscriber's current address."""
    try:
        subscriber_id = int(request.query.get("s", ""))
    except ValueError:
        return None
    sub = request.app[_STORE_KEY].get_subscriber(subscriber_id)
    if sub is None or not sub.email:
        return None
    if not request.app[_SIGNER_KEY].check(subscriber_id, sub.email, request.query.get("t", "")):
        return None
    return subscriber_id, sub.email


_REFUSED = ("This unsubscribe link is not valid",
            "<p>The link is incomplete, was altered, or belongs to an address that has changed. "
            "Use the link in your most recent digest.</p>")


async def _confirm_page(request: web.Request) -> web.Response:
    found = _verified(request)
    if found is None:
        return _page(*_REFUSED, status=403)
    _, email = found
    # The form repeats the one-click POST so a reader's click and a provider's button do the same.
    action = html.escape(f"{PATH}?{request.query_string}")
    return _page("Unsubscribe from the daily digest?", (
        f"<p>Stop sending the briefing digest to <strong>{html.escape(email)}</strong>?</p>"
        f"<form method='post' action='{action}'>"
        f"<input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        f"<button type='submit' style='font-size:1rem;padding:.5rem 1rem'>Unsubscribe</button></form>"))


async def _one_click(request: web.Request) -> web.Response:
    found = _verified(request)
    if found is None:
        return _page(*_REFUSED, status=403)
    subscriber_id, email = found
    await request.post()  # read the body (RFC 8058: "List-Unsubscribe=One-Click"); the signature decides
    unsubscribe_email(request.app[_STORE_KEY], subscriber_id, "unsubscribed with the email link")
    return _page("You are unsubscribed",
                 f"<p>No more digests will be sent to <strong>{html.escape(email)}</strong>.</p>")


def add_unsubscribe_routes(app: web.Application, store: Store, signer: UnsubscribeSigner) -> None:
    """Mount ``GET``/``POST /unsubscribe`` on an existing aiohttp application (before it starts)."""
    app[_STORE_KEY] = store
    app[_SIGNER_KEY] = signer
    app.router.add_get(PATH, _confirm_page)
    app.router.add_post(PATH, _one_click)


def unsubscribe_app(store: Store, signer: UnsubscribeSigner) -> web.Application:
    """A stand-alone aiohttp application serving the unsubscribe endpoint.

    ``briefing run`` serves it on ``email.http_listen:email.http_port``; put it behind the HTTPS
    reverse proxy that ``email.unsubscribe_base_url`` points at.
    """
    app = web.Application(client_max_size=64 * 1024)
    add_unsubscribe_routes(app, store, signer)
    return app
