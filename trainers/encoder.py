"""Load an exported dual encoder and embed texts, images or a whole corpus (for notebooks).

Example::

    from trainers.encoder import Encoder

    enc = Encoder.load("exports/best")              # a `study best --export` dir; GPU if present
                                                    # and its recorded precision (model.json)
    texts = enc.encode_texts(["a red circle", "ein roter Kreis"])  # [2, d], unit norm
    images = enc.encode_images(pil_images)           # list of PIL images or uint8 [n, H, W, 3]
    scores = texts @ images.T                        # cosine similarities
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from trainers.errors import InputError
from trainers.model import DualEncoder, export_precision, load_pretrained
from trainers.precision import autocast, compute_dtype
from trainers.tokenizer import tokenize


class Encoder:
    """An exported DualEncoder and its tokenizer, in eval mode on one device and precision."""

    def __init__(
        self,
        model: DualEncoder,
        tokenizer,
        device: torch.device,
        path: Path | None,
        precision: str = "auto",
    ):
        compute_dtype(precision, device)  # fail early on an unknown policy
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = device
        self.path = path
        self.precision = precision

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        device: str | torch.device | None = None,
        precision: str | None = None,
    ) -> Encoder:
        """Load an export of `DualEncoder.save_pretrained`; device defaults to CUDA when present,
        precision to the policy the export recorded (`trainers.precision`)."""
        model, tokenizer = load_pretrained(model_dir)
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        precision = precision or export_precision(model_dir)
        return cls(model, tokenizer, device, Path(model_dir).expanduser(), precision)

    @property
    def embed_dim(self) -> int:
        """Size of the shared embedding space."""
        return self.model.config.embed_dim

    @property
    def has_images(self) -> bool:
        """Whether the model has an image tower (image corpora can be encoded)."""
        return self.model.image_tower is not None

    def encode_texts(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """Unit-norm float32 embeddings [len(texts), embed_dim]."""
        if isinstance(texts, str):
            texts = [texts]
        out = [np.zeros((0, self.embed_dim), np.float32)]
        with torch.inference_mode(), autocast(self.precision, self.device):
            for start in range(0, len(texts), batch_size):
                chunk = list(texts[start : start + batch_size])
                enc = tokenize(
                    self.tokenizer, chunk, self.model.config.max_text_length, self.device
                )
                out.append(self.model.encode_text(**enc).float().cpu().numpy())
        return np.concatenate(out)

    def _pixels(self, images) -> np.ndarray:
        """uint8 [n, H, W, 3] from an array or a list of PIL images (resized to the tower's size)."""
        if isinstance(images, np.ndarray):
            if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
                raise InputError(
                    f"images: expected uint8 [n, H, W, 3], got {images.dtype} {list(images.shape)}; "
                    "pass RGB uint8 arrays or PIL images"
                )
            return images
        from PIL import Image

        size = self.model.image_tower.image_size
        if not len(images):
            return np.zeros((0, size, size, 3), np.uint8)
        return np.stack(
            [np.asarray(img.convert("RGB").resize((size, size), Image.BICUBIC)) for img in images]
        )

    def encode_images(self, images, batch_size: int = 256) -> np.ndarray:
        """Unit-norm float32 embeddings [n, embed_dim] of uint8 [n, H, W, 3] or PIL images."""
        if not self.has_images:
            raise InputError(
                f"{self.path}: this model has no image tower; export one trained on an image corpus"
            )
        pixels = self._pixels(images)
        out = [np.zeros((0, self.embed_dim), np.float32)]
        with torch.inference_mode(), autocast(self.precision, self.device):
            for start in range(0, len(pixels), batch_size):
                x = self.model.image_tower.preprocess(pixels[start : start + batch_size])
                out.append(self.model.encode_image(x).float().cpu().numpy())
        return np.concatenate(out)

    def encode_corpus(self, corpus, items: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The embeddings-npz arrays (text_emb, text_item, ..., image_emb) of a canonical corpus."""
        from trainers.corpus import open_corpus
        from trainers.evaluation.encode import encode_corpus

        if isinstance(corpus, (str, Path)):
            corpus = open_corpus(corpus)
        return encode_corpus(
            self.model,
            self.tokenizer,
            corpus,
            items=items,
            device=self.device,
            precision=self.precision,
        )
