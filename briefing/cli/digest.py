"""``briefing digest preview`` and ``briefing subscriber add``: the email digest from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from briefing.cli import EXIT_OK, common_options
from briefing.config import Config
from briefing.app import App


def register(sub: Any) -> None:
    p = sub.add_parser("digest", help="the daily digest: preview it without sending")
    actions = p.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    preview = actions.add_parser("preview", help="render a subscriber's digest as it would be sent now; sends nothing")
    common_options(preview)
    preview.add_argument("--subscriber", metavar="ID|EMAIL",
                         help="whose digest (default: every brief of the last 24 hours)")
    preview.add_argument("--html", type=Path, metavar="FILE", help="write the HTML email to FILE")
    preview.add_argument("--text", action="store_true", help="print the plain-text email (the default without --html)")
    preview.add_argument("--telegram", action="store_true", help="print the Telegram message(s) instead")
    preview.set_defaults(func=cmd_preview)

    p = sub.add_parser("subscriber", help="manage email subscribers (admin)")
    actions = p.add_subparsers(dest="subscriber_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a verified email subscriber (or update one) with subscriptions")
    common_options(add)
    add.add_argument("--email", required=True, help="the address; the admin vouches for it, so it is verified")
    add.add_argument("--topic", action="append", default=[], help="follow a configured topic (repeatable)")
    add.add_argument("--keyword", action="append", default=[], help="follow a keyword (repeatable)")
    add.add_argument("--source", action="append", default=[], help="follow a configured source (repeatable)")
    add.add_argument("--digest-time", metavar="HH:MM", help="local time of the daily digest (default 07:00)")
    add.add_argument("--timezone", metavar="TZ", help="IANA time zone, e.g. Europe/Berlin (default UTC)")
    add.set_defaults(func=cmd_subscriber_add)


def cmd_preview(config: Config, args: argparse.Namespace) -> int:
    from briefing.deliver.email import UnsubscribeSigner
    from briefing.deliver.email.digests import render_for
    from briefing.deliver.email.render import render_digest
    from briefing.deliver.telegram.digest import telegram_digest

    with App(config) as app:
        content, sub = app.digest_preview(args.subscriber)
    who = (sub.email or f"subscriber {sub.id}") if sub else "everything of the last 24 hours"
    # Unsubscribe links are signed with the real key when it is set, else a throwaway one.
    signer = UnsubscribeSigner.from_config(config.email, ephemeral_ok=True)
    rendered = (render_for(config, signer, sub, content) if sub is not None
                else render_digest(content, recipient="you", unsubscribe_url=None))
    print(f"{rendered.subject} (for {who}; briefs since "
          f"{content.period_start:%Y-%m-%d %H:%M} UTC)", file=sys.stderr)
    if args.html:
        args.html.write_text(rendered.html, encoding="utf-8")
        print(f"HTML written to {args.html}", file=sys.stderr)
    if args.telegram:
        print("\n\n--- next message ---\n\n".join(telegram_digest(content)))
    elif args.text or not args.html:
        print(rendered.text)
    return EXIT_OK


def cmd_subscriber_add(config: Config, args: argparse.Namespace) -> int:
    from briefing.deliver.email.subscribers import add_email_subscriber

    with App(config) as app:
        added = add_email_subscriber(app.store, config, args.email, topics=args.topic, keywords=args.keyword,
                                     sources=args.source, digest_time=args.digest_time,
                                     timezone_name=args.timezone)
    sub = added.subscriber
    verb = "added" if added.created else "updated"
    print(f"{verb} subscriber {sub.id}: {sub.email} (verified), digest at {sub.digest_time} {sub.timezone}, "
          f"{added.subscriptions_added} new subscription(s)")
    return EXIT_OK
