"""`study search`: query a corpus with an exported model through faiss; hits are items, each
shown with its caption in the query's language (and with --save-images, its image)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `search` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "search",
        "Search a corpus's items by caption or image with an exported model (cached faiss index).",
        'study search --model exports/best --corpus data/eval -k 5 --save-images hits/ "a red circle"',
    )
    p.add_argument("--model", required=True, metavar="DIR", help="an exported model dir")
    p.add_argument("--corpus", required=True, metavar="DIR", help="a canonical corpus dir")
    p.add_argument(
        "--lang",
        help="match captions in this language only, and show captions in it "
        "(default: match all, show the query's detected language)",
    )
    p.add_argument("-k", type=int, default=5, help="items per query (default %(default)s)")
    p.add_argument("--images", action="store_true", help="rank items by image, not by caption")
    p.add_argument(
        "--save-images",
        metavar="DIR",
        help="write each hit's image into DIR (created if missing) as <query>-<rank>-<item_id>.<ext>",
    )
    p.add_argument("--cache-dir", metavar="DIR", help="index cache (default: MODEL/search_cache)")
    p.add_argument("query", nargs="+", help="one or more query texts")
    p.set_defaults(func=handle)


def format_hits(result) -> str:
    """A block of hits for one query: rank, score, item_id, lang, caption."""
    how = "detected" if result.detected else "--lang"
    language = f"{result.language} ({how})" if result.language else "unknown"
    lines = [f"query: {result.query}   language: {language}"]
    lines.append(f"{'rank':>4} {'score':>7} {'item_id':<18} {'lang':<5} caption")
    lines += [
        f"{h.rank:>4} {h.score:>7.4f} {h.item_id:<18} {h.lang:<5} {h.caption}" for h in result.hits
    ]
    return "\n".join(lines)


def save_images(corpus, results: list, directory: str) -> list:
    """Write every hit's encoded image into the directory; the paths, in hit order."""
    from study.output_dir import output_dir, write_file

    out = output_dir(directory, ("<query>-<rank>-<item_id> images",), flag="--save-images")
    ext = "jpg" if corpus.manifest.get("image_format") == "jpeg" else "png"
    paths = []
    for q, result in enumerate(results, start=1):
        images = corpus.encoded_images([h.item for h in result.hits])
        for hit, data in zip(result.hits, images, strict=True):
            path = out / f"{q}-{hit.rank:02d}-{hit.item_id}.{ext}"
            paths.append(write_file(path, lambda p, data=data: p.write_bytes(data)))
    return paths


def handle(args: argparse.Namespace) -> int:
    """Open (or build) the index, search, print the hits and save their images."""
    from study.errors import StudyError
    from study.search_index import check_lang, open_index
    from trainers.corpus import open_corpus

    if args.k < 1:
        raise StudyError(f"-k {args.k}: must be at least 1; pass e.g. -k 5")
    corpus = open_corpus(args.corpus)
    check_lang(corpus, args.lang)
    if args.save_images and not corpus.has_images:
        raise StudyError(f"--save-images: {args.corpus} has no images; drop --save-images")
    index, built = open_index(args.model, corpus, args.cache_dir)
    print(f"index: {index.path} ({'built' if built else 'cached'})", file=sys.stderr)
    results = index.search(args.query, args.k, lang=args.lang, images=args.images)
    print("\n\n".join(format_hits(result) for result in results))
    if args.save_images:
        paths = save_images(corpus, results, args.save_images)
        print(f"wrote {len(paths)} images to {args.save_images}", file=sys.stderr)
    return 0
