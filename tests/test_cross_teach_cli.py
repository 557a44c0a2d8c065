"""nnUNetTrainerCrossTeach on real sparse slices through the stock commands: train, kill,
resume with --c, --val, and nnUNetv2_predict."""

import pytest
import torch
from training_helpers import (
    assert_checkpoint_restores_everything,
    fold_folder,
    resume_validate_predict,
    train_until_epoch_then_kill,
)

pytestmark = pytest.mark.slow
TRAINER = "nnUNetTrainerCrossTeach"


def test_cross_teach_trains_resumes_every_network_and_predicts(planned_sparse_sample, tmp_path, monkeypatch):
    ws, dense, plans, test_cases = planned_sparse_sample
    fold = fold_folder(ws, "Dataset992_SampleSlices", TRAINER, plans)
    text = train_until_epoch_then_kill(ws, 992, TRAINER, plans, tmp_path / "first.log")
    assert "CrossTeach: sparse slices along patch axes [0, 1] (from annotation.json)" in text
    assert not (fold / "checkpoint_final.pth").exists()

    checkpoint = assert_checkpoint_restores_everything(ws, 992, TRAINER, plans, fold / "checkpoint_latest.pth",
                                                       monkeypatch)
    assert checkpoint["current_epoch"] == 2
    assert set(checkpoint["extra_networks"]) == {"slices_axis0", "slices_axis1"}
    # nnUNetv2_predict rebuilds the 3D network only: the stored weights are exactly its weights
    assert all(not k.startswith("slices") for k in checkpoint["network_weights"])
    assert torch.load(fold / "checkpoint_latest.pth", weights_only=False)["trainer_name"] == TRAINER

    resume_validate_predict(ws, 992, TRAINER, plans, fold, [dense.image_files(c)[0] for c in test_cases],
                            tmp_path / "pred")
