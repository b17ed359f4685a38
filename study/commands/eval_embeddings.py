"""`study eval-embeddings FILE.npz`: every retrieval metric (spec section 5) from precomputed
embeddings, so any model can be scored and results checked against other implementations."""

from __future__ import annotations

import argparse

from study.commands.eval import add_eval_args, check_eval_args, report_result


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `eval-embeddings` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "eval-embeddings",
        "Score precomputed embeddings (npz: text_emb, text_item, text_lang, text_idx, "
        "optional image_emb, image_item) with every retrieval metric.",
        "study eval-embeddings emb.npz --protocol first --out results/emb",
    )
    p.add_argument("npz", help="embeddings file written by numpy.savez")
    add_eval_args(p)
    p.add_argument("--device", help="torch device; default: cuda when present, else cpu")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Load, evaluate, print the metrics and write --out."""
    import torch

    from trainers.evaluation import evaluate_embeddings, load_embeddings_npz

    arrays = load_embeddings_npz(args.npz)
    out = check_eval_args(args)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    result = evaluate_embeddings(
        **arrays, protocol=args.protocol, block_size=args.block_size, device=device
    )
    report_result(result, args, out, {"embeddings": str(args.npz)})
    return 0
