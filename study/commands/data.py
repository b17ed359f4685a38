"""`study data ...`: build canonical corpora (embedded generator and importers)."""

from __future__ import annotations

import argparse

from trainers.ray_data import RAY_DATA_MIN_ITEMS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `data` command group and its subcommands."""
    from study.cli import add_command, no_subcommand
    from study.data.emoji.settings import EmojiSettings

    p = add_command(
        sub,
        "data",
        "Generate the embedded corpus or import a dataset into a canonical corpus.",
        "study data synthetic --out data/synthetic --items 2000 --seed 0",
    )
    kinds = p.commands = p.add_subparsers(dest="kind", metavar="KIND")
    p.set_defaults(func=lambda args: no_subcommand(p, "what to build"))

    s = add_command(
        kinds,
        "synthetic",
        "Generate the embedded multilingual corpus: OUT/train, OUT/eval_xm3600, OUT/eval.",
        "study data synthetic --out data/synthetic --items 2000 --eval-items 300 --seed 0",
    )
    s.add_argument("--items", type=int, default=2000, help="training items (default 2000)")
    s.add_argument("--eval-items", type=int, default=300, help="eval items (default 300)")
    s.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    knobs = s.add_argument_group("difficulty knobs (see study.data.synthetic.World)")
    for knob, kind in (("shapes", int), ("colours", int), ("sizes", int), ("min-objects", int)):
        knobs.add_argument(f"--{knob}", type=kind, help=f"World.{knob.replace('-', '_')}")
    knobs.add_argument("--max-objects", type=int, help="World.max_objects (1-3)")
    knobs.add_argument("--noise", type=float, help="World.noise: pixel noise std (0-255 scale)")
    _output_args(s)
    s.set_defaults(func=_synthetic)

    e = add_command(
        kinds,
        "emoji",
        "Build the emoji corpus (CLDR names, OpenMoji glyphs): OUT/train, OUT/eval.",
        "study data emoji --out data/emoji --languages en de ja ar --objects 600 --seed 0",
    )
    for name, field in EmojiSettings.model_fields.items():
        kind = {int: int, float: float}.get(field.annotation, str)
        many = name.endswith("languages")
        default = f" (default {field.default})" if kind is not str else ""
        e.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            nargs="+" if many else None,
            metavar="CODE" if many else None,
            help=f"{field.description}{default}",
        )
    _output_args(e)
    e.set_defaults(func=_emoji)

    x = add_command(
        kinds,
        "xm3600",
        "Import Crossmodal-3600 (captions.jsonl and <image/key>.jpg files).",
        "study data xm3600 --captions xm3600/captions.jsonl --images xm3600/images --out data/xm3600",
    )
    x.add_argument("--captions", required=True, help="the XM3600 captions.jsonl")
    x.add_argument("--images", help="folder of <image/key>.jpg (omit for a text-only corpus)")
    _output_args(x, provenance=True)
    _image_args(x)
    x.set_defaults(func=_xm3600)

    m = add_command(
        kinds,
        "mt-captions",
        "Import COCO-35L / CC3M-35L translated captions (JSONL, also .bz2/.gz).",
        "study data mt-captions coco_mt_train.jsonl.bz2 --images coco/train2014 --out data/coco35l",
    )
    m.add_argument(
        "file",
        help="JSONL with image_id|rec_num, src_lang, trg_lang, caption_tokenized, translation_tokenized",
    )
    m.add_argument("--images", help="folder of <image_id>.jpg (omit for a text-only corpus)")
    _output_args(m, provenance=True)
    _image_args(m)
    m.set_defaults(func=_mt_captions)

    t = add_command(
        kinds,
        "table",
        "Import a caption table (JSONL, CSV/TSV, parquet) or a local/cached Hugging Face dataset.",
        "study data table captions.csv --item-col image --lang-col lang --text-col caption "
        "--image-col file --out data/mine",
    )
    t.add_argument(
        "source",
        help="a .jsonl/.json/.csv/.tsv/.parquet file, a datasets directory, or a cached dataset name",
    )
    t.add_argument("--item-col", required=True, help="column of the item (image) id")
    t.add_argument("--lang-col", required=True, help="column of the ISO 639 language code")
    t.add_argument("--text-col", required=True, help="column of the caption text")
    t.add_argument("--image-col", help="column of image bytes or image file paths")
    t.add_argument("--idx-col", help="column of the caption number (default: order of appearance)")
    t.add_argument(
        "--images", help="folder that relative image paths start from (default: the file's)"
    )
    t.add_argument("--split", help="split of a Hugging Face DatasetDict (default: train)")
    _output_args(t, provenance=True)
    _image_args(t)
    t.set_defaults(func=_table)

    w = add_command(
        kinds,
        "wds",
        "Import webdataset tar shards (img2dataset / open_clip layout) through Ray Data.",
        "study data wds 'laion-de/{000000..000099}.tar' --lang de --out data/laion-de",
    )
    w.add_argument(
        "shards",
        nargs="+",
        help="tar shards as brace patterns, one per source: 'DIR/{000000..000099}.tar'",
    )
    w.add_argument(
        "--lang",
        action="append",
        help="language of every caption: once for all sources, or once per source in order "
        "(default: each sample's .json key --lang-key)",
    )
    w.add_argument(
        "--lang-key", default="language", help="sample .json key of the caption language"
    )
    w.add_argument(
        "--caption-key",
        default="caption",
        help="sample .json key of the caption(s) where a sample has no .txt: a text, a list, "
        "or an object of language code -> text(s)",
    )
    _output_args(w, provenance=True)
    _image_args(w, ray_option=False)
    w.set_defaults(func=_wds)


def _output_args(p: argparse.ArgumentParser, provenance: bool = False) -> None:
    p.add_argument("--out", required=True, help="output directory (written atomically)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    if provenance:
        p.add_argument("--name", help="corpus name (default: the output directory's name)")
        # Its own dest: `study data table` has a positional `source` (the input).
        p.add_argument("--source", dest="source_note", help="provenance note for manifest.json")
        p.add_argument("--licence", help="licence note for manifest.json")


def _image_args(p: argparse.ArgumentParser, ray_option: bool = True) -> None:
    images = p.add_argument_group("images")
    images.add_argument(
        "--image-size",
        type=_positive,
        help="store images shrunk so the shorter side is this many pixels, as JPEG "
        "(default: as given, only checked)",
    )
    if ray_option:
        images.add_argument(
            "--ray",
            action=argparse.BooleanOptionalAction,
            help="read, check, resize and write images in parallel on Ray Data over the cluster's "
            f"CPUs (default: from {RAY_DATA_MIN_ITEMS:,} images on; --no-ray: in this process)",
        )


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return number


def _import_options(args: argparse.Namespace) -> dict:
    """--overwrite, the provenance notes and the image options as importer keyword arguments."""
    options = {"overwrite": args.overwrite, "image_size": args.image_size, **_provenance(args)}
    if hasattr(args, "ray"):
        options["use_ray"] = args.ray
    return options


def _report(path) -> int:
    from trainers.corpus import open_corpus

    c = open_corpus(path)
    images = "with images" if c.has_images else "text only"
    print(
        f"wrote {c.path}: {c.num_items} items, {c.captions.num_rows} captions, "
        f"{len(c.languages)} languages ({' '.join(c.languages)}), {images}"
    )
    return 0


def _provenance(args: argparse.Namespace) -> dict:
    given = {"name": args.name, "source": args.source_note, "licence": args.licence}
    return {k: v for k, v in given.items() if v is not None}


def _synthetic(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from study.data.synthetic import World, generate

    knobs = {
        f.name: getattr(args, f.name)
        for f in fields(World)
        if getattr(args, f.name, None) is not None
    }
    corpus = generate(
        args.out,
        items=args.items,
        eval_items=args.eval_items,
        seed=args.seed,
        world=World(**knobs),
        overwrite=args.overwrite,
    )
    _report(corpus.train)
    print(f"wrote {corpus.eval_xm3600}: XM3600 captions.jsonl + images/")
    return _report(corpus.eval)


def _codes(values: list[str] | None) -> tuple[str, ...] | None:
    """Languages given space- or comma-separated."""
    if values is None:
        return None
    return tuple(code for value in values for code in value.split(",") if code)


def _emoji(args: argparse.Namespace) -> int:
    from study.data.emoji.settings import EmojiSettings, settings_from_options
    from study.data.emoji.writer import build_emoji, resolve_inputs

    options = {name: getattr(args, name) for name in EmojiSettings.model_fields}
    for name in ("languages", "partial_languages"):
        options[name] = _codes(options[name])
    settings = settings_from_options(**options)
    inputs = resolve_inputs(settings)  # checked inputs first: errors come early
    print(inputs.source.describe(inputs.left_out))
    corpus = build_emoji(args.out, settings, overwrite=args.overwrite)
    _report(corpus.train)
    return _report(corpus.eval)


def _xm3600(args: argparse.Namespace) -> int:
    from study.data.xm3600 import import_xm3600

    return _report(import_xm3600(args.captions, args.images, args.out, **_import_options(args)))


def _mt_captions(args: argparse.Namespace) -> int:
    from study.data.mt_captions import import_mt_captions

    out = import_mt_captions(args.file, args.out, images=args.images, **_import_options(args))
    return _report(out)


def _table(args: argparse.Namespace) -> int:
    from study.data.table import Columns, import_table

    columns = Columns(args.item_col, args.lang_col, args.text_col, args.image_col, args.idx_col)
    extra = _import_options(args)
    if "source" in extra:
        extra["source_note"] = extra.pop("source")
    out = import_table(
        args.source, args.out, columns=columns, images=args.images, split=args.split, **extra
    )
    return _report(out)


def _wds(args: argparse.Namespace) -> int:
    from study.data.wds import import_wds

    out = import_wds(
        args.shards,
        args.out,
        langs=args.lang,
        caption_key=args.caption_key,
        lang_key=args.lang_key,
        **_import_options(args),
    )
    return _report(out)
