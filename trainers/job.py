"""TrainJob: everything one trial needs, as one validated, JSON-serialisable object."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trainers.arms import Arm, get_arm
from trainers.config import EvalConfig, ModelConfig, TrainConfig


class TrainJob(BaseModel):
    """One trial: configs, corpora, cache, and the grid point (arm, alpha, data size, seed).

    `data_size` is None exactly for arms evaluated once without training (`pretrained`).
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    train_corpus: str = Field(..., description="canonical corpus dir to train on")
    eval_corpus: str = Field(..., description="canonical corpus dir to evaluate on")
    cache_dir: str = Field(..., description="tokenizers and frozen image features")
    arm: str = Field("hybrid", description="a registered arm (trainers.arms)")
    alpha: float | None = Field(0.5, ge=0, le=1, description="mono share; arms with mix ratios")
    data_size: int | None = Field(..., ge=1, description="distinct training items N")
    seed: int = 0
    subset_seed: int = 0
    languages: list[str] | None = None
    pretrained_from: str | None = Field(None, description="exported model dir (pretrained arm)")

    @field_validator("arm")
    @classmethod
    def _known_arm(cls, arm: str) -> str:
        get_arm(arm)
        return arm

    @model_validator(mode="after")
    def _arm_fields(self) -> TrainJob:
        arm = self.spec
        if arm.sweeps_alpha and self.alpha is None:
            raise ValueError(f"arm '{arm.name}' needs alpha in [0, 1]")
        if arm.sized and self.data_size is None:
            raise ValueError(f"arm '{arm.name}' trains: give data_size, the training items N")
        if not arm.sized and self.data_size is not None:
            raise ValueError(f"arm '{arm.name}' does not train: data_size must be null")
        if not arm.trains and not (self.pretrained_from or self.model.init_from):
            raise ValueError(f"arm '{arm.name}' needs pretrained_from: an exported model dir")
        return self

    @property
    def spec(self) -> Arm:
        """The job's arm from the registry."""
        return get_arm(self.arm)

    @property
    def text_text_weight(self) -> float:
        """lambda in L = L_it + lambda * L_tt; arms without text-text pairs train L_it only."""
        return self.train.text_text_weight if self.spec.text_text else 0.0
