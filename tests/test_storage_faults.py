"""Storage that fills up or disappears: one clear error line, no partial output, nothing lost."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from study.cli import main


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: writes of more than that fail with ENOSPC (needs mount rights, as root)."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_corpus_import_onto_a_full_disk_fails_cleanly_and_leaves_nothing(full_disk, capsys):
    code = main(
        ["data", "synthetic", "--items", "300", "--eval-items", "60", "--out", str(full_disk / "c")]
    )
    assert code != 0
    assert "No space left on device" in _one_error_line(capsys)
    assert list(full_disk.iterdir()) == []


def test_report_onto_a_full_disk_names_the_file_and_the_fix(full_disk, tmp_path, capsys):
    table = tmp_path / "trials.csv"
    rows = [
        {
            "arm": "hybrid",
            "alpha": a,
            "data_size": n,
            "seed": 0,
            "cross.t2t.r1": 0.2 + a / 10 + n / 1e4,
        }
        for a in (0.0, 0.5, 1.0)
        for n in (250, 500, 1000)
    ]
    pd.DataFrame(rows).to_csv(table, index=False)
    code = main(["analyze", str(table), "--metrics", "cross.t2t.r1", "--out", str(full_disk / "r")])
    assert code != 0
    line = _one_error_line(capsys)
    assert "No space left on device" in line and str(full_disk) in line and "free space" in line


def test_run_whose_storage_disappeared_is_reported_not_crashed(tmp_path, capsys):
    run = tmp_path / "runs" / "gone"
    (run / "tune").mkdir(parents=True)
    shutil.rmtree(tmp_path / "runs")
    for argv in (["status", str(run)], ["best", str(run)], ["analyze", str(run)]):
        assert main(argv) != 0, argv
        assert str(run) in _one_error_line(capsys)
