"""docs/extending.md followed once: a test-only baseline arm and a test-only fit law."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_sampler import LANGS, make_index

import analysis.laws
import trainers.arms
import trainers.sampler_rules
from analysis.laws import FitLaw, register_law
from study.cli import main
from study.config import StudyConfig
from study.plan import expand_grid
from study.run_records import record_arms
from study.storage import resolve_storage
from trainers.arms import Arm, register_arm
from trainers.batch import subset_items
from trainers.loop import run_training
from trainers.sampler import PairSampler
from trainers.sampler_rules import SamplerRule, Step, register_rule


@pytest.fixture
def clip_mono(monkeypatch):
    """The docs' example arm, registered as the docs say, in registries restored afterwards."""
    monkeypatch.setattr(trainers.arms, "_ARMS", dict(trainers.arms._ARMS))
    monkeypatch.setattr(trainers.sampler_rules, "_RULES", dict(trainers.sampler_rules._RULES))
    register_arm(
        Arm("clip-mono", "CLIP (mono batches)", "sizes x seeds", trains=True,
            sampler="one-language-per-batch", text_text=False, baseline=True)
    )  # fmt: skip
    register_rule(
        "one-language-per-batch",
        SamplerRule(
            pool=lambda s: s.table.num_langs >= 1,
            step=lambda s, u_type, lang: Step("clip", lang, lang),
        ),
    )
    return "clip-mono"


def test_a_new_baseline_arm_is_one_entry_and_its_sampler_rule(clip_mono, tiny_job, tmp_path):
    raw = {"name": "ext", "sweep": {"data_sizes": [100, 200], "seeds": [0, 1],
                                    "arms": ["hybrid", clip_mono]}}  # fmt: skip
    cfg = StudyConfig.model_validate(raw)
    planned = [(t.alpha, t.data_size, t.seed) for t in expand_grid(cfg) if t.arm == clip_mono]
    assert planned == [(None, n, s) for n in (100, 200) for s in (0, 1)]

    index = make_index()
    sampler = PairSampler(
        index, subset_items(600, 300, 0), arm=clip_mono, alpha=None, batch_size=32
    )
    langs = set()
    for _ in range(30):
        batch = sampler.next_batch()
        assert batch.batch_type == "clip" and len(batch.tt_items) == 0
        (lang,) = set(index.lang[batch.it_rows].tolist())  # one language per batch
        langs.add(LANGS[lang])
    assert len(langs) > 5

    final = run_training(tiny_job(budget={"steps": 3}, arm=clip_mono, alpha=None))
    assert final["steps"] == 3 and 0 <= final["mono.t2i.r1"] <= 1

    storage = resolve_storage(str(tmp_path))
    record_arms(cfg, storage)
    arms = json.loads((tmp_path / "ext" / "tune" / "arms.json").read_text())
    assert arms[clip_mono] == {
        "label": "CLIP (mono batches)",
        "baseline": True,
        "grid": "sizes x seeds",
    }


@pytest.fixture
def constant_law(monkeypatch):
    """The docs' example law, registered as the docs say, in a registry restored afterwards."""
    monkeypatch.setattr(analysis.laws, "_LAWS", dict(analysis.laws._LAWS))
    return register_law(
        FitLaw(
            name="constant",
            title="constant (no scaling)",
            formula="e(N) = E∞",
            method="geometric mean of the errors",
            params=("E_inf",),
            fit=lambda logn, loge: (loge.mean(axis=1, keepdims=True), 1.0),
            predict=lambda theta, logn, n_ref: np.exp(np.repeat(theta[:, :1], len(logn), axis=1)),
            natural=lambda theta, n_ref: np.column_stack(
                [np.exp(theta[:, 0]), np.full(len(theta), np.nan), np.full(len(theta), np.nan)]
            ),
            bounds={"E_inf": (0.0, np.inf)},
        )
    )


def test_a_new_fit_law_is_one_object_that_fits_figures_and_report_name(constant_law, tmp_path):
    rng = np.random.default_rng(0)
    sizes = np.repeat([250, 500, 1000, 2000], 2)
    acc = 0.8 - 20 / sizes + rng.normal(0, 0.01, len(sizes))
    table = tmp_path / "trials.csv"
    pd.DataFrame({"arm": "hybrid", "alpha": 0.5, "data_size": sizes, "seed": [0, 1] * 4,
                  "mono.t2i.r1": acc}).to_csv(table, index=False)  # fmt: skip
    assert main(["analyze", str(table), "--metrics", "mono.t2i.r1", "--fit", "constant",
                 "--bootstrap", "20"]) == 0  # fmt: skip

    fits = pd.read_csv(tmp_path / "report" / "fits.csv")
    (row,) = fits.itertuples()
    assert row.form == "constant" and np.isnan(row.c) and np.isnan(row.B)
    assert row.E_inf == pytest.approx(np.exp(np.log(1 - acc).mean()))
    assert row.E_inf_lo < row.E_inf < row.E_inf_hi
    assert (
        "constant (no scaling) fit" in (tmp_path / "report" / "scaling_mono_t2i_r1.svg").read_text()
    )
    report = (tmp_path / "report" / "report.md").read_text()
    assert "e(N) = E∞ (constant (no scaling)), geometric mean of the errors" in report
    assert "N^(−c)" not in report
    assert (
        StudyConfig.model_validate(
            {"name": "x", "sweep": {"data_sizes": [100]}, "analysis": {"fit": "constant"}}
        ).analysis.fit
        == "constant"
    )
