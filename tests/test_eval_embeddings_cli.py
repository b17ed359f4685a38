"""`study eval-embeddings`: a real npz in, the metrics with their intervals (table or JSON) and
the files of `--out DIR` out; bad input exits 2."""

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
    out = tmp_path / "results" / "emb"
    argv = ["eval-embeddings", str(npz), "--out", str(out), "--bootstrap", "300", "--json"]
    assert main(argv) == 0
    document = json.loads((out / "metrics.json").read_text())
    assert json.loads(capsys.readouterr().out) == document
    assert document["embeddings"] == str(npz) and document["bootstrap"] == 300
    metrics = document["metrics"]
    for name in ("mono.t2i.r1", "mono.i2t.r10", "mono.t2t.map", "cross.t2t.r10", "en.t2i.r1"):
        assert 0.0 < metrics[name] <= 1.0, name
        assert metrics[f"{name}.lo"] <= metrics[name] <= metrics[f"{name}.hi"], name
    assert metrics["mono.t2t.coverage"] == 1.0
    table = pd.read_csv(out / "per_language.csv", keep_default_na=False)
    assert list(table.columns) == ["metric", "lang_a", "lang_b", "value"]
    cross = table[table.metric == "cross.t2t.r1"]
    assert len(cross) == 6 and set(cross.lang_b) == {"de", "en", "fr"}
    assert cross.value.mean() == pytest.approx(metrics["cross.t2t.r1"])

    # Without --json: one line per metric, its value and interval, as the JSON has them.
    assert main(["eval-embeddings", str(npz), "--bootstrap", "300"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(ln for ln in lines if ln.startswith("mono.t2i.r1 "))
    lo, hi = metrics["mono.t2i.r1.lo"], metrics["mono.t2i.r1.hi"]
    assert row.split()[1:] == [f"{metrics['mono.t2i.r1']:.4f}", f"[{lo:.4f},", f"{hi:.4f}]"]
    assert not any(ln.startswith("mono.t2i.r1.lo") for ln in lines)


def test_first_protocol_text_only_without_intervals(tmp_path, capsys, signal_embeddings):
    npz = write_npz(tmp_path / "emb.npz", signal_embeddings, images=False)
    argv = ["eval-embeddings", str(npz), "--protocol", "first", "--bootstrap", "0", "--json"]
    assert main(argv) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert not any("t2i" in name or "i2t" in name for name in metrics)
    assert metrics["mono.t2t.coverage"] == 0.0 and "mono.t2t.r1" not in metrics
    assert "cross.t2t.map" in metrics and "multi.rank_distance" in metrics
    assert not any(name.endswith((".lo", ".hi")) for name in metrics)


def test_malformed_npz_exits_2_with_one_line(tmp_path, capsys):
    npz = tmp_path / "bad.npz"
    np.savez(npz, text_emb=np.ones((3, 4)), text_item=np.array(["a", "b", "c"]))
    assert main(["eval-embeddings", str(npz), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing array 'text_lang'" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()
