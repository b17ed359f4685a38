"""Text and image towers: Hugging Face encoders (local dir or cached name) or tiny ones from configs."""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    BertConfig,
    BertModel,
    CLIPVisionConfig,
    CLIPVisionModel,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
from transformers.models.auto.modeling_auto import MODEL_MAPPING

from trainers.config import TowerConfig
from trainers.errors import InputError

# Init seed of a frozen tiny image tower: it stands in for a pretrained tower, the same in every
# trial, so its features are computed once per corpus.
FROZEN_TOWER_SEED = 0


@contextmanager
def seeded(seed: int):
    """Run a block under a fixed torch seed without disturbing the caller's RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _check_tiny(cfg: TowerConfig, key: str, *, image: bool) -> None:
    if cfg.hidden_size % cfg.heads:
        raise InputError(
            f"config key '{key}.heads': hidden_size {cfg.hidden_size} is not divisible by "
            f"heads {cfg.heads}; pick heads that divide it (e.g. 4)"
        )
    if image and cfg.image_size % cfg.patch_size:
        raise InputError(
            f"config key '{key}.patch_size': image_size {cfg.image_size} is not divisible by "
            f"patch_size {cfg.patch_size}; pick a divisor (e.g. 8 for 32)"
        )


def _hf_config(source: str, key: str) -> PretrainedConfig:
    try:
        return AutoConfig.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise InputError(
            f"config key '{key}': '{source}' is neither 'tiny' nor a Hugging Face model dir or a "
            f"name in the local Hugging Face cache ({type(exc).__name__}); download it first or "
            "give a local path"
        ) from None


def _accepts(cls: type, name: str) -> bool:
    return name in inspect.signature(cls.__init__).parameters


def _width(config: PretrainedConfig) -> int:
    """The pooled feature size of an encoder (ConvNets name it hidden_sizes[-1])."""
    width = getattr(config, "hidden_size", None)
    return int(width if width is not None else config.hidden_sizes[-1])


class TextTower(nn.Module):
    """A Hugging Face text encoder with mean (over real tokens) or CLS pooling."""

    def __init__(self, encoder: PreTrainedModel, pooling: str):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.width = _width(encoder.config)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Pooled features [n, width]."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class ImageTower(nn.Module):
    """A Hugging Face vision encoder (CLIP vision or any vision AutoModel) with its preprocessing."""

    def __init__(self, encoder: PreTrainedModel, image_size: int, mean, std):
        super().__init__()
        self.encoder = encoder
        self.image_size = image_size
        self.width = _width(encoder.config)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 images [n, H, W, 3] to normalised pixel values [n, 3, S, S] on the tower's device."""
        if not isinstance(images, torch.Tensor):
            images = torch.from_numpy(np.ascontiguousarray(images))
        x = images.to(self.mean.device)
        x = x.permute(0, 3, 1, 2).float() / 255.0
        if x.shape[-2:] != (self.image_size, self.image_size):
            size = (self.image_size, self.image_size)
            x = nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True)
        return (x - self.mean) / self.std

    def corpus_pixels(self, corpus, items: np.ndarray) -> torch.Tensor:
        """Pixel values of a corpus's items, decoded at this tower's input size."""
        return self.preprocess(corpus.images(items, size=self.image_size))

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Pooled features [n, width]: the model's pooled output, else mean of its tokens."""
        out = self.encoder(pixel_values=pixel_values)
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            hidden = out.last_hidden_state  # [n, tokens, d], or [n, C, H, W] for ConvNets
            pooled = hidden.flatten(2).mean(-1) if hidden.dim() == 4 else hidden.mean(1)
        return pooled.flatten(1)


