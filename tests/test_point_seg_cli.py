"""nnUNetTrainerPointSeg on real expanded clicks through the stock commands."""

import subprocess

import pytest
from training_helpers import fold_folder, predict_cases, train_cmd, train_env

pytestmark = pytest.mark.slow


def test_point_seg_trains_with_crf_and_variance_and_predicts(planned_points_sample, tmp_path):
    ws, dense, plans, test_cases = planned_points_sample
    trainer = "nnUNetTrainerPointSeg"
    out = subprocess.run(train_cmd(995, trainer, plans), env=train_env(ws, epochs=2), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "PointSeg: CRF" in out.stdout
    assert (fold_folder(ws, "Dataset995_SamplePoints", trainer, plans) / "checkpoint_final.pth").is_file()
    predict_cases(ws, 995, trainer, plans, [dense.image_files(c)[0] for c in test_cases], tmp_path / "pred")
