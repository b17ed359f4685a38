"""`study analyze` end to end: run directories and tables in, tables, figures and reports out."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from test_analysis_helpers import write_ray_run

from analysis import analyze
from analysis.errors import InputError
from analysis.metrics import DEFAULT_HEADLINE, DEFAULT_METRICS, DEFAULT_TRADEOFF
from analysis.tables import load_results, write_results
from study.cli import main
from study.config import AnalysisConfig


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A Tune-layout run of 3 alphas + CLIP x 5 sizes x 2 seeds (+ pretrained, + 1 errored) and its report."""
    run = tmp_path_factory.mktemp("study") / "demo"
    expected = write_ray_run(run, seeds=2)
    report = analyze(run, bootstrap=20, metrics=[*DEFAULT_METRICS, "multi.rank_distance"])
    return run, expected, report


def _seed_means(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed means per trained arm/alpha and size, computed straight from the trials table."""
    done = trials[(trials["status"] == "TERMINATED") & (trials["arm"] != "pretrained")]
    keys = ["arm", "alpha", "data_size"]
    return (
        done.groupby(keys, dropna=False)[metric]
        .mean()
        .reset_index()
        .sort_values(keys, ignore_index=True)
    )


def test_defaults_match_the_study_config():
    cfg = AnalysisConfig()
    assert tuple(DEFAULT_HEADLINE) == tuple(cfg.headline)
    assert list(DEFAULT_METRICS) == cfg.metrics
    assert [tuple(p) for p in DEFAULT_TRADEOFF] == [tuple(p) for p in cfg.tradeoff]


def test_tune_trial_dirs_load_into_the_tidy_tables(demo):
    run, expected, _ = demo
    results = load_results(run)
    trials = results.trials.set_index("trial_id")
    assert len(trials) == len(expected) + 1
    assert trials.loc["a1b2c_99999", "status"] == "ERROR"
    assert "non-finite loss" in trials.loc["a1b2c_99999", "error"]
    got = trials.loc[
        expected["trial_id"], ["arm", "data_size", "cross.t2t.r1", "multi.rank_distance"]
    ]
    want = expected.set_index("trial_id")[
        ["arm", "data_size", "cross.t2t.r1", "multi.rank_distance"]
    ]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert set(results.per_language.columns) >= {
        "trial_id",
        "arm",
        "metric",
        "lang_a",
        "lang_b",
        "value",
    }
    assert results.languages is not None and set(results.languages["resource"]) == {
        "high",
        "mid",
        "low",
    }


def test_results_tables_are_preferred_and_a_table_from_anywhere_is_accepted(demo, tmp_path):
    run, _, report = demo
    out = report.parent
    for name in ("trials", "per_language"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    (run / "results" / "trials.parquet").write_bytes((out / "trials.parquet").read_bytes())
    (run / "results" / "per_language.parquet").write_bytes(
        (out / "per_language.parquet").read_bytes()
    )
    assert load_results(run).source == run / "results" / "trials.parquet"
    table = tmp_path / "collected.csv"
    pd.read_csv(out / "trials.csv").drop(columns=["trial_id", "status", "error"]).to_csv(
        table, index=False
    )
    assert len(load_results(table).trials) == len(pd.read_csv(out / "trials.csv"))


def test_every_figure_exists_and_its_csv_matches_the_results_table(demo):
    run, _, report = demo
    out = report.parent
    trials = load_results(run).trials
    names = [f"scaling_{m.replace('.', '_')}" for m in DEFAULT_METRICS]
    names += [
        f"tradeoff_{x.replace('.', '_')}_vs_{y.replace('.', '_')}" for x, y in DEFAULT_TRADEOFF
    ]
    names += [
        "languages_mono_t2i_r1",
        "languages_cross_t2t_r1",
        "heatmap_cross_t2t_r1",
        "scaling_multi_rank_distance",
    ]
    for name in names:
        for ext in ("png", "svg", "csv"):
            assert (out / f"{name}.{ext}").stat().st_size > 0, f"{name}.{ext}"
    # Scaling points are the seed means of the trials table.
    plotted = pd.read_csv(out / "scaling_cross_t2t_r1.csv")
    points = plotted[plotted["kind"] == "points"].sort_values(
        ["arm", "alpha", "data_size"], ignore_index=True
    )
    want = _seed_means(trials, "cross.t2t.r1")
    np.testing.assert_allclose(points["cross.t2t.r1"], want["cross.t2t.r1"])
    np.testing.assert_array_equal(points["data_size"], want["data_size"].astype(float))
    ref = plotted.loc[plotted["kind"] == "reference", "cross.t2t.r1"].iloc[0]
    assert ref == pytest.approx(trials.loc[trials["arm"] == "pretrained", "cross.t2t.r1"].mean())
    # Trade-off polylines: the same seed means of both metrics.
    plotted = pd.read_csv(out / "tradeoff_mono_t2t_map_vs_cross_t2t_map.csv")
    lines = plotted[plotted["kind"] == "series"].sort_values(
        ["arm", "alpha", "data_size"], ignore_index=True
    )
    for metric in ("mono.t2t.map", "cross.t2t.map"):
        np.testing.assert_allclose(lines[metric], _seed_means(trials, metric)[metric])
    best = plotted[plotted["kind"] == "best"]
    assert sorted(best["data_size"]) == sorted(
        trials.loc[trials["arm"] == "hybrid", "data_size"].unique()
    )
    # Per-language bars and heatmaps: means of the long table over the plotted group's trials.
    per_lang = load_results(run).per_language
    bars = pd.read_csv(out / "languages_mono_t2i_r1.csv", keep_default_na=False, na_values=[""])
    for (series, size), group in bars.groupby(["series", "data_size"]):
        rows = per_lang[(per_lang["metric"] == "mono.t2i.r1") & (per_lang["data_size"] == size)]
        rows = rows[rows["arm"].eq("clip") if series == "CLIP" else rows["arm"].eq("hybrid")]
        if series != "CLIP":
            rows = rows[rows["alpha"] == float(re.search(r"α=([\d.]+)", series).group(1))]
        want = rows.groupby("lang_a")["value"].mean()
        np.testing.assert_allclose(
            group.set_index("lang")["mono.t2i.r1"], want.reindex(group["lang"])
        )
    heat = pd.read_csv(out / "heatmap_cross_t2t_r1.csv", keep_default_na=False, na_values=[""])
    diff = heat[heat["panel"] == "difference"].set_index(["lang_a", "lang_b"])["cross.t2t.r1 ×100"]
    best, base = (
        heat[heat["panel"] == p].set_index(["lang_a", "lang_b"])["cross.t2t.r1 ×100"]
        for p in ("best", "baseline")
    )
    np.testing.assert_allclose(diff, best - base)
    assert diff.notna().sum() == 9 * 8  # every ordered pair of the 9 languages, no diagonal


def test_report_md_and_self_contained_html(demo):
    _, _, report = demo
    md, page = report.read_text(), report.with_suffix(".html").read_text()
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(figures) >= 12 and all((report.parent / f).exists() for f in figures)
    assert page.count('<img src="data:image/png;base64,') == len(figures)
    assert 'src="http' not in page and 'src="/' not in page
    # Best alpha per N, each series' scaling and the hold-out check, each in its place.
    assert "Best α at each N" in md and "trend of the size means" in md
    assert "hold-out: predicted / observed" in md and "| 4k | 0.5 |" in md
    assert (
        "20 replicates per fit of a stratified bootstrap (trials resampled within each size)" in md
    )
    assert "no per-query bootstrap intervals" in md  # this run's trials carry no .lo/.hi
    assert (
        "a1b2c_99999" in md and "non-finite loss" in md
    )  # the errored trial is reported, not dropped
    fits = pd.read_csv(report.parent / "fits.csv")
    assert set(fits["metric"]) == {*DEFAULT_METRICS, "multi.rank_distance"}
    assert fits["c_lo"].notna().all()


def _table(tmp_path, seeds, sizes, arms=("hybrid", "clip")):
    rng = np.random.default_rng(0)
    rows = [
        {"arm": arm, "alpha": a if arm == "hybrid" else None, "data_size": n, "seed": s,
         "mono.t2i.r1": 0.7 - 30 / n ** 0.8 + rng.normal(0, 0.01) - 0.1 * (a or 0.5),
         "cross.t2t.r1": 0.6 - 20 / n ** 0.7 + rng.normal(0, 0.01) + 0.1 * (a or 0.5)}
        for arm in arms for a in ((0.0, 0.5, 1.0) if arm == "hybrid" else (None,)) for n in sizes for s in range(seeds)
    ]  # fmt: skip
    path = tmp_path / "results.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_cli_single_seed_sweep_gets_residual_intervals_and_flags_that_say_why(tmp_path, capsys):
    table = _table(tmp_path, seeds=1, sizes=(250, 500, 1000, 2000))
    args = ["analyze", str(table), "--metrics", "mono.t2i.r1", "cross.t2t.r1", "--bootstrap", "20"]
    assert main(args) == 0
    assert "report:" in capsys.readouterr().out
    fits = pd.read_csv(tmp_path / "report" / "fits.csv")
    assert len(fits) == 8 and (fits["interval_method"] == "residual").all()
    assert (fits["c_hi"] > fits["c_lo"]).all()  # not the degenerate [c, c] of a seed bootstrap
    assert fits["underdetermined"].all()
    assert fits["reason"].str.contains("4 sizes × 1 seed for 3 parameters leave 1 degree").all()
    md = (tmp_path / "report" / "report.md").read_text()
    assert "of a residual bootstrap" in md and md.count("leave 1 degree of freedom") == 1
    assert "every fit (8)" in md  # the one reason, said once for the fits it concerns


def test_cli_survives_missing_metrics_nan_rows_and_a_single_arm(tmp_path, capsys):
    table = _table(tmp_path, seeds=2, sizes=(250, 500, 1000, 2000), arms=("hybrid",))
    df = pd.read_csv(table)
    df.loc[::3, "cross.t2t.r1"] = np.nan
    df.loc[len(df)] = {"arm": "hybrid", "alpha": 0.5, "data_size": np.nan, "seed": 9}
    df[df["alpha"] == 0.5].to_csv(table, index=False)
    args = [
        "analyze",
        str(table),
        "--metrics",
        "mono.t2i.r1",
        "cross.t2t.r1",
        "en.t2i.r1",
        "--bootstrap",
        "10",
    ]
    assert main([*args, "--fit", "power", "--out", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "report.md").read_text()
    assert "skipped: en.t2i.r1" in md
    assert "e(N) = B·N^(−c) (power law), least squares" in md and "E∞ + B" not in md
    svg = (tmp_path / "out" / "scaling_cross_t2t_r1.svg").read_text()
    assert "power law fit" in svg and "saturating" not in svg
    assert (tmp_path / "out" / "tradeoff_mono_t2i_r1_vs_cross_t2t_r1.png").exists()
    assert len(pd.read_csv(tmp_path / "out" / "fits.csv")) == 2


def test_bad_inputs_end_in_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"arm": ["hybrid"], "data_size": [10]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match=r"missing column\(s\) alpha, seed"):
        load_results(bad)
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert main(["analyze", str(tmp_path / "nowhere")]) == 2


def test_cli_headline_picks_the_pair_the_answer_quotes(tmp_path, capsys):
    table = _table(tmp_path, seeds=2, sizes=(250, 500, 1000, 2000))
    args = ["analyze", str(table), "--metrics", "mono.t2i.r1", "--bootstrap", "0"]
    assert main([*args, "--headline", "cross.t2t.r1:mono.t2i.r1"]) == 0
    md = (tmp_path / "report" / "report.md").read_text()
    lead = next(p for p in md.split("\n\n") if p.startswith("**"))
    assert "with cross.t2t.r1 " in lead and " and mono.t2i.r1 " in lead
    # The headline pair is fitted and drawn though --metrics leaves it out.
    assert "scaling_cross_t2t_r1.png" in md
    assert "tradeoff_cross_t2t_r1_vs_mono_t2i_r1.png" in md
    assert main([*args, "--headline", "mono.t2i.R1:cross.t2t.r1"]) == 2
    assert "mono.t2i.r1" in capsys.readouterr().err


def test_the_corpora_of_a_run_are_named_under_the_question(tmp_path):
    """A run's results/data.json (written by `study run`) names the corpora on the first screen,
    and says which chosen languages the name source lacked."""
    results = load_results(_table(tmp_path, seeds=2, sizes=(250, 500, 1000)))
    corpus = {"name": "emoji-train", "source": "study emoji corpus generator v1, train split",
              "num_items": 2000, "languages": ["en", "ja"], "left_out": ["hi", "mi"],
              "names": "emoji 2.15.0 (the emoji package's fallback: no CLDR XML on the machine)"}  # fmt: skip
    results.data = {"train": corpus, "eval": {**corpus, "name": "emoji-eval", "num_items": 200}}
    run = tmp_path / "run"
    write_results(results, run / "results")
    assert load_results(run).data == results.data
    md = analyze(run, bootstrap=0, metrics=["mono.t2i.r1", "cross.t2t.r1"]).read_text()
    question = md.index("Question:")
    line = next(p for p in md.split("\n\n") if p.startswith("Data:"))
    assert question < md.index(line) < md.index("**")  # under the question, above the answer
    assert line.startswith(
        "Data: train emoji-train, 2,000 items in 2 languages (en ja); eval emoji-eval, 200 items"
    )
    assert "Names: emoji 2.15.0 (the emoji package's fallback" in line and "it lacks hi mi." in line
    assert md.count("Data: ") == 1
