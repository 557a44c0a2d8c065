"""Every recommended trainer takes real training steps on a tiny hand-made dataset (fast): its
custom train_step runs, counts its iterations, and an extra network's state survives a checkpoint."""

import numpy as np
import pytest
import torch
from tiny_preprocessed import SPARSE_NAME, make_trainer

import nnunet_weak.trainers as trainers
import nnunet_weak.trainers.experimental as experiments


def steps(trainer, n: int = 2) -> list[dict]:
    trainer.initialize()
    train, _ = trainer.get_dataloaders()
    trainer.on_train_epoch_start()
    return [trainer.train_step(next(train)) for _ in range(n)]


@pytest.mark.parametrize("name, dataset", [
    ("nnUNetTrainerDTML", None), ("nnUNetTrainerSDFDualHead", None),
    ("nnUNetTrainerPointSeg", SPARSE_NAME), ("nnUNetTrainerCrossTeach", SPARSE_NAME),
    ("nnUNetTrainerGatedCRF", SPARSE_NAME),
    # PA-Seg's experiments (opt-in folder): their own steps, here instead of a full stock-command run
    ("nnUNetTrainerPointSegSelfCorrect", SPARSE_NAME), ("nnUNetTrainerPointSegMergedCRF", SPARSE_NAME),
    # issue 28's FixMatch-style trainers (opt-in folder until measured)
    ("nnUNetTrainerFixMatch", None), ("nnUNetTrainerFixMatchEMATeacher", None)])
def test_training_steps_run_and_count_themselves(name, dataset, tmp_path, monkeypatch):
    kwargs = {"name": dataset} if dataset else {}
    trainer_class = getattr(trainers, name, None) or getattr(experiments, name)
    trainer = make_trainer(trainer_class, tmp_path, monkeypatch, **kwargs)
    outputs = steps(trainer)
    assert trainer.iterations_this_epoch == 2
    assert trainer.training_progress() == 2 / (trainer.num_epochs * trainer.num_iterations_per_epoch)
    assert all(np.isfinite(o["loss"]) for o in outputs)
    trainer.on_train_epoch_start()
    assert trainer.iterations_this_epoch == 0


@pytest.mark.parametrize("name", ["nnUNetTrainerDTML", "nnUNetTrainerSDFDualHead", "nnUNetTrainerBenchmark",
                                  "nnUNetTrainerFixMatchEMATeacher"])
def test_trainers_without_a_3d_loss_train_a_2d_configuration(name, tmp_path, monkeypatch):
    trainer_class = getattr(trainers, name, None) or getattr(experiments, name)
    trainer = make_trainer(trainer_class, tmp_path, monkeypatch, configuration="2d")
    trainer.initialize()
    train, _ = trainer.get_dataloaders()
    trainer.on_train_epoch_start()
    output = trainer.train_step(next(train))
    assert np.isfinite(output["loss"])


def test_cross_teach_trains_one_2d_network_per_sparse_axis_and_checkpoints_them(tmp_path, monkeypatch):
    trainer = make_trainer(trainers.nnUNetTrainerCrossTeach, tmp_path, monkeypatch, name=SPARSE_NAME)
    steps(trainer, 1)
    assert sorted(trainer.extra_networks) == ["slices_axis0", "slices_axis1"]
    assert all(e.optimizer.state for e in trainer.extra_networks.values())  # stepped: momentum buffers exist
    path = tmp_path / "checkpoint.pth"
    trainer.save_checkpoint(str(path))
    fresh = make_trainer(trainers.nnUNetTrainerCrossTeach, tmp_path, monkeypatch, name=SPARSE_NAME)
    fresh.initialize()
    fresh.load_checkpoint(str(path))
    for name, extra in trainer.extra_networks.items():
        for key, tensor in extra.module.state_dict().items():
            assert torch.equal(fresh.extra_networks[name].module.state_dict()[key], tensor), (name, key)


def test_single_network_trainers_write_nnunets_checkpoint_untouched(tmp_path, monkeypatch):
    trainer = make_trainer(trainers.nnUNetTrainerPointSeg, tmp_path, monkeypatch, name=SPARSE_NAME)
    trainer.initialize()
    path = tmp_path / "checkpoint.pth"
    trainer.save_checkpoint(str(path))
    checkpoint = torch.load(path, weights_only=False)
    assert "extra_networks" not in checkpoint and "frozen_networks" not in checkpoint


def test_scm_starts_from_both_stage_one_checkpoints_and_steps(tmp_path, monkeypatch):
    paths = {}
    for stage_one, variable in (("nnUNetTrainerPointSeg", "nnUNet_weak_primary_weights"),
                                ("nnUNetTrainerPointSegResEnc", "nnUNet_weak_secondary_weights")):
        trainer = make_trainer(getattr(trainers, stage_one), tmp_path, monkeypatch, name=SPARSE_NAME)
        trainer.initialize()
        paths[variable] = tmp_path / f"{stage_one}.pth"
        trainer.save_checkpoint(str(paths[variable]))
        monkeypatch.setenv(variable, str(paths[variable]))
    trainer = make_trainer(trainers.nnUNetTrainerPointSegSCM, tmp_path, monkeypatch, name=SPARSE_NAME)
    outputs = steps(trainer, 1)
    assert np.isfinite(outputs[0]["loss"]) and trainer.iterations_this_epoch == 1
    assert sorted(trainer.frozen_networks) == ["primary", "secondary"]
    assert type(trainer.extra_networks["secondary"].module).__name__ == "ResidualEncoderUNet"
