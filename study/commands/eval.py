"""`study eval --model DIR --data DIR`: score an exported model on an eval corpus (spec section 5)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `eval` subcommand."""
    from study.cli import add_command
    from trainers.config import EVAL_BLOCK_SIZE

    p = add_command(
        sub,
        "eval",
        "Encode an eval corpus with an exported model and compute every retrieval metric.",
        "study eval --model exports/best --data data/xm3600 --out metrics.json --long pairs.csv",
    )
    p.add_argument("--model", required=True, metavar="DIR", help="an exported model dir")
    p.add_argument("--data", required=True, metavar="DIR", help="a canonical eval corpus dir")
    p.add_argument("--protocol", choices=("all", "first"), default="all", help="query captions")
    p.add_argument(
        "--block-size",
        type=int,
        default=EVAL_BLOCK_SIZE,
        help="a step scores at most BLOCK_SIZE**2 pairs",
    )
    p.add_argument("--out", metavar="FILE", help="write the aggregate metrics as JSON")
    p.add_argument("--long", metavar="FILE", help="write per-language / per-pair values as CSV")
    p.set_defaults(func=handle)


def _writable(path: str | None) -> Path | None:
    """The output path, its parent created; fails before the (slow) encoding."""
    from study.errors import StudyError

    if path is None:
        return None
    out = Path(path).expanduser()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudyError(f"{out}: cannot write ({exc.strerror}); choose a writable path") from None
    return out


def handle(args: argparse.Namespace) -> int:
    """Encode, score, print the aggregates, and write the requested files."""
    from trainers.corpus import open_corpus
    from trainers.encoder import Encoder
    from trainers.evaluation import evaluate_embeddings

    out, long = _writable(args.out), _writable(args.long)
    corpus = open_corpus(args.data)
    encoder = Encoder.load(args.model)
    arrays = encoder.encode_corpus(corpus)
    result = evaluate_embeddings(
        **arrays, protocol=args.protocol, block_size=args.block_size, device=encoder.device
    )
    print(f"model: {args.model}  data: {args.data} ({corpus.num_items} items)  {args.protocol}")
    for name, value in sorted(result.aggregates.items()):
        print(f"{name:<24} {value:.4f}")
    if out is not None:
        summary = {
            "model": str(args.model),
            "data": str(args.data),
            "protocol": args.protocol,
            "metrics": {k: None if math.isnan(v) else v for k, v in result.aggregates.items()},
        }
        out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if long is not None:
        result.long.to_csv(long, index=False)
    return 0
