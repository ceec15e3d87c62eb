"""The ``briefing`` command: parses arguments, calls the library, formats the result.

Each group of commands is a module with ``register(sub)``, listed once in :func:`_modules`
(registered explicitly, not discovered).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from briefing import __version__
from briefing.config import Config, load_config
from briefing.errors import BriefingError, ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_CONFIG = "config.yaml"
# The shipped config.yaml (a link in a checkout, package data in a wheel): `briefing demo` run
# where there is no config.yaml uses it, with the bundled seeds and data in ./data.
BUNDLED_CONFIG = Path(__file__).resolve().parents[1] / "demo" / "config.yaml"


def common_options(p: argparse.ArgumentParser) -> None:
    """Options every command takes, before or after the command name; each matches a config key.

    ``SUPPRESS`` as the default lets a value given before the command survive the sub-parser
    (argparse would otherwise overwrite it with the sub-parser's default).
    """
    p.add_argument("--config", default=argparse.SUPPRESS,
                   help="configuration file (default: config.yaml, or $BRIEFING_CONFIG)")
    p.add_argument("--data-dir", dest="opt_data_dir", default=argparse.SUPPRESS, help="overrides data_dir")
    p.add_argument("--database-url", dest="opt_database_url", default=argparse.SUPPRESS,
                   help="overrides database_url")
    p.add_argument("--log-level", dest="opt_log_level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                   default=argparse.SUPPRESS, help="overrides log_level")


def engine_options(p: argparse.ArgumentParser, extra: Sequence[str] = ()) -> None:
    p.add_argument("--engine", dest="opt_summariser.engine",
                   choices=["extractive", "transformers", "hybrid", "openai", *extra], help="overrides summariser.engine")
    p.add_argument("--model", dest="opt_summariser.model",
                   help="overrides summariser.model (hub id, local directory or GGUF file)")


def _modules() -> list[Any]:
    """The groups of commands, registered explicitly in this one list (each has ``register``)."""
    from briefing.cli import core, digest, model, service, stories  # they import this module

    return [core, digest, model, service, stories]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="briefing", description="Self-hosted news briefs.")
    parser.add_argument("--version", action="version", version=f"briefing {__version__}")
    common_options(parser)
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


def config_path(args: argparse.Namespace) -> Path:
    """--config, else $BRIEFING_CONFIG, else ./config.yaml; for `demo` without any, the shipped one."""
    given = getattr(args, "config", None) or os.environ.get("BRIEFING_CONFIG")
    if given:
        return Path(given)
    if args.command == "demo" and not Path(DEFAULT_CONFIG).exists() and BUNDLED_CONFIG.is_file():
        return BUNDLED_CONFIG
    return Path(DEFAULT_CONFIG)


def _load(args: argparse.Namespace) -> Config:
    path = config_path(args)
    opts = overrides(args)
    if path == BUNDLED_CONFIG:  # the shipped demo: seeds next to it, data in the working directory
        opts.setdefault("data_dir", str(Path.cwd() / "data"))
    return load_config(path, opts)


def check_data_dir(config: Config) -> None:
    """A data directory that cannot be created or written is a one-line usage error, not a traceback."""
    path = config.data_path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"data_dir {path}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"data_dir {path}: not writable by this user")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = _load(args)
        setup_logging(config)
        if config.database_url is None or args.command == "demo":  # SQLite file or exports there
            check_data_dir(config)
        return int(args.func(config, args))
    except ConfigError as exc:
        print(f"briefing: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a path the user gave that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"briefing: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except BriefingError as exc:
        print(f"briefing: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("briefing: interrupted", file=sys.stderr)
        return 130
