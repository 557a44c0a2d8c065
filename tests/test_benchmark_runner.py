"""benchmarks/run.py refuses malformed settings before it touches any data."""

import importlib.util
from pathlib import Path

import pytest


def _runner():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("benchmark_run", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_items_without_a_value_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _runner().main(["--protocol", "hippo-full", "--work", str(tmp_path), "--env", "nnUNet_weak_unlabelled_on_top"])
    assert exit_info.value.code == 2
    assert "--env takes NAME=VALUE items, got ['nnUNet_weak_unlabelled_on_top']" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written
