"""`study search`: query a corpus's captions (or images) with an exported model through faiss."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `search` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "search",
        "Search a corpus's captions or images with an exported model (cached faiss index).",
        'study search --model exports/best --corpus data/eval --lang de -k 5 "a red circle"',
    )
    p.add_argument("--model", required=True, metavar="DIR", help="an exported model dir")
    p.add_argument("--corpus", required=True, metavar="DIR", help="a canonical corpus dir")
    p.add_argument("--lang", help="only captions in this language (shown caption with --images)")
    p.add_argument("-k", type=int, default=5, help="hits per query (default %(default)s)")
    p.add_argument("--images", action="store_true", help="return images instead of captions")
    p.add_argument("--cache-dir", metavar="DIR", help="index cache (default: DIR/search_cache)")
    p.add_argument("query", nargs="+", help="one or more query texts")
    p.set_defaults(func=handle)


def format_hits(query: str, hits: list) -> str:
    """A block of hits for one query: rank, score, item_id, lang, caption."""
    lines = [f"query: {query}", f"{'rank':>4} {'score':>7} {'item_id':<18} {'lang':<5} caption"]
    lines += [f"{h.rank:>4} {h.score:>7.4f} {h.item_id:<18} {h.lang:<5} {h.caption}" for h in hits]
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    """Open (or build) the index, encode the queries and print their hits."""
    from study.errors import StudyError
    from study.search_index import check_lang, open_index
    from trainers.corpus import open_corpus
    from trainers.encoder import Encoder

    if args.k < 1:
        raise StudyError(f"-k {args.k}: must be at least 1; pass e.g. -k 5")
    corpus = open_corpus(args.corpus)
    check_lang(corpus, args.lang)
    encoder = Encoder.load(args.model)
    if args.images and not (encoder.has_images and corpus.has_images):
        lacking = args.model if not encoder.has_images else args.corpus
        raise StudyError(f"--images: {lacking} has no images; search captions (drop --images)")
    index, built = open_index(encoder, corpus, args.cache_dir)
    print(f"index: {index.path} ({'built' if built else 'cached'})", file=sys.stderr)
    queries = encoder.encode_texts(args.query)
    search = index.search_images if args.images else index.search_captions
    blocks = search(queries, args.k, args.lang)
    print("\n\n".join(format_hits(q, hits) for q, hits in zip(args.query, blocks, strict=True)))
    return 0
