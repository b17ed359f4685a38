"""`study eval-embeddings FILE.npz`: every retrieval metric (spec section 5) from precomputed
embeddings, so any model can be scored and results checked against other implementations."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `eval-embeddings` subcommand."""
    from study.cli import add_command
    from trainers.config import EVAL_BLOCK_SIZE

    p = add_command(
        sub,
        "eval-embeddings",
        "Score precomputed embeddings (npz: text_emb, text_item, text_lang, text_idx, "
        "optional image_emb, image_item) with every retrieval metric.",
        "study eval-embeddings emb.npz --protocol first --out metrics.json --long per_pair.csv",
    )
    p.add_argument("npz", help="embeddings file written by numpy.savez")
    p.add_argument(
        "--protocol",
        choices=("all", "first"),
        default="all",
        help="all: every caption is a query; first: the first caption per item and language",
    )
    p.add_argument("--out", help="write the aggregate metrics here as JSON")
    p.add_argument("--long", help="write per-language and per-pair values here as CSV")
    p.add_argument(
        "--block-size",
        type=int,
        default=EVAL_BLOCK_SIZE,
        help="a step scores at most BLOCK_SIZE**2 pairs",
    )
    p.add_argument("--device", help="torch device; default: cuda when present, else cpu")
    p.set_defaults(func=handle)


def _check_out(flag: str, path: str | None) -> None:
    from study.errors import StudyError

    if path is not None and not Path(path).resolve().parent.is_dir():
        raise StudyError(f"{flag} {path}: directory {Path(path).parent} does not exist")


def handle(args: argparse.Namespace) -> int:
    """Load, evaluate, print the aggregates and write the requested files."""
    import json

    import torch

    from study.errors import StudyError
    from trainers.evaluation import evaluate_embeddings, load_embeddings_npz

    if args.block_size < 1:
        raise StudyError(f"--block-size {args.block_size}: give a positive number of scores")
    _check_out("--out", args.out)
    _check_out("--long", args.long)
    arrays = load_embeddings_npz(args.npz)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    result = evaluate_embeddings(
        **arrays, protocol=args.protocol, block_size=args.block_size, device=device
    )
    text = json.dumps(result.aggregates, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    if args.long:
        result.long.to_csv(args.long, index=False)
    print(text)
    return 0
