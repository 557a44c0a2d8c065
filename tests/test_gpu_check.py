"""benchmarks/gpu_check.py refuses what it cannot do before touching any data; its report keeps a
failing trainer's traceback. (The run itself: ``--device cpu --smoke``, minutes; not in the suite.)"""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch


def _gpu_check():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_refuses_to_run_without_cuda(tmp_path, capsys):
    assert _gpu_check().main(["--work", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and "--device cpu --smoke" in err
    assert not (tmp_path / "work").exists()


def test_refuses_a_stage_two_without_its_stage_one_and_the_cpu_without_smoke(tmp_path, capsys):
    check = _gpu_check()
    with pytest.raises(SystemExit):
        check.main(["--device", "cpu", "--smoke", "--trainers", "nnUNetTrainerPointSegSCM", "--work", str(tmp_path)])
    assert "nnUNetTrainerPointSegSCM starts from nnUNetTrainerPointSeg, nnUNetTrainerPointSegResEnc" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        check.main(["--device", "cpu", "--work", str(tmp_path)])
    assert "--device cpu needs --smoke" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_the_last_traceback_of_a_log_is_kept_up_to_its_error_line():
    log = ("Epoch 0\nTraceback (most recent call last):\n  File \"a.py\", line 1\nValueError: first\n"
           "retrying\nTraceback (most recent call last):\n  File \"b.py\", line 2, in f\n    x()\n"
           "RuntimeError: CUDA out of memory\nException ignored in: <function>\n")
    check = _gpu_check()
    assert check.last_traceback(log) == ("Traceback (most recent call last):\n  File \"b.py\", line 2, in f\n"
                                         "    x()\nRuntimeError: CUDA out of memory")
    assert check.last_traceback("all well\n") is None


def test_every_recommended_trainer_is_checked():
    from nnunet_weak.trainers import RECOMMENDED_TRAINERS

    fixmatch = ["nnUNetTrainerFixMatch", "nnUNetTrainerFixMatchEMATeacher"]  # issue 28: GPU before measuring
    assert sorted(_gpu_check().TRAINERS) == sorted([*RECOMMENDED_TRAINERS, *fixmatch])
