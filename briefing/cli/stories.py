"""Story commands: ``briefing eval-stories FILE`` and ``briefing stories``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from briefing.cli import EXIT_OK, common_options
from briefing.config import Config


def register(sub: Any) -> None:
    p = sub.add_parser("eval-stories", help="score story clustering on a labelled JSONL set (k-fold CV)")
    common_options(p)
    p.add_argument("file", type=Path, help="JSONL with id, event, title, text, outlet, published")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--min-precision", type=float, default=0.95,
                   help="pairwise precision a setting must reach on the training folds (default 0.95)")
    p.add_argument("--configured", action="store_true",
                   help="score only the configured stories.* setting (in-sample, no tuning)")
    p.set_defaults(func=cmd_eval_stories)

    p = sub.add_parser("stories", help="list recent stories: outlets, articles, first and last seen")
    common_options(p)
    p.add_argument("--limit", type=int, default=20, help="at most this many stories (default 20)")
    p.set_defaults(func=cmd_stories)


def cmd_eval_stories(config: Config, args: argparse.Namespace) -> int:
    from briefing.stories.evaluate import format_reports, run
    from briefing.stories.service import params_from_config

    fixed = params_from_config(config.stories) if args.configured else None
    examples, reports, final = run(args.file, k=args.folds, min_precision=args.min_precision,
                                   window_hours=config.stories.window_hours,
                                   spacy_model=config.summariser.spacy_model, params=fixed)
    print(format_reports(examples, reports, args.folds))
    if final is not None:
        print(f"setting chosen on the whole set (use it as stories.*): {final.label()}")
    return EXIT_OK


def cmd_stories(config: Config, args: argparse.Namespace) -> int:
    from briefing.app import App
    from briefing.stories.render import story_text

    with App(config) as app:
        stories = app.recent_stories(limit=args.limit)
        if not stories:
            print("no stories yet", file=sys.stderr)
        for s in stories:
            print(story_text(s))
            print()
    return EXIT_OK
