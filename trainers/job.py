"""TrainJob: everything one trial needs, as one validated, JSON-serialisable object."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trainers.config import EvalConfig, ModelConfig, TrainConfig


class TrainJob(BaseModel):
    """One trial: configs, corpora, cache, and the grid point (arm, alpha, data size, seed)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    train_corpus: str = Field(..., description="canonical corpus dir to train on")
    eval_corpus: str = Field(..., description="canonical corpus dir to evaluate on")
    cache_dir: str = Field(..., description="tokenizers and frozen image features")
    arm: Literal["hybrid", "clip", "clip-en", "pretrained"] = "hybrid"
    alpha: float | None = Field(0.5, ge=0, le=1, description="mono share; hybrid arm only")
    data_size: int = Field(..., ge=1, description="distinct training items N")
    seed: int = 0
    subset_seed: int = 0
    languages: list[str] | None = None
    pretrained_from: str | None = Field(None, description="exported model dir (pretrained arm)")

    @model_validator(mode="after")
    def _arm_fields(self) -> TrainJob:
        if self.arm == "hybrid" and self.alpha is None:
            raise ValueError("arm 'hybrid' needs alpha in [0, 1]")
        if self.arm == "pretrained" and not (self.pretrained_from or self.model.init_from):
            raise ValueError("arm 'pretrained' needs pretrained_from: an exported model dir")
        return self

    @property
    def text_text_weight(self) -> float:
        """lambda in L = L_it + lambda * L_tt; the CLIP arms train image-text pairs only."""
        return self.train.text_text_weight if self.arm == "hybrid" else 0.0
