"""`study analyze RUN_DIR|TABLE`: results tables, scaling-law fits, figures and the report."""

from __future__ import annotations

import argparse

from study.errors import StudyError


def _pair(text: str) -> tuple[str, str]:
    from study.cli import metric_arg

    x, sep, y = text.partition(":")
    if not sep or not x or not y:
        raise argparse.ArgumentTypeError(f"{text!r}: expected X:Y, e.g. mono.t2t.map:cross.t2t.map")
    return metric_arg(x), metric_arg(y)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `analyze` subcommand."""
    from study.cli import add_command, metric_arg

    p = add_command(
        sub,
        "analyze",
        "Fit scaling laws, draw the trade-off and scaling figures and write report.md/report.html.",
        "study analyze runs/demo --metrics mono.t2i.r1 cross.t2t.r1 --out runs/demo/report",
    )
    p.add_argument("source", metavar="RUN_DIR|TABLE", help="study run directory, or a trials table (.csv/.parquet) "
                   "with arm, alpha, data_size, seed and one column per metric")  # fmt: skip
    p.add_argument(
        "--metrics",
        nargs="+",
        type=metric_arg,
        metavar="M",
        help="metrics to fit and plot (default: analysis.metrics)",
    )
    p.add_argument(
        "--tradeoff", nargs="+", type=_pair, metavar="X:Y", help="trade-off pairs, mono:cross"
    )
    p.add_argument(
        "--headline",
        type=_pair,
        metavar="X:Y",
        help="the mono:cross pair the answer quotes and the best hybrid is chosen on "
        "(default: analysis.headline, mono.t2i.r1:cross.t2t.r1)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="report directory (default: RUN_DIR/report or beside TABLE)"
    )
    from analysis.laws import law_names

    p.add_argument(
        "--fit", choices=law_names(), default=None, help="scaling law (default saturating)"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=None,
        metavar="B",
        help="bootstrap replicates (default 200)",
    )
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the analysis and print where the report is."""
    from analysis import analyze
    from study.config import AnalysisConfig

    defaults = AnalysisConfig()
    if args.bootstrap is not None and args.bootstrap < 0:
        raise StudyError(f"--bootstrap {args.bootstrap}: must be 0 or more (0 skips the intervals)")
    report = analyze(
        args.source,
        out=args.out,
        metrics=args.metrics or defaults.metrics,
        tradeoff_pairs=args.tradeoff or [tuple(p) for p in defaults.tradeoff],
        fit_form=args.fit or defaults.fit,
        bootstrap=defaults.bootstrap if args.bootstrap is None else args.bootstrap,
        headline=args.headline or tuple(defaults.headline),
    )
    print(f"report: {report}")
    print(f"html:   {report.with_suffix('.html')}")
    return 0
