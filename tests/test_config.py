"""Study config validation, grid expansion and `study plan`: real YAML files through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from study.cli import main
from study.config import load_config
from study.plan import expand_grid

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo.yaml"


def write_config(tmp_path: Path, text: str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def demo_with(tmp_path: Path, **changes: dict) -> Path:
    raw = yaml.safe_load(DEMO.read_text())
    for section, values in changes.items():
        raw[section].update(values)
    return write_config(tmp_path, yaml.safe_dump(raw))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_demo_plan_lists_twelve_or_more_trials(capsys):
    code, out, _ = run_cli(capsys, "plan", str(DEMO))
    assert code == 0
    cfg = load_config(DEMO)
    trials = expand_grid(cfg)
    assert len(trials) >= 12
    assert f"{len(trials)} trials" in out
    assert {t.arm for t in trials} == {"hybrid", "clip"}
    assert {t.alpha for t in trials if t.arm == "hybrid"} == {0.0, 0.5, 1.0}
    assert all(t.alpha is None for t in trials if t.arm == "clip")


def test_real_study_plan_prints_without_data(capsys):
    code, out, _ = run_cli(capsys, "plan", str(ROOT / "configs" / "xm3600_scaling.yaml"))
    assert code == 0
    assert "not imported yet" in out
    cfg = load_config(ROOT / "configs" / "xm3600_scaling.yaml")
    hybrid = len(cfg.sweep.data_sizes) * len(cfg.sweep.mix_ratios) * len(cfg.sweep.seeds)
    baselines = 2 * len(cfg.sweep.data_sizes) * len(cfg.sweep.seeds)
    assert f"{hybrid + baselines} trials" in out


def test_set_overrides_apply_and_are_typed():
    cfg = load_config(
        DEMO, ["train.batch_size=32", "sweep.seeds=[0, 1, 2]", "data.languages=[en, de]"]
    )
    assert cfg.train.batch_size == 32
    assert cfg.sweep.seeds == [0, 1, 2]
    demo = load_config(DEMO)
    assert len(expand_grid(cfg)) == 3 * len(expand_grid(demo)) // len(demo.sweep.seeds)


def test_baselines_are_not_crossed_with_alpha():
    cfg = load_config(
        DEMO, ["sweep.arms=[hybrid, clip, clip-en]", "sweep.mix_ratios=[0, 0.25, 0.5, 0.75, 1]"]
    )
    trials = expand_grid(cfg)
    sizes = len(cfg.sweep.data_sizes) * len(cfg.sweep.seeds)
    assert sum(t.arm == "clip" for t in trials) == sizes
    assert sum(t.arm == "clip-en" for t in trials) == sizes
    assert sum(t.arm == "hybrid" for t in trials) == 5 * sizes


BAD_CONFIGS = {
    "malformed yaml": (
        "name: demo\nsweep: {data_sizes: [1, 2\n",
        ["malformed YAML", "study.yaml:"],
    ),
    "unknown key with suggestion": (
        "name: x\nsweep:\n  data_sizes: [100]\n  mix_ratio: [0.5]\n",
        ["unknown config key 'sweep.mix_ratio'", "did you mean 'mix_ratios'", "study.yaml:4"],
    ),
    "unknown top-level key": (
        "name: x\nsweeps: {}\n",
        ["unknown config key 'sweeps'", "did you mean 'sweep'"],
    ),
    "alpha outside [0, 1]": (
        "name: x\nsweep:\n  data_sizes: [100]\n  mix_ratios: [0.5, 1.5]\n",
        ["sweep.mix_ratios", "alpha 1.5 is outside [0, 1]"],
    ),
    "empty grid": ("name: x\nsweep:\n  data_sizes: [100]\n  arms: []\n", ["grid is empty"]),
    "empty hybrid mix ratios": (
        "name: x\nsweep:\n  data_sizes: [100]\n  mix_ratios: []\n",
        ["grid is empty", "mix ratio"],
    ),
    "batch larger than smallest N": (
        "name: x\ntrain: {batch_size: 128}\nsweep: {data_sizes: [100, 1000]}\n",
        ["'train.batch_size': 128", "smallest data size 100"],
    ),
    "missing sweep": ("name: x\n", ["missing required config key 'sweep'"]),
    "wrong type": (
        "name: x\ntrain: {batch_size: many}\nsweep: {data_sizes: [100]}\n",
        ["train.batch_size"],
    ),
    "two budgets": (
        "name: x\ntrain: {budget: {epochs: 1, steps: 5}}\nsweep: {data_sizes: [100]}\n",
        ["train.budget", "exactly one of epochs, samples, steps"],
    ),
    "top level not a mapping": ("- a\n- b\n", ["expected a mapping"]),
    "unknown arm": (
        "name: x\nsweep:\n  data_sizes: [100]\n  arms: [hybrid, clp]\n",
        ["study.yaml:4", "'sweep.arms'", "unknown arm 'clp'", "did you mean 'clip'"],
    ),
    "pretrained without a model": (
        "name: x\nsweep:\n  data_sizes: [100]\n  arms: [pretrained]\n",
        ["arm 'pretrained' needs sweep.pretrained_from"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_one_line_error(tmp_path, capsys, case):
    text, needles = BAD_CONFIGS[case]
    code, _, err = run_cli(capsys, "plan", str(write_config(tmp_path, text)))
    assert_one_line_error(code, err, *needles)


def test_data_size_larger_than_corpus(tmp_path, capsys):
    path = demo_with(tmp_path, sweep={"data_sizes": [100, 999999]})
    code, _, err = run_cli(capsys, "plan", str(path))
    assert_one_line_error(
        code, err, "sweep.data_sizes", "999999", "larger than the training corpus"
    )


def test_unknown_language(tmp_path, capsys):
    path = demo_with(tmp_path, data={"languages": ["en", "xx"]})
    code, _, err = run_cli(capsys, "plan", str(path))
    assert_one_line_error(code, err, "data.languages", "unknown language 'xx'")


def test_missing_config_file_and_wrong_type(tmp_path, capsys):
    code, _, err = run_cli(capsys, "plan", str(tmp_path / "nope.yaml"))
    assert_one_line_error(code, err, "nope.yaml", "not found")
    other = write_config(tmp_path, "name: x", name="study.json")
    code, _, err = run_cli(capsys, "plan", str(other))
    assert_one_line_error(code, err, "study.json", "expected a YAML config")


def test_bad_override(capsys):
    code, _, err = run_cli(capsys, "plan", str(DEMO), "--set", "train.batch_size")
    assert_one_line_error(code, err, "--set", "key=value")
    code, _, err = run_cli(capsys, "plan", str(DEMO), "--set", "train.lr=0.1")
    assert_one_line_error(code, err, "unknown config key 'train.lr'")


def test_pretrained_arm_is_planned_once_without_a_data_size(tmp_path, capsys):
    export = tmp_path / "export"
    export.mkdir()
    (export / "model.json").write_text("{}")
    path = demo_with(
        tmp_path, sweep={"arms": ["hybrid", "pretrained"], "pretrained_from": str(export)}
    )
    trials = expand_grid(load_config(path))
    assert [t for t in trials if t.arm == "pretrained"] == [
        type(trials[0])("pretrained", None, None, load_config(path).sweep.seeds[0])
    ]
    assert trials[-1].label == "pretrained-s0"
    code, out, _ = run_cli(capsys, "plan", str(path))
    assert code == 0 and "pretrained x1" in out
    assert any(line.split()[1:4] == ["pretrained", "-", "-"] for line in out.splitlines()[2:-1])

    (export / "model.json").unlink()
    code, _, err = run_cli(capsys, "plan", str(path))
    assert_one_line_error(code, err, "sweep.pretrained_from", "not an exported model dir")
