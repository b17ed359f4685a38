"""`study run CONFIG`: run or resume a study's sweep, then write results tables and the report."""

from __future__ import annotations

import argparse
import shlex
import sys

from study.commands.plan import add_config_args


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "run",
        "Run a study (Ray Tune over Ray Train); re-running resumes it.",
        "study run configs/demo.yaml --set resources.max_concurrent_trials=2",
    )
    add_config_args(p)
    p.add_argument("--fresh", action="store_true", help="delete the previous run and start over")
    p.add_argument("--yes", action="store_true", help="do not ask before --fresh deletes a run")
    p.add_argument("--address", help="Ray cluster address (default: start a local cluster)")
    p.add_argument(
        "--verbose", action="store_true", help="also print Ray Tune's periodic status table"
    )
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the sweep and print where the results are; exit 1 if a trial errored, 130 if the
    sweep was interrupted."""
    from study.config import load_config
    from study.sweep import check_fresh_allowed, run_study

    cfg = load_config(args.config, args.overrides)
    if args.fresh:
        check_fresh_allowed(cfg.resources.storage, cfg.name, args.yes)
    outcome = run_study(cfg, fresh=args.fresh, address=args.address, verbose=args.verbose)
    print(f"run: {outcome.run} ({outcome.trials} trials, {outcome.errored} errored)")
    if outcome.report:
        print(f"report: {outcome.report}")
    print(f"training curves: tensorboard --logdir {outcome.run}")
    if outcome.interrupted:
        rerun = shlex.join(["study", "run", args.config, *(f"--set={o}" for o in args.overrides)])
        print(
            f"interrupted: {outcome.interrupted} of {outcome.trials} trials unfinished; "
            f"`{rerun}` resumes them (see `study status {outcome.run}`)",
            file=sys.stderr,
        )
        return 130
    if outcome.errored:
        print(
            f"error: {outcome.errored} of {outcome.trials} trials ended in error; "
            f"see why with `study status {outcome.run}`",
            file=sys.stderr,
        )
        return 1
    return 0
