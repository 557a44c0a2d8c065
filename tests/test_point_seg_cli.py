"""PA-Seg on real expanded clicks through the stock commands: stage 1 (both architectures) and
stage 2 (SCM) with kill, exact resume, --val and nnUNetv2_predict. The opt-in experiments
(SelfCorrect, MergedCRF) take their training steps in tests/test_trainer_steps.py instead."""

import subprocess

import pytest
import torch
from training_helpers import (
    assert_checkpoint_restores_everything,
    fold_folder,
    predict_cases,
    resume_validate_predict,
    train_cmd,
    train_env,
    train_until_epoch_then_kill,
)

pytestmark = pytest.mark.slow
DATASET = "Dataset995_SamplePoints"


def stage_one(ws, plans, trainer, epochs=2):
    fold = fold_folder(ws, DATASET, trainer, plans)
    if not (fold / "checkpoint_final.pth").is_file():
        out = subprocess.run(train_cmd(995, trainer, plans), env=train_env(ws, epochs), capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        assert "PointSeg: CRF" in out.stdout
        rejected = [float(line.rsplit(" ", 1)[1]) for line in out.stdout.splitlines()
                    if "foreground labels rejected" in line]
        assert len(rejected) == epochs and all(0.0 <= r <= 0.3 for r in rejected)  # the cap (reject_max_share)
    return fold / "checkpoint_final.pth"


def test_point_seg_trains_with_crf_and_variance_and_predicts(planned_points_sample, tmp_path):
    ws, dense, plans, test_cases = planned_points_sample
    trainer = "nnUNetTrainerPointSeg"
    assert stage_one(ws, plans, trainer).is_file()
    predict_cases(ws, 995, trainer, plans, [dense.image_files(c)[0] for c in test_cases], tmp_path / "pred")


def test_scm_starts_from_both_stage_one_networks_and_resumes_exactly(planned_points_sample, tmp_path, monkeypatch):
    ws, dense, plans, test_cases = planned_points_sample
    primary = stage_one(ws, plans, "nnUNetTrainerPointSeg")
    secondary = stage_one(ws, plans, "nnUNetTrainerPointSegResEnc", epochs=1)
    secondary_weights = torch.load(secondary, map_location="cpu", weights_only=False)["network_weights"]
    assert any("stem" in k for k in secondary_weights)  # a residual-encoder network, not the plain one
    env = {"nnUNet_weak_secondary_weights": str(secondary)}
    trainer = "nnUNetTrainerPointSegSCM"
    fold = fold_folder(ws, DATASET, trainer, plans)
    # the primary's stage-1 run is found beside this trainer's results folder; the secondary's is named
    train_until_epoch_then_kill(ws, 995, trainer, plans, tmp_path / "first.log", **env)
    monkeypatch.setenv("nnUNet_weak_secondary_weights", str(secondary))
    checkpoint = assert_checkpoint_restores_everything(ws, 995, trainer, plans, fold / "checkpoint_latest.pth",
                                                       monkeypatch)
    assert set(checkpoint["extra_networks"]) == {"secondary"}
    assert set(checkpoint["frozen_networks"]) == {"primary", "secondary"}
    # the frozen copies were taken at epoch 0 from the stage-1 weights and are not refreshed before epoch 10
    frozen = checkpoint["frozen_networks"]["secondary"]["network_weights"]
    assert all(torch.equal(frozen[k], v) for k, v in secondary_weights.items())
    # all of the primary's stage-1 weights, output layers included (nnU-Net's -pretrained_weights skips those)
    primary_weights = torch.load(primary, map_location="cpu", weights_only=False)["network_weights"]
    frozen = checkpoint["frozen_networks"]["primary"]["network_weights"]
    assert any("seg_layers" in k for k in primary_weights)
    assert all(torch.equal(frozen[k], v) for k, v in primary_weights.items())
    resume_validate_predict(ws, 995, trainer, plans, fold, [dense.image_files(c)[0] for c in test_cases],
                            tmp_path / "pred", **env)
