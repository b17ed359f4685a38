"""`study eval --model DIR --data DIR`: score an exported model on an eval corpus (spec section 5).

Also the options and output shared with `study eval-embeddings`: the table (or `--json`) on
stdout, and with `--out DIR` the files metrics.json and per_language.csv in DIR.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from trainers.metric_names import PER_LANGUAGE_FILE

METRICS_JSON = "metrics.json"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `eval` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "eval",
        "Encode an eval corpus with an exported model and compute every retrieval metric.",
        "study eval --model exports/best --data data/xm3600 --out results/best-xm3600",
    )
    p.add_argument("--model", required=True, metavar="DIR", help="an exported model dir")
    p.add_argument("--data", required=True, metavar="DIR", help="a canonical eval corpus dir")
    add_eval_args(p)
    p.set_defaults(func=handle)


def add_eval_args(p: argparse.ArgumentParser) -> None:
    """--protocol, --block-size, --bootstrap, --out DIR and --json (eval and eval-embeddings)."""
    from trainers.eval_defaults import EVAL_BLOCK_SIZE, EVAL_BOOTSTRAP

    p.add_argument(
        "--protocol",
        choices=("all", "first"),
        default="all",
        help="all: every caption is a query; first: the first caption per item and language",
    )
    p.add_argument(
        "--block-size",
        type=int,
        default=EVAL_BLOCK_SIZE,
        help="a step scores at most BLOCK_SIZE**2 pairs (default %(default)s)",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=EVAL_BOOTSTRAP,
        metavar="B",
        help="resamples of the 95 %% per-query bootstrap intervals (default %(default)s; 0: none)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help=f"write {METRICS_JSON} (metrics and intervals) and {PER_LANGUAGE_FILE} (per-language "
        "and per-pair values) into DIR (created if missing)",
    )
    p.add_argument("--json", action="store_true", help=f"print {METRICS_JSON} instead of a table")


def check_eval_args(args: argparse.Namespace) -> Path | None:
    """Fail on bad numbers or an unusable --out before any slow work; the output dir or None."""
    from study.errors import StudyError
    from study.output_dir import output_dir

    if args.block_size < 1:
        raise StudyError(f"--block-size {args.block_size}: give a positive number of scores")
    if args.bootstrap < 0:
        raise StudyError(f"--bootstrap {args.bootstrap}: give 0 (no intervals) or more resamples")
    return output_dir(args.out, (METRICS_JSON, PER_LANGUAGE_FILE))


def report_result(result, args: argparse.Namespace, out: Path | None, source: dict) -> None:
    """Print the metrics with their intervals (a table, or the JSON of --json); write --out."""
    from study.metric_display import metrics_table
    from study.output_dir import write_file

    metrics = {**result.aggregates, **result.intervals(args.bootstrap)}
    document = {
        **source,
        "protocol": args.protocol,
        "bootstrap": args.bootstrap,
        "metrics": {k: None if math.isnan(v) else v for k, v in metrics.items()},
    }
    if out is not None:
        text = json.dumps(document, indent=2) + "\n"
        write_file(out / METRICS_JSON, lambda p: p.write_text(text, encoding="utf-8"))
        write_file(out / PER_LANGUAGE_FILE, lambda p: result.long.to_csv(p, index=False))
    if args.json:  # stdout holds the JSON document only
        print(json.dumps(document, indent=2))
        return
    described = ", ".join(f"{k}: {v}" for k, v in source.items())
    print(f"{described}; protocol {args.protocol}, {args.bootstrap} bootstrap resamples")
    print(metrics_table(metrics))
    if out is not None:
        print(f"wrote {out / METRICS_JSON} and {out / PER_LANGUAGE_FILE}")


def handle(args: argparse.Namespace) -> int:
    """Encode, score, print the metrics and write --out."""
    from trainers.corpus import open_corpus
    from trainers.encoder import Encoder
    from trainers.evaluation import evaluate_embeddings

    corpus = open_corpus(args.data)
    out = check_eval_args(args)
    encoder = Encoder.load(args.model)
    arrays = encoder.encode_corpus(corpus)
    result = evaluate_embeddings(
        **arrays, protocol=args.protocol, block_size=args.block_size, device=encoder.device
    )
    report_result(result, args, out, {"model": str(args.model), "data": str(args.data)})
    return 0
