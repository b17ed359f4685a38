"""Validated configs for the model, the training run and evaluation (configs as data)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trainers.eval_defaults import EVAL_BLOCK_SIZE, EVAL_BOOTSTRAP

PROGRESS_REPORTS = 10  # progress reports per run when train.log_every is not set


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class TowerConfig(_Strict):
    """One encoder tower: a Hugging Face path/name, or a tiny tower built from a config."""

    source: str = Field(
        "tiny",
        description="'tiny' (built from a small HF config, no download) or a local HF model dir/name",
    )
    pooling: Literal["mean", "cls"] = "mean"
    hidden_size: int = Field(64, ge=8, description="tiny towers only")
    layers: int = Field(2, ge=1, description="tiny towers only")
    heads: int = Field(4, ge=1, description="tiny towers only")
    vocab_size: int = Field(
        2000,
        ge=100,
        description="tiny text tower: most tokens of its tokenizer (characters, then frequent "
        "words; a warning says when not every character fits)",
    )
    image_size: int = Field(32, ge=8, description="tiny image tower: input resolution")
    patch_size: int = Field(8, ge=2, description="tiny image tower: patch size")


class ModelConfig(_Strict):
    """Dual encoder: text tower, image tower, projection."""

    text_tower: TowerConfig = TowerConfig()
    image_tower: TowerConfig = TowerConfig()
    frozen_image_tower: bool = Field(
        True, description="freeze the image tower; features are cached once per (tower, corpus)"
    )
    embed_dim: int = Field(64, ge=2)
    max_text_length: int = Field(32, ge=4)
    init_from: str | None = Field(None, description="an exported model dir to warm-start from")


class BudgetConfig(_Strict):
    """How long a trial trains: exactly one of epochs, samples, steps."""

    epochs: float | None = Field(None, gt=0)
    samples: int | None = Field(None, gt=0)
    steps: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_of(self) -> BudgetConfig:
        given = [k for k in ("epochs", "samples", "steps") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of epochs, samples, steps (e.g. {epochs: 3})")
        return self


class OptimizerConfig(_Strict):
    """AdamW with warm-up and cosine decay."""

    lr: float = Field(3e-4, gt=0)
    weight_decay: float = Field(1e-2, ge=0)
    betas: tuple[float, float] = (0.9, 0.98)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    grad_clip: float = Field(1.0, gt=0)


class TrainConfig(_Strict):
    """One trial's training run."""

    batch_size: int = Field(64, ge=2, description="global batch (pairs per step, all workers)")
    budget: BudgetConfig = BudgetConfig(epochs=3)
    optimizer: OptimizerConfig = OptimizerConfig()
    precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto",
        description="auto: bf16 autocast on CUDA, fp32 elsewhere; bf16: bf16 autocast on any "
        "device (CPU included); fp32: none. Training, evaluation and exports (trainers.precision)",
    )
    text_text_weight: float = Field(1.0, ge=0, description="lambda in L = L_it + lambda * L_tt")
    temperature: float = Field(0.07, gt=0, le=1, description="initial softmax temperature")
    language_sampling: Literal["uniform", "proportional", "temperature"] = "uniform"
    language_temperature: float = Field(0.3, gt=0, le=1)
    checkpoint_every: int = Field(0, ge=0, description="steps between checkpoints; 0 = end only")
    log_every: int | None = Field(
        None, ge=0, description="steps between progress reports; default: 10 per run; 0 = none"
    )
    loader_workers: int | None = Field(
        None,
        ge=0,
        description="processes preparing batches ahead of the step; default: the trial "
        "worker's CPUs minus one; 0 = in the training process",
    )

    def log_period(self, steps: int) -> int:
        """Steps between progress reports of a run of `steps` steps (0: none)."""
        if self.log_every is not None:
            return self.log_every
        return max(1, steps // PROGRESS_REPORTS)


class EvalConfig(_Strict):
    """Held-out evaluation."""

    protocol: Literal["all", "first"] = "all"
    every: int = Field(0, ge=0, description="steps between periodic evals; 0 = end only")
    block_size: int = Field(
        EVAL_BLOCK_SIZE, ge=64, description="a block scores at most this**2 pairs"
    )
    max_items: int | None = Field(None, gt=0, description="cap on eval items (periodic evals)")
    bootstrap: int = Field(
        EVAL_BOOTSTRAP,
        ge=0,
        description="resamples of the final evaluation's 95 % per-query bootstrap intervals "
        "(<metric>.lo, <metric>.hi); 0: none",
    )
