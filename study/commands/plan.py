"""`study plan CONFIG`: validate a study and print its trial list without starting Ray."""

from __future__ import annotations

import argparse
from collections import Counter


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `plan` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "plan",
        "Validate a study config and print its trials (no Ray).",
        "study plan configs/demo.yaml --set sweep.seeds=[0,1]",
    )
    add_config_args(p)
    p.set_defaults(func=handle)


def add_config_args(p: argparse.ArgumentParser) -> None:
    """CONFIG plus repeatable --set key=value overrides (shared by config-taking commands)."""
    p.add_argument("config", help="study config (YAML)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.batch_size=32 (repeatable)",
    )


def handle(args: argparse.Namespace) -> int:
    """Print the validated trial list."""
    from study.config import load_config
    from study.plan import plan, summarize_train_corpus

    cfg = load_config(args.config, args.overrides)
    trials = plan(cfg, require_data=False)
    if summarize_train_corpus(cfg) is None:
        print(
            f"note: data.train {cfg.data.train} is not imported yet; size and language checks skipped"
        )
    print(f"study {cfg.name}: {len(trials)} trials")
    print(f"{'#':>3}  {'arm':<10} {'alpha':>5} {'N':>8} {'seed':>4}")
    for i, t in enumerate(trials):
        alpha = "-" if t.alpha is None else f"{t.alpha:g}"
        size = "-" if t.data_size is None else t.data_size
        print(f"{i:>3}  {t.arm:<10} {alpha:>5} {size:>8} {t.seed:>4}")
    arms = ", ".join(f"{arm} x{n}" for arm, n in Counter(t.arm for t in trials).items())
    print(f"arms: {arms}")
    return 0