def build_text_tower(cfg: TowerConfig, *, vocab_size: int, max_length: int, seed: int) -> TextTower:
    """A text tower: tiny BERT (seeded init) or `AutoModel.from_pretrained(cfg.source)`."""
    if cfg.source != "tiny":
        config = _hf_config(cfg.source, "model.text_tower.source")
        cls = MODEL_MAPPING.get(type(config), AutoModel)
        # Pooling is ours, so BERT-style pooler heads would be dead weight (and unused in DDP).
        extra = {"add_pooling_layer": False} if _accepts(cls, "add_pooling_layer") else {}
        encoder = cls.from_pretrained(cfg.source, local_files_only=True, **extra)
        return TextTower(encoder, cfg.pooling)
    _check_tiny(cfg, "model.text_tower", image=False)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden_size,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        intermediate_size=4 * cfg.hidden_size,
        max_position_embeddings=max_length,
        # No dropout, as in CLIP training: a tiny tower trained briefly underfits rather than
        # overfits, and dropout masks cost a sizeable share of its step time on a CPU.
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    with seeded(seed):
        return TextTower(BertModel(config, add_pooling_layer=False), cfg.pooling)


def _side(size) -> int | None:
    """The square input side of an image processor's `crop_size` / `size` (dict or SizeDict)."""
    if size is None:
        return None
    if isinstance(size, int):
        return size
    get = size.get if isinstance(size, dict) else lambda key: getattr(size, key, None)
    return get("height") or get("shortest_edge")


def _preprocessing(source: str | None, config: PretrainedConfig) -> tuple[int, list, list]:
    """Input size, mean and std from the model dir's image processor config (the crop the
    model sees, else its resize), else the model config's image size and CLIP's mean and std."""
    size = getattr(config, "image_size", 224)
    size = size if isinstance(size, int) else size[0]
    mean, std = OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
    if source is not None and (Path(source) / "preprocessor_config.json").is_file():
        from transformers import AutoImageProcessor

        proc = AutoImageProcessor.from_pretrained(source, local_files_only=True)
        mean, std = getattr(proc, "image_mean", mean), getattr(proc, "image_std", std)
        crop = (
            _side(getattr(proc, "crop_size", None)) if getattr(proc, "do_center_crop", 0) else None
        )
        size = crop or _side(getattr(proc, "size", None)) or size
    return int(size), list(mean), list(std)


def _vision_class(config: PretrainedConfig) -> type:
    """The model class that loads the vision half of `config`: for a two-tower checkpoint (CLIP,
    SigLIP, ...: a config with a `vision_config`) the class of that sub-config, else AutoModel."""
    vision = getattr(config, "vision_config", None)
    if vision is not None and type(vision) in MODEL_MAPPING:
        return MODEL_MAPPING[type(vision)]
    return MODEL_MAPPING.get(type(config), AutoModel)


def image_input_size(cfg: TowerConfig) -> int:
    """The square input resolution of an image tower, without building it."""
    if cfg.source == "tiny":
        return cfg.image_size
    config = _hf_config(cfg.source, "model.image_tower.source")
    return _preprocessing(cfg.source, getattr(config, "vision_config", config))[0]


def build_image_tower(cfg: TowerConfig, *, seed: int) -> ImageTower:
    """An image tower: tiny CLIP vision (seeded init), or a vision model from a dir; a full
    two-tower checkpoint (CLIP, SigLIP) contributes only its vision model and preprocessing."""
    if cfg.source != "tiny":
        config = _hf_config(cfg.source, "model.image_tower.source")
        encoder = _vision_class(config).from_pretrained(cfg.source, local_files_only=True)
        return ImageTower(encoder, *_preprocessing(cfg.source, encoder.config))
    _check_tiny(cfg, "model.image_tower", image=True)
    config = CLIPVisionConfig(
        hidden_size=cfg.hidden_size,
        intermediate_size=4 * cfg.hidden_size,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        image_size=cfg.image_size,
        patch_size=cfg.patch_size,
    )
    with seeded(seed):
        return ImageTower(CLIPVisionModel(config), *_preprocessing(None, config))
