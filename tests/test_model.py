"""Towers, tokenizer and dual encoder: tiny and real-architecture Hugging Face models."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import (
    CLIPConfig,
    CLIPModel,
    CLIPVisionConfig,
    CLIPVisionModel,
    SiglipConfig,
    SiglipImageProcessor,
    SiglipModel,
    SiglipVisionModel,
    XLMRobertaConfig,
    XLMRobertaModel,
)

from trainers.config import ModelConfig, TowerConfig
from trainers.errors import InputError
from trainers.model import build_model, load_pretrained
from trainers.tokenizer import (
    VocabularyWarning,
    ensure_tokenizer,
    load_tokenizer,
    tokenize,
    train_tokenizer,
)

TEXTS = [
    "A red circle above a small blue square.",
    "Ein roter Kreis über einem kleinen blauen Quadrat.",
    "Un cercle rouge au-dessus d'un petit carré bleu.",
    "Красный круг над маленьким синим квадратом.",
    "دائرة حمراء فوق مربع أزرق صغير",
    "एक लाल वृत्त एक छोटे नीले वर्ग के ऊपर है",
    "小さい青い四角の上に赤い円があります。",
    "Ένας κόκκινος κύκλος πάνω από ένα μικρό μπλε τετράγωνο.",
]
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return train_tokenizer(TEXTS * 20, 300, tmp_path_factory.mktemp("tok") / "tokenizer")


def _images(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_tokenizer_handles_scripts_case_and_unspaced_japanese(tok_dir):
    tok = load_tokenizer(tok_dir)
    assert tok.tokenize("赤い円")[:3] == ["赤", "い", "円"]
    assert "[UNK]" not in tok.tokenize(TEXTS[5]) + tok.tokenize(TEXTS[4])
    assert tok.tokenize("Kreis") != tok.tokenize("kreis")  # no lowercasing
    ids = tok(TEXTS[2])["input_ids"]
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert tok.decode(ids, skip_special_tokens=True).replace(" ", "") == TEXTS[2].replace(" ", "")


def test_tokenizer_is_the_same_in_every_process(tmp_path):
    # Hash-map order differs per process: build in two fresh interpreters and compare the bytes.
    code = (
        "import sys, json; from trainers.tokenizer import train_tokenizer; "
        "train_tokenizer(json.loads(sys.argv[1]) * 5, 200, sys.argv[2])"
    )
    files = []
    for name in ("a", "b"):
        subprocess.run(
            [sys.executable, "-c", code, json.dumps(TEXTS), str(tmp_path / name)], check=True
        )
        files.append((tmp_path / name / "tokenizer.json").read_bytes())
    assert files[0] == files[1]


def test_tokenizer_vocabulary_never_exceeds_vocab_size_and_says_what_it_needs(tmp_path):
    # 600 distinct CJK characters (split one by one, so never '##' continuations) + Latin words.
    cjk = ["".join(chr(0x4E00 + (7 * i + j) % 600) for j in range(8)) for i in range(300)]
    latin = ["a red circle above a blue square"] * 20
    with pytest.warns(VocabularyWarning, match=r"vocab_size 300 .* (\d+) in all; .*at least \1 "):
        small = load_tokenizer(train_tokenizer(cjk + latin, 300, tmp_path / "small"))
    assert len(small) == 300 and "[UNK]" not in small.tokenize("a red circle")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # room for every character: no warning
        big = load_tokenizer(train_tokenizer(cjk + latin, 1000, tmp_path / "big"))
    vocab = big.get_vocab()
    assert len(vocab) < 1000 and {"circle", "square", "red"} <= set(vocab)  # every word fits
    assert not any(t.startswith("##") and "\u4e00" <= t[2] <= "\u9fff" for t in vocab)
    assert big.tokenize(cjk[0]) == list(cjk[0])


def test_ensure_tokenizer_caches_by_fingerprint_and_size(tmp_path):
    first = ensure_tokenizer(iter(TEXTS), "abc", 120, tmp_path)
    again = ensure_tokenizer(iter(["never", "read"]), "abc", 120, tmp_path)
    other = ensure_tokenizer(iter(TEXTS), "abc", 150, tmp_path)
    assert first == again != other
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_tiny_model_is_seeded_and_trains_end_to_end(tok_dir):
    cfg = ModelConfig(frozen_image_tower=False)
    model, tok = build_model(cfg, tokenizer_dir=tok_dir, seed=3)
    same, _ = build_model(cfg, tokenizer_dir=tok_dir, seed=3)
    other, _ = build_model(cfg, tokenizer_dir=tok_dir, seed=4)
    state, same_state, other_state = model.state_dict(), same.state_dict(), other.state_dict()
    assert all(torch.equal(state[k], same_state[k]) for k in state)
    assert not torch.equal(state["text_proj.weight"], other_state["text_proj.weight"])

    enc = tokenize(tok, TEXTS[:4], cfg.max_text_length, CPU)
    pixels = model.image_tower.preprocess(_images(4))
    text, image, scale_it, scale_tt = model(**enc, pixel_values=pixels)
    assert text.shape == image.shape == (4, cfg.embed_dim)
    assert torch.allclose(text.norm(dim=-1), torch.ones(4))
    assert scale_it.item() == pytest.approx(1 / 0.07) == scale_tt.item()
    (text @ image.T).diagonal().sum().backward()
    assert model.image_tower.encoder.embeddings.patch_embedding.weight.grad is not None
    assert model.text_tower.encoder.embeddings.word_embeddings.weight.grad is not None


def test_frozen_image_tower_gets_no_gradient_and_stays_in_eval(tok_dir):
    model, tok = build_model(ModelConfig(), tokenizer_dir=tok_dir, seed=0)
    model.train()
    assert not model.image_tower.training and model.text_tower.training
    assert not any(p.requires_grad for p in model.image_tower.parameters())
    enc = tokenize(tok, TEXTS[:2], 16, CPU)
    text, image, _, _ = model(**enc, pixel_values=model.image_tower.preprocess(_images(2)))
    (text * image).sum().backward()
    assert model.image_proj.weight.grad is not None


def test_export_round_trip_encodes_identically(tok_dir, tmp_path):
    model, tok = build_model(ModelConfig(embed_dim=16), tokenizer_dir=tok_dir, seed=1)
    with torch.no_grad():
        model.log_scale_tt.fill_(2.0)
    model.save_pretrained(tmp_path / "export", tok)
    loaded, loaded_tok = load_pretrained(tmp_path / "export")
    model.eval(), loaded.eval()
    enc = tokenize(loaded_tok, TEXTS, 32, CPU)
    pixels = model.image_tower.preprocess(_images(3))
    with torch.no_grad():
        outputs = zip(
            model(**enc, pixel_values=pixels), loaded(**enc, pixel_values=pixels), strict=True
        )
        for a, b in outputs:
            assert torch.allclose(a, b, atol=1e-6)
    assert loaded.config == model.config


def test_real_architectures_load_from_saved_hf_dirs(tok_dir, tmp_path):
    """XLM-R and CLIP vision dirs go through the same path as a downloaded xlm-roberta-base."""
    tok = load_tokenizer(tok_dir)
    xlmr_cfg = XLMRobertaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=40,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    xlmr = XLMRobertaModel(xlmr_cfg)
    xlmr.save_pretrained(tmp_path / "xlmr")
    tok.save_pretrained(str(tmp_path / "xlmr"))
    vision_cfg = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=48,
        patch_size=16,
    )
    vision = CLIPVisionModel(vision_cfg)
    vision.save_pretrained(tmp_path / "clipv")

    cfg = ModelConfig(
        text_tower=TowerConfig(source=str(tmp_path / "xlmr"), pooling="mean"),
        image_tower=TowerConfig(source=str(tmp_path / "clipv")),
        embed_dim=8,
        max_text_length=24,
    )
    model, model_tok = build_model(cfg, seed=0)
    model.eval(), xlmr.eval(), vision.eval()
    assert model.text_tower.width == 32 and model.image_tower.image_size == 48
    enc = tokenize(model_tok, TEXTS, 24, CPU)
    pixels = model.image_tower.preprocess(_images(2))
    assert pixels.shape == (2, 3, 48, 48)
    with torch.no_grad():
        text, image, _, _ = model(**enc, pixel_values=pixels)
        hidden = xlmr(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        expected_text = F.normalize(model.text_proj(pooled), dim=-1)
        expected_image = F.normalize(model.image_proj(vision(pixel_values=pixels).pooler_output))
    assert torch.allclose(text, expected_text, atol=1e-5)
    assert torch.allclose(image, expected_image, atol=1e-5)


def test_full_clip_checkpoint_loads_only_its_vision_half(tok_dir, tmp_path):
    clip_cfg = CLIPConfig(
        text_config={
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "vocab_size": 64,
        },
        vision_config={
            "hidden_size": 24,
            "intermediate_size": 48,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
    )
    clip = CLIPModel(clip_cfg)
    clip.save_pretrained(tmp_path / "clip")
    cfg = ModelConfig(image_tower=TowerConfig(source=str(tmp_path / "clip")))
    model, _ = build_model(cfg, tokenizer_dir=tok_dir, seed=0)
    assert model.image_tower.width == 24
    assert torch.equal(
        model.image_tower.encoder.embeddings.patch_embedding.weight,
        clip.vision_model.embeddings.patch_embedding.weight,
    )


def test_full_siglip_checkpoint_loads_only_its_vision_half_with_its_preprocessing(
    tok_dir, tmp_path
):
    tower = {"hidden_size": 24, "intermediate_size": 48, "num_hidden_layers": 1,
             "num_attention_heads": 2}  # fmt: skip
    siglip = SiglipModel(
        SiglipConfig(
            text_config={**tower, "vocab_size": 64},
            vision_config={**tower, "image_size": 32, "patch_size": 8},
        )
    )
    siglip.save_pretrained(tmp_path / "siglip")
    SiglipImageProcessor(
        size={"height": 32, "width": 32}, image_mean=[0.5] * 3, image_std=[0.25] * 3
    ).save_pretrained(str(tmp_path / "siglip"))
    cfg = ModelConfig(image_tower=TowerConfig(source=str(tmp_path / "siglip")), embed_dim=8)
    model, _ = build_model(cfg, tokenizer_dir=tok_dir, seed=0)

    image = model.image_tower
    assert isinstance(image.encoder, SiglipVisionModel) and image.width == 24
    assert image.image_size == 32
    assert torch.equal(image.mean.flatten(), torch.full((3,), 0.5))
    assert torch.equal(image.std.flatten(), torch.full((3,), 0.25))
    vision = siglip.vision_model.eval()
    pixels = image.preprocess(_images(2))
    assert torch.allclose(
        pixels, (torch.from_numpy(_images(2)).permute(0, 3, 1, 2) / 255 - 0.5) / 0.25
    )
    with torch.no_grad():
        assert torch.allclose(image.eval()(pixels), vision(pixel_values=pixels).pooler_output)
    model.save_pretrained(tmp_path / "export", load_tokenizer(tok_dir))
    loaded, _ = load_pretrained(tmp_path / "export")
    assert isinstance(loaded.image_tower.encoder, SiglipVisionModel)
    assert torch.equal(loaded.image_tower.std, image.std) and loaded.image_tower.image_size == 32


@pytest.mark.parametrize(
    ("cfg", "key"),
    [
        (ModelConfig(text_tower=TowerConfig(source="/no/such/model")), "model.text_tower.source"),
        (ModelConfig(text_tower=TowerConfig(hidden_size=30, heads=4)), "model.text_tower.heads"),
        (ModelConfig(image_tower=TowerConfig(image_size=30)), "model.image_tower.patch_size"),
    ],
)
def test_bad_tower_configs_name_the_key(tok_dir, cfg, key):
    with pytest.raises(InputError, match=key):
        build_model(cfg, tokenizer_dir=tok_dir, seed=0)
