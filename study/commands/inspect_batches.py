"""`study inspect-batches CONFIG`: write the pairs a trial would train on, one JSON line per step
and rank (batch type, mono language, each pair's item, languages, captions and kind)."""

from __future__ import annotations

import argparse
from pathlib import Path

from study.commands.plan import add_config_args
from trainers.arms import arm_names, get_arm

BATCHES_FILE = "batches.jsonl"


def trained_arms() -> list[str]:
    """The registered arms that train (the others have no batches)."""
    return [name for name in arm_names() if get_arm(name).trains]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `inspect-batches` subcommand."""
    from study.cli import add_command

    p = add_command(
        sub,
        "inspect-batches",
        "Write the batches a trial trains on (one JSON line per step and rank) without training.",
        "study inspect-batches configs/demo.yaml --arm hybrid --alpha 0.5 --steps 20 "
        "--world-size 2 --out inspect/",
    )
    add_config_args(p)
    p.add_argument(
        "--arm", choices=trained_arms(), help="default: the first trained arm of sweep.arms"
    )
    p.add_argument(
        "--alpha",
        type=float,
        help="mono share of an arm with mix ratios; default: the middle of sweep.mix_ratios",
    )
    p.add_argument(
        "--data-size", type=int, help="training items N; default: the smallest of sweep.data_sizes"
    )
    p.add_argument("--seed", type=int, help="trial seed; default: the first of sweep.seeds")
    p.add_argument("--steps", type=int, required=True, help="global steps to write")
    p.add_argument("--world-size", type=int, help="ranks; default: resources.workers_per_trial")
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help=f"output directory (created if missing): {BATCHES_FILE} is written into it",
    )
    p.set_defaults(func=handle)


def _check_args(args: argparse.Namespace, cfg, num_items: int) -> None:
    from study.errors import StudyError

    if args.steps < 1:
        raise StudyError(f"--steps {args.steps}: give at least 1 step")
    if not 0.0 <= args.alpha <= 1.0:
        raise StudyError(f"--alpha {args.alpha} is outside [0, 1]; use a value between 0 and 1")
    if args.world_size < 1 or cfg.train.batch_size % args.world_size:
        raise StudyError(
            f"--world-size {args.world_size}: train.batch_size {cfg.train.batch_size} must be a "
            "multiple of it; pick a divisor of the batch size"
        )
    if not cfg.train.batch_size <= args.data_size <= num_items:
        raise StudyError(
            f"--data-size {args.data_size}: must lie between train.batch_size "
            f"{cfg.train.batch_size} and the training corpus size {num_items}"
        )


def handle(args: argparse.Namespace) -> int:
    """Resolve the trial's settings, run its samplers for --steps steps and write the lines."""
    import json

    from study.config import load_config
    from study.data.sources import resolve_corpora
    from study.errors import StudyError
    from study.output_dir import output_dir, write_file
    from trainers.batch import subset_items
    from trainers.corpus import open_corpus
    from trainers.sampler import PairSampler

    cfg = load_config(args.config, args.overrides)
    trained = [arm for arm in cfg.sweep.arms if get_arm(arm).trains]
    if args.arm is None and not trained:
        raise StudyError(f"sweep.arms has no trained arm; pass --arm {' or '.join(trained_arms())}")
    args.arm = args.arm or trained[0]
    arm = get_arm(args.arm)
    ratios = cfg.sweep.mix_ratios
    args.alpha = (ratios[len(ratios) // 2] if ratios else 0.5) if args.alpha is None else args.alpha
    args.data_size = args.data_size or cfg.sweep.data_sizes[0]
    args.seed = cfg.sweep.seeds[0] if args.seed is None else args.seed
    args.world_size = args.world_size or cfg.resources.workers_per_trial
    corpus = open_corpus(resolve_corpora(cfg)[0])
    index = corpus.caption_index()
    _check_args(args, cfg, index.num_items)
    items = subset_items(index.num_items, args.data_size, cfg.data.subset_seed)
    samplers = [
        PairSampler(
            index,
            items,
            arm=args.arm,
            alpha=args.alpha,
            batch_size=cfg.train.batch_size,
            rank=rank,
            world_size=args.world_size,
            seed=args.seed,
            languages=cfg.data.languages,
            language_sampling=cfg.train.language_sampling,
            language_temperature=cfg.train.language_temperature,
        )
        for rank in range(args.world_size)
    ]
    # Show what the train loop uses: no image-text pairs without images, no text-text at lambda 0.
    kinds = {
        "image-text": corpus.has_images,
        "text-text": arm.text_text and cfg.train.text_text_weight > 0,
    }
    ids = corpus.item_ids
    out = output_dir(args.out, (BATCHES_FILE,)) / BATCHES_FILE

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as f:
            for _ in range(args.steps):
                for sampler in samplers:
                    record = batch_record(sampler.next_batch(), sampler, index, ids, kinds)
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")

    write_file(out, write)
    label = f"{args.arm}" + (f" alpha={args.alpha:g}" if arm.sweeps_alpha else "")
    print(
        f"wrote {args.steps} steps x {args.world_size} ranks to {out} ({label}, N={args.data_size}, "
        f"seed={args.seed}, {samplers[0].steps_per_epoch} steps per epoch)"
    )
    return 0


def batch_record(batch, sampler, index, item_ids, kinds: dict[str, bool]) -> dict:
    """One JSON line: a rank's share of a step, each pair with item id, languages and captions."""
    codes = index.languages
    pairs = []
    if kinds["image-text"]:
        for item, row in zip(batch.it_items, batch.it_rows, strict=True):
            pairs.append(
                {
                    "item": str(item_ids[item]),
                    "kind": "image-text",
                    "lang_a": codes[index.lang[row]],
                    "idx_a": int(index.idx[row]),
                    "lang_b": None,
                    "idx_b": None,
                }
            )
    if kinds["text-text"]:
        for item, a, b in zip(batch.tt_items, batch.tt_rows_a, batch.tt_rows_b, strict=True):
            pairs.append(
                {
                    "item": str(item_ids[item]),
                    "kind": "text-text",
                    "lang_a": codes[index.lang[a]],
                    "idx_a": int(index.idx[a]),
                    "lang_b": codes[index.lang[b]],
                    "idx_b": int(index.idx[b]),
                }
            )
    return {
        "step": batch.step,
        "rank": sampler.rank,
        "epoch": sampler.epoch,
        "batch_type": batch.batch_type,
        "mono_lang": batch.mono_lang,
        "pairs": pairs,
    }
