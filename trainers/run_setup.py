"""Everything a training run holds before its first step: corpora, model, sampler, optimiser."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from trainers.batch import subset_items
from trainers.checkpoint import TOKENIZER_DIR, load_state, restore_model, set_rng_state
from trainers.config import ModelConfig
from trainers.corpus import open_corpus
from trainers.errors import InputError
from trainers.features import ensure_image_features, load_image_features
from trainers.job import TrainJob
from trainers.model import DualEncoder, build_model
from trainers.sampler import PairSampler
from trainers.schedule import total_steps, warmup_cosine
from trainers.token_cache import TokenIds, ensure_token_ids


@dataclass
class RunSetup:
    """The state of one rank's run, fresh or restored from a checkpoint."""

    train_corpus: object
    eval_corpus: object
    model: DualEncoder
    tokenizer: object
    train_features: np.ndarray | None
    eval_features: np.ndarray | None
    train_tokens: TokenIds | None  # every training caption's token ids, when cached
    sampler: PairSampler | None  # None for arms that do not train
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    steps: int  # total optimiser steps of the run
    step: int = 0  # steps done (restored on resume)
    samples_seen: int = 0
    wall_s: float = 0.0  # seconds spent by earlier attempts
    seconds: dict = field(default_factory=lambda: {"train_s": 0.0, "eval_s": 0.0})  # likewise
    attempt: int = 1  # 1 + the attempts before this one (a resume is a new attempt)


def effective_model_config(job: TrainJob) -> ModelConfig:
    """The job's model config; an arm that does not train evaluates its export, frozen, as is."""
    if job.spec.trains:
        return job.model
    src = job.pretrained_from or job.model.init_from
    return job.model.model_copy(update={"init_from": src, "frozen_image_tower": True})


def _optimizer(model: torch.nn.Module, job: TrainJob) -> torch.optim.AdamW:
    """AdamW; no weight decay on gains, biases and logit scales (as in CLIP)."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = job.train.optimizer
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": opt.weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=opt.lr, betas=opt.betas)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup_run(
    job: TrainJob, *, rank: int, world_size: int, device: torch.device, resume_dir: str | None
) -> RunSetup:
    """Build the run for `job` on this rank; restore every piece of state from `resume_dir`."""
    train_corpus, eval_corpus = open_corpus(job.train_corpus), open_corpus(job.eval_corpus)
    arm = job.spec
    if arm.trains and not (train_corpus.has_images or job.text_text_weight > 0):
        raise InputError(
            f"arm '{job.arm}' trains image-text pairs only, but {job.train_corpus} has no images; "
            "use the hybrid arm with train.text_text_weight > 0 for a text-only corpus"
        )
    model_cfg = effective_model_config(job)
    model, tokenizer = build_model(
        model_cfg,
        tokenizer_dir=Path(resume_dir) / TOKENIZER_DIR if resume_dir else None,
        corpus=train_corpus,
        cache_dir=job.cache_dir,
        seed=job.seed,
        temperature=job.train.temperature,
        with_images=train_corpus.has_images or eval_corpus.has_images,
    )
    model.to(device)
    frozen = model.image_tower is not None and model.config.frozen_image_tower

    def features(corpus, path: str) -> np.ndarray | None:
        if not (frozen and corpus.has_images):
            return None
        cached = ensure_image_features(model_cfg, path, job.cache_dir, device=device)
        return load_image_features(cached)

    sampler, steps = None, 0
    if arm.trains:
        index = train_corpus.caption_index()
        sampler = PairSampler(
            index,
            subset_items(index.num_items, job.data_size, job.subset_seed),
            arm=job.arm,
            alpha=job.alpha,
            batch_size=job.train.batch_size,
            rank=rank,
            world_size=world_size,
            seed=job.seed,
            languages=job.languages,
            language_sampling=job.train.language_sampling,
            language_temperature=job.train.language_temperature,
        )
        steps = total_steps(job.train.budget, sampler)
    optimizer = _optimizer(model, job)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(steps, job.train.optimizer.warmup_fraction)
    )
    run = RunSetup(
        train_corpus=train_corpus,
        eval_corpus=eval_corpus,
        model=model,
        tokenizer=tokenizer,
        train_features=features(train_corpus, job.train_corpus) if arm.trains else None,
        eval_features=features(eval_corpus, job.eval_corpus),
        train_tokens=(
            ensure_token_ids(tokenizer, train_corpus, model.config.max_text_length, job.cache_dir)
            if arm.trains
            else None
        ),
        sampler=sampler,
        optimizer=optimizer,
        schedule=schedule,
        steps=steps,
    )
    _seed_all(job.seed * 1000 + rank)
    if resume_dir:
        state = load_state(resume_dir)
        restore_model(model, state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        mine = state["ranks"][rank if rank < len(state["ranks"]) else 0]
        if sampler is not None:
            sampler.load_state_dict(mine["sampler"])
        set_rng_state(mine["rng"])
        run.step, run.samples_seen, run.wall_s = (
            state["step"],
            state["samples_seen"],
            state["wall_s"],
        )
        run.seconds = dict(state.get("seconds", run.seconds))
        run.attempt = int(state.get("attempt", 1)) + 1
    return run
