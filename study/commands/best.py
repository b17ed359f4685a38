"""`study best RUN`: the best trial by a metric, optionally exported as a self-contained model dir."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `best` subcommand."""
    from study.cli import add_command, metric_arg

    p = add_command(
        sub,
        "best",
        "Print a study's best trial by a metric and optionally export its model.",
        "study best runs/demo --metric cross.t2t.r1 --arm hybrid --export exports/best",
    )
    p.add_argument("run", help="run directory or URI (<storage>/<name>), or the study config")
    p.add_argument(
        "--metric",
        type=metric_arg,
        default="cross.t2t.r1",
        help="metric, or an interval end such as mono.t2i.r1.lo (default %(default)s)",
    )
    p.add_argument(
        "--mode", choices=("max", "min"), help="max or min (default: min for rank_distance)"
    )
    p.add_argument("--arm", help="only trials of this arm (as `study status RUN` lists them)")
    p.add_argument(
        "--export", metavar="DIR", help="copy its model here (path or URI; must not exist)"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the choice as JSON (the export's metrics.json, plus exported_to)",
    )
    p.set_defaults(func=handle)


def format_best(best) -> str:
    """The best trial (a header and a row), then its final metrics with their 95 % intervals."""
    from study.metric_display import metrics_table, with_interval

    p = best.params
    metrics = best.record.metrics()
    alpha = "-" if p.get("alpha") is None else f"{p['alpha']:g}"
    size = "-" if p.get("data_size") is None else p["data_size"]
    head = f"{'trial':<12} {'arm':<10} {'alpha':>5} {'N':>7} {'seed':>4}  {best.metric} [95 %]"
    row = f"{best.trial_id:<12} {p.get('arm')!s:<10} {alpha:>5} {size!s:>7} "
    row += f"{p.get('seed')!s:>4}  {with_interval(metrics, best.metric)}"
    return f"{head}\n{row}\n\nfinal metrics of {best.trial_id}:\n{metrics_table(metrics)}"


def handle(args: argparse.Namespace) -> int:
    """Print the best trial; export it with --export."""
    import json

    from study.best import best_trial, export_best

    kwargs = {"metric": args.metric, "mode": args.mode, "arm": args.arm}
    if args.export:
        best = export_best(args.run, args.export, **kwargs)
    else:
        best = best_trial(args.run, **kwargs)
    if args.json:
        exported = {"exported_to": args.export} if args.export else {}
        print(json.dumps({**best.summary(), **exported}, indent=2))
        return 0
    scope = f" of arm {args.arm}" if args.arm else ""
    print(f"run: {best.run.uri}")
    print(f"best by {best.metric} ({best.mode}) of {best.candidates} finished trials{scope}:")
    print(format_best(best))
    if args.export:
        print(f"exported to {args.export}")
    return 0
