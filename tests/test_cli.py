"""The command line's shared behaviour: version, metric names (one list for every command and
the config), `--set` in YAML form."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from retrieval_reference import make_case

from analysis.metrics import DEFAULT_METRICS, DEFAULT_TRADEOFF
from study.cli import main
from study.config import AnalysisConfig, load_config
from trainers.errors import InputError
from trainers.evaluation import evaluate_embeddings
from trainers.metric_names import AGGREGATE_METRICS, check_metric_name, is_metric_name


def test_version_comes_from_the_package_metadata(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"study {version('hybrid-scaling-study')}"


def test_the_evaluator_reports_exactly_the_known_metrics():
    # Images, English and 3 languages (rank distance needs 2 others): every aggregate is defined.
    arrays = make_case(2, 12, ["en", "de", "fr"], [2], 0.5, True)
    result = evaluate_embeddings(**arrays)
    assert set(result.aggregates) == set(AGGREGATE_METRICS)
    assert all(is_metric_name(name) for name in result.intervals(50))
    defaults = AnalysisConfig()
    for name in [*DEFAULT_METRICS, *sum(DEFAULT_TRADEOFF, ()), *defaults.metrics]:
        assert name in AGGREGATE_METRICS, name


@pytest.mark.parametrize(
    "name",
    ["mono.t2i.r1", "multi.rank_distance.lo", "cross.t2t.map.hi", "de.t2i.r5", "pt-BR.i2t.r10",
     "fil.t2t.map", "en.t2t.r1.hi"],
)  # fmt: skip
def test_metric_names_accepted(name):
    assert check_metric_name(name) == name


@pytest.mark.parametrize(
    "name, closest",
    [("mono.t2i.R1", "mono.t2i.r1"), ("cross.t2t.r2.lo", "cross.t2t.r1.lo"),
     ("de.t2i.R5", "de.t2i.r5"), ("mono.t2i.r1.mid", None), ("xx.t2i.r1", None),
     ("de.t2t.coverage", None), ("loss", None)],
)  # fmt: skip
def test_unknown_metric_names_fail_with_the_closest(name, closest):
    with pytest.raises(InputError, match=f"unknown metric '{name}'") as info:
        check_metric_name(name)
    if closest:
        assert f"did you mean '{closest}'?" in str(info.value)


def test_set_in_yaml_form_is_what_the_error_suggests(tmp_path, capsys):
    config = tmp_path / "study.yaml"
    config.write_text("name: x\nsweep: {data_sizes: [100]}\ntrain: {batch_size: 16}\n")
    assert main(["plan", str(config), "--set", "sweep.seeds=0,1"]) == 2
    suggested = capsys.readouterr().err.rsplit("--set ", 1)[1].strip()
    assert suggested == "sweep.seeds=[0, 1]"
    assert load_config(config, [suggested]).sweep.seeds == [0, 1]
    assert main(["plan", str(config), "--set", suggested]) == 0
