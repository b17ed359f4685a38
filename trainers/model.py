"""The dual encoder: text tower + image tower, linear projections, learnable logit scales."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import ValidationError
from torch import nn
from transformers import PreTrainedTokenizerBase

from trainers.config import ModelConfig, TowerConfig
from trainers.errors import InputError, describe_validation
from trainers.tokenizer import corpus_tokenizer, load_tokenizer
from trainers.towers import (
    FROZEN_TOWER_SEED,
    ImageTower,
    TextTower,
    build_image_tower,
    build_text_tower,
    seeded,
)

try:  # transformers 5: the torchvision-free processor (the default one warns without torchvision)
    from transformers import CLIPImageProcessorPil as CLIPImageProcessor
except ImportError:
    from transformers import CLIPImageProcessor

EXPORT_FORMAT = 1
TEXT_DIR, IMAGE_DIR, HEADS_FILE, CONFIG_FILE = "text_tower", "image_tower", "heads.pt", "model.json"


class DualEncoder(nn.Module):
    """Text and (optional) image towers mapped into one normalised embedding space."""

    def __init__(
        self,
        config: ModelConfig,
        text_tower: TextTower,
        image_tower: ImageTower | None,
        *,
        temperature: float = 0.07,
    ):
        super().__init__()
        self.config = config
        self.text_tower = text_tower
        self.image_tower = image_tower
        self.text_proj = nn.Linear(text_tower.width, config.embed_dim, bias=False)
        self.image_proj = (
            nn.Linear(image_tower.width, config.embed_dim, bias=False) if image_tower else None
        )
        # Log-parameterised as in CLIP; trainers.loss.clamp_logit_scale keeps exp() <= 100.
        init = math.log(1.0 / temperature)
        self.log_scale_it = nn.Parameter(torch.tensor(init))
        self.log_scale_tt = nn.Parameter(torch.tensor(init))
        if image_tower is not None and config.frozen_image_tower:
            image_tower.requires_grad_(False)

    def train(self, mode: bool = True) -> DualEncoder:
        """Switch train/eval mode; a frozen image tower always stays in eval mode."""
        super().train(mode)
        if self.image_tower is not None and self.config.frozen_image_tower:
            self.image_tower.eval()
        return self

    def encode_text(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Unit-norm text embeddings [n, embed_dim]."""
        return F.normalize(self.text_proj(self.text_tower(input_ids, attention_mask)), dim=-1)

    def encode_image_features(self, features: torch.Tensor) -> torch.Tensor:
        """Unit-norm image embeddings from image-tower features [n, width] (projection only)."""
        return F.normalize(self.image_proj(features.to(self.image_proj.weight.dtype)), dim=-1)

    def encode_image(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Unit-norm image embeddings [n, embed_dim] from preprocessed pixels."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.frozen_image_tower):
            features = self.image_tower(pixel_values)
        return self.encode_image_features(features)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        image_features: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor]:
        """Text and image embeddings plus the two logit scales (returned so DDP sees them used)."""
        text = self.encode_text(input_ids, attention_mask)
        image = None
        if image_features is not None:
            image = self.encode_image_features(image_features)
        elif pixel_values is not None:
            image = self.encode_image(pixel_values)
        return text, image, self.log_scale_it.exp(), self.log_scale_tt.exp()

    def save_pretrained(
        self, out_dir: str | Path, tokenizer: PreTrainedTokenizerBase, precision: str = "auto"
    ) -> Path:
        """A self-contained export: HF towers (+ tokenizer), heads, the model config and the
        precision policy (`train.precision`) it was trained and evaluated with."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.text_tower.encoder.save_pretrained(out / TEXT_DIR)
        tokenizer.save_pretrained(str(out / TEXT_DIR))
        heads = {
            "text_proj": self.text_proj.state_dict(),
            "log_scale_it": self.log_scale_it.detach().cpu(),
            "log_scale_tt": self.log_scale_tt.detach().cpu(),
        }
        if self.image_tower is not None:
            tower = self.image_tower
            tower.encoder.save_pretrained(out / IMAGE_DIR)
            size = tower.image_size
            CLIPImageProcessor(
                size={"shortest_edge": size},
                crop_size={"height": size, "width": size},
                image_mean=tower.mean.flatten().tolist(),
                image_std=tower.std.flatten().tolist(),
            ).save_pretrained(str(out / IMAGE_DIR))
            heads["image_proj"] = self.image_proj.state_dict()
        torch.save(heads, out / HEADS_FILE)
        meta = {
            "format": EXPORT_FORMAT,
            "config": self.config.model_dump(mode="json"),
            "precision": precision,
        }
        (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return out


def _export_meta(root: Path) -> dict:
    if not (root / CONFIG_FILE).is_file():
        raise InputError(
            f"{root}: not an exported model dir (no {CONFIG_FILE}); export one with "
            "`study best RUN --export DIR`"
        )
    return json.loads((root / CONFIG_FILE).read_text(encoding="utf-8"))


def export_precision(model_dir: str | Path) -> str:
    """The precision policy an export recorded (`auto` for exports older than the record)."""
    return _export_meta(Path(model_dir).expanduser()).get("precision", "auto")


def load_pretrained(model_dir: str | Path) -> tuple[DualEncoder, PreTrainedTokenizerBase]:
    """Load an export of `DualEncoder.save_pretrained` (towers through `AutoModel`)."""
    root = Path(model_dir).expanduser()
    meta = _export_meta(root)
    try:
        cfg = ModelConfig.model_validate(meta["config"])
    except ValidationError as exc:
        raise InputError(
            f"{root / CONFIG_FILE}: invalid model config: {describe_validation(exc)}; "
            "re-export the model with `study best RUN --export DIR`"
        ) from None
    heads = torch.load(root / HEADS_FILE, map_location="cpu", weights_only=True)
    text_cfg = TowerConfig(source=str(root / TEXT_DIR), pooling=cfg.text_tower.pooling)
    text = build_text_tower(text_cfg, vocab_size=0, max_length=cfg.max_text_length, seed=0)
    image = None
    if "image_proj" in heads:
        image = build_image_tower(TowerConfig(source=str(root / IMAGE_DIR)), seed=0)
    model = DualEncoder(cfg, text, image)
    model.text_proj.load_state_dict(heads["text_proj"])
    if image is not None:
        model.image_proj.load_state_dict(heads["image_proj"])
    with torch.no_grad():
        model.log_scale_it.copy_(heads["log_scale_it"])
        model.log_scale_tt.copy_(heads["log_scale_tt"])
    return model, load_tokenizer(root / TEXT_DIR)


def build_model(
    model_cfg: ModelConfig,
    *,
    tokenizer_dir: str | Path | None = None,
    corpus=None,
    cache_dir: str | Path | None = None,
    seed: int = 0,
    temperature: float = 0.07,
    with_images: bool = True,
) -> tuple[DualEncoder, PreTrainedTokenizerBase]:
    """The dual encoder and tokenizer for a config (or its `init_from` export), seeded.

    A tiny text tower needs a tokenizer: `tokenizer_dir`, else one trained on `corpus` and cached
    under `cache_dir`. A frozen tiny image tower is initialised from a fixed seed (it plays the
    part of a pretrained tower, so all trials share its cached features); the rest from `seed`.
    """
    if model_cfg.init_from:
        model, tokenizer = load_pretrained(model_cfg.init_from)
        model.config = model.config.model_copy(
            update={"frozen_image_tower": model_cfg.frozen_image_tower, "init_from": None}
        )
        if model.image_tower is not None:
            model.image_tower.requires_grad_(not model_cfg.frozen_image_tower)
        return model, tokenizer
    text_cfg = model_cfg.text_tower
    if tokenizer_dir is None:
        if text_cfg.source != "tiny":
            tokenizer_dir = text_cfg.source
        elif corpus is None or cache_dir is None:
            raise ValueError("a tiny text tower needs tokenizer_dir, or corpus and cache_dir")
        else:
            tokenizer_dir = corpus_tokenizer(corpus, text_cfg.vocab_size, cache_dir)
    tokenizer = load_tokenizer(tokenizer_dir)
    text = build_text_tower(
        text_cfg, vocab_size=len(tokenizer), max_length=model_cfg.max_text_length, seed=seed
    )
    image = None
    if with_images:
        image_seed = FROZEN_TOWER_SEED if model_cfg.frozen_image_tower else seed
        image = build_image_tower(model_cfg.image_tower, seed=image_seed)
    with seeded(seed):
        model = DualEncoder(model_cfg, text, image, temperature=temperature)
    return model, tokenizer
