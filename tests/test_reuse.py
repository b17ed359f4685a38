"""Reusing the best trial: pick and export it, load and encode, search, eval and warm-start."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from study.best import best_trial
from study.cli import main
from study.run_dir import TRAIN_DIR, TUNE_DIR
from trainers.checkpoint import MODEL_DIR, PER_LANGUAGE_FILE, TOKENIZER_DIR, write_checkpoint
from trainers.config import ModelConfig
from trainers.corpus import open_corpus
from trainers.encoder import Encoder
from trainers.job import TrainJob
from trainers.loop import run_training
from trainers.model import build_model, load_pretrained
from trainers.reporting import LocalReporter
from trainers.traced_text import TracedText

HYBRID = {"arm": "hybrid", "alpha": 0.5, "data_size": 400, "seed": 0}
CLIP = {"arm": "clip", "alpha": None, "data_size": 400, "seed": 0}


def _write_run(run: Path, trials: list[tuple[str, dict, str, dict]]) -> Path:
    """A run dir as Tune leaves it, as far as study.results reads it (the experiment state)."""
    (run / TUNE_DIR).mkdir(parents=True)
    data = [
        [
            json.dumps(
                {"trial_id": tid, "config": params, "status": status, "relative_logdir": tid}
            ),
            json.dumps({"last_result": last}),
        ]
        for tid, params, status, last in trials
    ]
    state = run / TUNE_DIR / "experiment_state-2026-01-01_00-00-00.json"
    state.write_text(json.dumps({"trial_data": data}))
    return run


def _aggregates(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if "." in k}


@pytest.fixture(scope="module")
def trained(tiny_job, tmp_path_factory):
    """One really trained trial: its job, final metrics and final checkpoint dir."""
    job = tiny_job(budget={"steps": 40})
    reporter = LocalReporter(tmp_path_factory.mktemp("trained"))
    metrics = run_training(job, reporter=reporter)
    return job, metrics, reporter.checkpoints[-1]


@pytest.fixture(scope="module")
def run(trained, tmp_path_factory):
    """A run: the trained hybrid trial, an untrained clip trial and unfinished/errored ones."""
    job, metrics, ckpt = trained
    root = tmp_path_factory.mktemp("runs") / "demo"
    clip_ckpt = root / TRAIN_DIR / "t_clip" / "checkpoint_000000"
    model, tok = build_model(job.model, tokenizer_dir=ckpt / TOKENIZER_DIR, seed=1)
    per_language = pd.DataFrame(columns=["metric", "lang_a", "lang_b", "value"])
    write_checkpoint(
        clip_ckpt, state={}, model=model, tokenizer=tok, job_json="{}", per_language=per_language
    )
    clip = {k: v - 0.05 for k, v in _aggregates(metrics).items()}
    clip["mono.t2i.r1"] = metrics["mono.t2i.r1"] + 0.05
    clip["multi.rank_distance"] = metrics["multi.rank_distance"] - 0.5
    return _write_run(
        root,
        [
            ("t_hyb", HYBRID, "TERMINATED", {**metrics, "checkpoint_path": str(ckpt)}),
            ("t_clip", CLIP, "TERMINATED", {**clip, "final": 1, "checkpoint_path": str(clip_ckpt)}),
            ("t_run", {**HYBRID, "alpha": 1.0}, "RUNNING", {"step": 5, "cross.t2t.r1": 0.99}),
            ("t_err", {**HYBRID, "alpha": 0.0}, "ERROR", {}),
            ("t_cen", {**CLIP, "arm": "clip-en"}, "RUNNING", {}),
        ],
    )


@pytest.fixture(scope="module")
def exported(run, tmp_path_factory):
    """`study best RUN --export file://...`: the export dir and what the command printed."""
    out = tmp_path_factory.mktemp("exports") / "best"
    printed = StringIO()
    with redirect_stdout(printed):
        assert main(["best", str(run), "--export", f"file://{out}"]) == 0
    return out, printed.getvalue()


def test_best_trial_by_metric_mode_and_arm(run, trained):
    best = best_trial(str(run))
    assert (best.trial_id, best.mode, best.candidates) == ("t_hyb", "max", 2)
    assert best.value == trained[1]["cross.t2t.r1"]
    assert best_trial(str(run), "mono.t2i.r1").trial_id == "t_clip"
    by_bias = best_trial(str(run), "multi.rank_distance")
    assert (by_bias.trial_id, by_bias.mode) == ("t_clip", "min")
    assert best_trial(str(run), mode="min").trial_id == "t_clip"
    assert best_trial(str(run), arm="clip").trial_id == "t_clip"


def test_export_holds_the_best_trials_model_metrics_and_params(exported, trained):
    out, printed = exported
    assert "t_hyb" in printed and "hybrid" in printed and f"file://{out}" in printed
    for name in ("model.json", "heads.pt", "text_tower", "image_tower", PER_LANGUAGE_FILE):
        assert (out / name).exists(), name
    meta = json.loads((out / "metrics.json").read_text())
    assert meta["trial_id"] == "t_hyb" and meta["value"] == trained[1]["cross.t2t.r1"]
    assert meta["metrics"]["mono.t2i.r1"] == trained[1]["mono.t2i.r1"]
    assert json.loads((out / "params.json").read_text()) == HYBRID
    model, _ = load_pretrained(out)
    source, _ = load_pretrained(trained[2] / MODEL_DIR)
    assert torch.equal(model.text_proj.weight, source.text_proj.weight)


def test_best_shows_intervals_and_best_and_status_print_json(run, trained, capsys):
    final = trained[1]
    assert main(["best", str(run)]) == 0
    printed = capsys.readouterr().out
    lo, hi = final["cross.t2t.r1.lo"], final["cross.t2t.r1.hi"]
    shown = f"{final['cross.t2t.r1']:.4f} [{lo:.4f}, {hi:.4f}]"
    assert any(ln.startswith("t_hyb") and ln.endswith(shown) for ln in printed.splitlines())
    row = next(ln.split() for ln in printed.splitlines() if ln.startswith("mono.t2i.r1 "))
    assert row[1] == f"{final['mono.t2i.r1']:.4f}" and row[2] == f"[{final['mono.t2i.r1.lo']:.4f},"

    # An interval end ranks trials too: the surest mono.t2i.r1 (highest lower end) is t_hyb's.
    assert main(["best", str(run), "--metric", "mono.t2i.r1.lo", "--json"]) == 0
    chosen = json.loads(capsys.readouterr().out)
    assert (chosen["trial_id"], chosen["metric"], chosen["mode"]) == (
        "t_hyb",
        "mono.t2i.r1.lo",
        "max",
    )
    assert chosen["params"] == HYBRID and "exported_to" not in chosen
    assert chosen["metrics"]["mono.t2i.r1.hi"] == final["mono.t2i.r1.hi"]

    assert main(["status", str(run), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["run"] == str(run)
    assert status["counts"] == {"ERROR": 1, "RUNNING": 2, "TERMINATED": 2}
    trials = {t["trial_id"]: t for t in status["trials"]}
    assert trials["t_hyb"]["finished"] and trials["t_hyb"]["params"] == HYBRID
    assert trials["t_hyb"]["metrics"]["cross.t2t.r1.lo"] == final["cross.t2t.r1.lo"]
    assert trials["t_run"] == {
        "trial_id": "t_run",
        "params": {**HYBRID, "alpha": 1.0},
        "status": "RUNNING",
        "finished": False,
        "step": 5,
        "error": None,
        "metrics": {"cross.t2t.r1": 0.99},
    }


def test_export_finds_a_moved_checkpoint_and_errors_are_one_line(run, exported, tmp_path, capsys):
    clip_ckpt = run / TRAIN_DIR / "t_clip" / "checkpoint_000000"
    moved = tmp_path / "moved"
    shutil.copytree(clip_ckpt, moved / TRAIN_DIR / "t_moved" / clip_ckpt.name)
    stale = {"final": 1, "checkpoint_path": f"/gone/t_moved/{clip_ckpt.name}"}
    _write_run(
        moved,
        [
            ("t_moved", CLIP, "TERMINATED", {**stale, "cross.t2t.r1": 0.4}),
            ("t_gone", CLIP, "TERMINATED", {**stale, "cross.t2t.r1": 0.3}),
        ],
    )
    assert main(["best", str(moved), "--export", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "model.json").is_file()
    capsys.readouterr()

    cases = [
        (["best", str(run), "--metric", "cross.t2t.r2"], "did you mean 'cross.t2t.r1'"),
        (["best", str(run), "--arm", "pretrained"], "arm 'pretrained' has no trials"),
        (["best", str(run), "--arm", "clip-en"], "no finished trial of arm clip-en"),
        (
            ["best", str(moved), "--mode", "min", "--export", str(tmp_path / "x")],
            "checkpoint missing",
        ),
        (["best", str(run), "--export", str(exported[0])], "already exists"),
        (["best", str(tmp_path)], "not a study run"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert not (tmp_path / "x").exists()


def test_encoder_embeds_texts_images_and_corpora_consistently(exported, embedded_corpus):
    enc = Encoder.load(exported[0])
    corpus = open_corpus(embedded_corpus.eval)
    arrays = enc.encode_corpus(corpus)
    texts = enc.encode_texts(corpus.texts(np.arange(7)))
    assert texts.shape == (7, enc.embed_dim) and texts.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(texts, arrays["text_emb"][:7], atol=1e-5)

    pixels = corpus.images(np.arange(5))
    images = enc.encode_images(pixels)
    from_pil = enc.encode_images([Image.fromarray(p) for p in pixels])
    np.testing.assert_allclose(images, arrays["image_emb"][:5], atol=1e-5)
    np.testing.assert_allclose(from_pil, images, atol=1e-6)
    assert enc.encode_texts([]).shape == (0, enc.embed_dim)


def _hit_lines(stdout: str) -> list[list[str]]:
    rows = [ln.split(maxsplit=4) for ln in stdout.splitlines() if ln[:4].strip().isdigit()]
    return [r + [""] * (5 - len(r)) for r in rows]


def test_search_lists_items_in_the_querys_language_and_caches(exported, embedded_corpus, capsys):
    out = exported[0]
    corpus = open_corpus(embedded_corpus.eval)
    index = corpus.caption_index()
    texts = corpus.texts(np.arange(len(index.item)))
    counts = pd.Series(texts).value_counts()
    de = index.languages.index("de")
    row = next(r for r in np.flatnonzero(index.lang == de) if counts[texts[r]] == 1)
    item = str(corpus.item_ids[index.item[row]])
    base = ["search", "--model", str(out), "--corpus", str(embedded_corpus.eval)]

    assert main([*base, "-k", "5", texts[row]]) == 0
    printed = capsys.readouterr()
    hits = _hit_lines(printed.out)
    assert "(built)" in printed.err and "language: de (detected)" in printed.out
    assert hits[0][2:] == [item, "de", texts[row]] and float(hits[0][1]) == pytest.approx(1.0)
    # Items, not captions: five different items, each shown with a German caption of its own.
    assert len({h[2] for h in hits}) == 5 and {h[3] for h in hits} == {"de"}
    german: dict[str, set] = {}  # item id -> its German captions
    for r in np.flatnonzero(index.lang == de):
        german.setdefault(str(corpus.item_ids[index.item[r]]), set()).add(texts[r])
    assert all(h[4] in german[h[2]] for h in hits)
    assert [float(h[1]) for h in hits] == sorted((float(h[1]) for h in hits), reverse=True)
    assert list((out / "search_cache").iterdir())

    ja = index.languages.index("ja")
    query = texts[np.flatnonzero(index.lang == ja)[3]]
    assert main([*base, "--lang", "fr", "-k", "4", texts[row], query]) == 0
    printed = capsys.readouterr()
    assert "(cached)" in printed.err and printed.out.count("language: fr (--lang)") == 2
    assert [h[3] for h in _hit_lines(printed.out)] == ["fr"] * 8
    assert main([*base, "-k", "2", query]) == 0
    printed = capsys.readouterr().out
    assert "language: ja (detected)" in printed
    assert {h[3] for h in _hit_lines(printed)} == {"ja"}

    enc = Encoder.load(out)
    scores = (
        enc.encode_images(corpus.images(np.arange(corpus.num_items)))
        @ enc.encode_texts([texts[row]])[0]
    )
    saved = out.parent / "hits"
    argv = [*base, "--images", "--lang", "ja", "-k", "2", "--save-images", str(saved), texts[row]]
    assert main(argv) == 0
    printed = capsys.readouterr()
    hits = _hit_lines(printed.out)
    best = int(np.argmax(scores))
    assert hits[0][2] == str(corpus.item_ids[best]) and hits[0][3] == "ja"
    assert float(hits[0][1]) == pytest.approx(float(scores.max()), abs=1e-4)
    # --save-images: each hit's image, byte for byte, named by query, rank and item.
    ext = "jpg" if corpus.manifest["image_format"] == "jpeg" else "png"
    names = [f"1-{rank:02d}-{h[2]}.{ext}" for rank, h in enumerate(hits, start=1)]
    assert sorted(p.name for p in saved.iterdir()) == sorted(names)
    assert (saved / names[0]).read_bytes() == corpus.encoded_images([best])[0]
    assert f"wrote 2 images to {saved}" in printed.err

    assert main([*base, "--lang", "xx", "query"]) == 2
    assert "not a language" in capsys.readouterr().err


def test_a_cached_search_encodes_queries_without_transformers(exported, embedded_corpus):
    # The index built above holds a traced text encoder that matches the model's own encoding.
    out = exported[0]
    cache = next((out / "search_cache").iterdir())
    assert json.loads((cache / "meta.json").read_text())["traced_text_encoder"] is True
    queries = ["a small red circle", "ein großer blauer Kreis " * 12]  # the second is truncated
    traced = TracedText.load(cache).encode_texts(queries)
    np.testing.assert_allclose(traced, Encoder.load(out).encode_texts(queries), atol=1e-4)
    argv = ["search", "--model", str(out), "--corpus", str(embedded_corpus.eval), "a red circle"]
    code = f"import sys; from study.cli import main; main({argv!r}); print(sorted(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    modules = done.stdout.strip().splitlines()[-1]
    assert "'faiss'" in modules and "'transformers'" not in modules
    assert "(cached)" in done.stderr


def test_eval_of_the_export_reproduces_the_trials_final_metrics(
    exported, trained, embedded_corpus, tmp_path, capsys
):
    out = tmp_path / "scores"
    argv = ["eval", "--model", str(exported[0]), "--data", str(embedded_corpus.eval)]
    assert main([*argv, "--out", str(out)]) == 0
    assert "cross.t2t.r1" in capsys.readouterr().out
    got = json.loads((out / "metrics.json").read_text())["metrics"]
    want = _aggregates(trained[1])
    assert set(want) <= set(got)
    assert {k: round(got[k], 4) for k in want} == {k: round(v, 4) for k, v in want.items()}
    table = pd.read_csv(out / "per_language.csv", keep_default_na=False)
    assert list(table.columns) == ["metric", "lang_a", "lang_b", "value"] and len(table) > 20


def test_warm_start_from_the_export_continues_from_its_weights(exported, trained):
    out = exported[0]
    job, metrics, _ = trained
    model, tok = build_model(ModelConfig(init_from=str(out)))
    warm = Encoder(model, tok, torch.device("cpu"), None)
    texts = ["a small red circle", "ein großer blauer Kreis"]
    assert np.array_equal(warm.encode_texts(texts), Encoder.load(out).encode_texts(texts))

    # One step at a negligible learning rate: a warm-started run starts where the export ended.
    spec = job.model_dump()
    spec["model"]["init_from"] = str(out)
    spec["train"].update(budget={"steps": 1}, optimizer={"lr": 1e-12, "warmup_fraction": 0})
    warm_job = TrainJob.model_validate(spec)
    got = run_training(warm_job)
    want = _aggregates(metrics)
    assert {k: round(got[k], 4) for k in want} == {k: round(v, 4) for k, v in want.items()}
