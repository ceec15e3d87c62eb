"""The ``briefing`` command: parses arguments, calls the library, formats the result.

Each module in this package registers its subcommands with ``register(sub)``
and is found automatically, so capabilities add commands without editing here.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from briefing.config import Config, load_config
from briefing.errors import BriefingError, ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def common_options(p: argparse.ArgumentParser) -> None:
    """Options every command takes; each matches a config key (``--data-dir`` -> ``data_dir``)."""
    p.add_argument("--config", default=os.environ.get("BRIEFING_CONFIG", "config.yaml"),
                   help="configuration file (default: config.yaml, or $BRIEFING_CONFIG)")
    p.add_argument("--data-dir", dest="opt_data_dir", help="overrides data_dir")
    p.add_argument("--database-url", dest="opt_database_url", help="overrides database_url")
    p.add_argument("--log-level", dest="opt_log_level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   help="overrides log_level")


def engine_options(p: argparse.ArgumentParser, extra: Sequence[str] = ()) -> None:
    p.add_argument("--engine", dest="opt_summariser.engine",
                   choices=["extractive", "transformers", "hybrid", *extra], help="overrides summariser.engine")
    p.add_argument("--model", dest="opt_summariser.model",
                   help="overrides summariser.model (hub id, local directory or GGUF file)")


def _modules() -> list[Any]:
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Self-hosted news briefs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _modules():
        module.register(sub)
    return parser


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Config overrides from options: every ``opt_<dotted.key>`` destination that was given."""
    out: dict[str, Any] = {}
    for dest, value in vars(args).items():
        if dest.startswith("opt_") and value is not None and value not in getattr(args, "not_config", ()):
            out[dest.removeprefix("opt_")] = value
    return out


def setup_logging(config: Config) -> None:
    logging.basicConfig(level=config.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that narrate routine work; our own messages report their failures.
    for noisy in ("alembic", "htmldate", "httpx", "httpcore", "apscheduler.executors.default",
                   "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config, overrides(args))
        setup_logging(config)
        return int(args.func(config, args))
    except ConfigError as exc:
        print(f"briefing: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BriefingError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("briefing: interrupted", file=sys.stderr)
        return 130
