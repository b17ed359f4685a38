"""`study status RUN`: a table of a study's trials with states, steps, key metrics and errors."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter

KEY_METRICS = ("mono.t2i.r1", "mono.t2t.map", "cross.t2t.r1", "cross.t2t.map")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `status` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "status",
        "Show a study's trials: state, step, key metrics, errors.",
        "study status runs/demo",
    )
    p.add_argument("run", help="run directory or URI (<storage>/<name>), or the study config")
    p.add_argument(
        "--json", action="store_true", help="print the run and its trials as one JSON document"
    )
    p.set_defaults(func=handle)


def status_document(uri: str, records: list) -> dict:
    """The status as data: per trial its params, state, step, error and last reported metrics."""
    trials = [
        {
            "trial_id": r.trial_id,
            "params": r.params,
            "status": r.status,
            "finished": r.finished,
            "step": r.steps,
            "error": r.error or None,
            "metrics": {k: None if math.isnan(v) else v for k, v in r.reported_metrics().items()},
        }
        for r in records
    ]
    counts = dict(sorted(Counter(r.status for r in records).items()))
    return {"run": uri, "counts": counts, "trials": trials}


def format_status(records: list) -> str:
    """The status table as text (one line per trial, errors in full on their own lines)."""
    head = f"{'trial':<12} {'arm':<10} {'alpha':>5} {'N':>7} {'seed':>4} {'state':<11} {'step':>6}"
    head += "".join(f" {m:>13}" for m in KEY_METRICS)
    lines = [head]
    for r in sorted(
        records,
        key=lambda r: (r.params["arm"], r.params["alpha"] or 0, r.params["data_size"] or 0),
    ):
        p, last = r.params, r.result
        alpha = "-" if p["alpha"] is None else f"{p['alpha']:g}"
        size = "-" if p["data_size"] is None else p["data_size"]
        step = "" if r.steps is None else r.steps
        line = f"{r.trial_id:<12} {p['arm']:<10} {alpha:>5} {size:>7} {p['seed']:>4} "
        line += f"{r.status:<11} {step!s:>6}"
        line += "".join(f" {last[m]:>13.3f}" if m in last else f" {'':>13}" for m in KEY_METRICS)
        lines.append(line)
        if r.error:
            lines.append(f"{'':<12} error: {r.error}")
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append(", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items())))
    if "INTERRUPTED" in counts:
        lines.append("interrupted trials resume from their last checkpoint on the next `study run`")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Print the status table."""
    from study.results import run_trials
    from study.run_dir import locate_run

    loc = locate_run(args.run)
    records = run_trials(loc.storage, loc.name)
    if args.json:
        print(json.dumps(status_document(loc.uri, records), indent=2))
        return 0
    print(f"run: {loc.uri}")
    print(format_status(records))
    return 0
