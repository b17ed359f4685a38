"""`study eval-embeddings`: a real npz in, metrics JSON and the long CSV out; bad input exits 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from study.cli import main


def write_npz(path, make, images: bool = True):
    arrays = make(3, 40, ["de", "en", "fr"], 12, text_noise=0.8, image_noise=0.5, prefix="x")
    if not images:
        del arrays["image_emb"], arrays["image_item"]
    np.savez(path, **arrays)
    return path


def test_eval_embeddings_writes_metrics_and_long_table(tmp_path, capsys, signal_embeddings):
    npz = write_npz(tmp_path / "emb.npz", signal_embeddings)
    out, long = tmp_path / "metrics.json", tmp_path / "per_pair.csv"
    assert main(["eval-embeddings", str(npz), "--out", str(out), "--long", str(long)]) == 0
    metrics = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out) == metrics
    for name in ("mono.t2i.r1", "mono.i2t.r10", "mono.t2t.map", "cross.t2t.r10", "en.t2i.r1"):
        assert 0.0 < metrics[name] <= 1.0, name
    assert metrics["mono.t2t.coverage"] == 1.0
    table = pd.read_csv(long, keep_default_na=False)
    assert list(table.columns) == ["metric", "lang_a", "lang_b", "value"]
    cross = table[table.metric == "cross.t2t.r1"]
    assert len(cross) == 6 and set(cross.lang_b) == {"de", "en", "fr"}
    assert cross.value.mean() == pytest.approx(metrics["cross.t2t.r1"])


def test_first_protocol_text_only(tmp_path, capsys, signal_embeddings):
    npz = write_npz(tmp_path / "emb.npz", signal_embeddings, images=False)
    assert main(["eval-embeddings", str(npz), "--protocol", "first"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert not any("t2i" in name or "i2t" in name for name in metrics)
    assert metrics["mono.t2t.coverage"] == 0.0 and "mono.t2t.r1" not in metrics
    assert "cross.t2t.map" in metrics and "multi.rank_distance" in metrics


def test_malformed_npz_exits_2_with_one_line(tmp_path, capsys):
    npz = tmp_path / "bad.npz"
    np.savez(npz, text_emb=np.ones((3, 4)), text_item=np.array(["a", "b", "c"]))
    assert main(["eval-embeddings", str(npz)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing array 'text_lang'" in err
    assert err.count("\n") == 1
