"""The nnU-Net internals nnunet_weak relies on: what the adapter returns, and that a change upstream
raises NnUNetChangedError naming the version instead of training differently."""

import numpy as np
import pytest
import torch
from nnunetv2.training.dataloading.data_loader import nnUNetDataLoader
from tiny_preprocessed import IGNORE, LABELLED, UNLABELLED, make_trainer
from torch import nn

from nnunet_weak import nnunet_adapter as adapter
from nnunet_weak.trainers.dual_task import nnUNetTrainerDTML
from nnunet_weak.trainers.semi_supervised import LabelledUnlabelledDataLoader


def test_semi_supervised_training_batches_are_half_unlabelled_and_validation_is_nnunets(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
    trainer._set_batch_size_and_oversample()
    train, val = trainer.get_dataloaders()
    assert type(train.data_loader) is LabelledUnlabelledDataLoader
    assert type(val.data_loader) is nnUNetDataLoader  # validation: nnU-Net's loader and oversampling
    assert set(val.data_loader.indices) == {"case_0"}  # the unlabelled validation case trains instead
    np.random.seed(0)
    for _ in range(5):
        batch = next(train)
        assert [k in UNLABELLED for k in batch["keys"]] == [True, True, False, False]
        target = batch["target"][0]  # deep supervision: full resolution first
        assert tuple(batch["data"].shape) == (4, 1, 16, 16, 16)
        # unlabelled: ignore, or background where nnU-Net pads beyond the image; labelled: no ignore
        assert set(target[:2].unique().tolist()) <= {IGNORE, 0} and (target[:2] == IGNORE).any()
        assert not (target[2:] == IGNORE).any()
    assert set(next(val)["keys"]) <= set(LABELLED)


def test_loaders_raise_when_nnunets_building_blocks_are_gone(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
    trainer._set_batch_size_and_oversample()
    monkeypatch.delattr(type(trainer).__mro__[-2], "_get_deep_supervision_scales")  # nnUNetTrainer
    with pytest.raises(adapter.NnUNetChangedError, match=f"nnunetv2 {adapter.NNUNET_VERSION}.*nnunet_adapter.py"):
        trainer.get_dataloaders()


def test_preprocessed_cases_and_their_annotation(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
    folder = trainer.preprocessed_dataset_folder
    assert sorted(adapter.preprocessed_cases(folder)) == sorted(LABELLED + UNLABELLED)
    dataset = adapter.open_preprocessed(folder, ["case_0", "case_3"])
    assert adapter.case_segmentation(dataset, "case_0").shape == (1, 20, 20, 20)
    assert len(adapter.case_class_locations(dataset, "case_0")[1]) == 8 ** 3
    assert len(adapter.case_class_locations(dataset, "case_3")[1]) == 0
    assert trainer.labelled_cases() == set(LABELLED)


def test_a_changed_load_case_raises():
    class Changed:
        def load_case(self, case):
            return np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), {}  # no seg_prev

    with pytest.raises(adapter.NnUNetChangedError, match="load_case"):
        adapter.case_segmentation(Changed(), "x")


def test_uniform_random_bbox_ignores_annotation_and_restores_the_loader(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
    trainer._set_batch_size_and_oversample()
    train, _ = trainer.get_dataloaders()
    loader = train.data_loader
    assert loader.has_ignore
    lower, upper = adapter.uniform_random_bbox(loader, (20, 20, 20))
    assert [u - lo for lo, u in zip(lower, upper, strict=True)] == list(loader.patch_size)
    assert loader.has_ignore
    del loader.has_ignore
    with pytest.raises(adapter.NnUNetChangedError, match="has_ignore"):
        adapter.uniform_random_bbox(loader, (20, 20, 20))


def test_output_layer_and_unwrap():
    from dynamic_network_architectures.architectures.unet import PlainConvUNet

    unet = PlainConvUNet(1, 2, [4, 8], nn.Conv3d, 3, [1, 2], 1, 3, [1], True, nn.InstanceNorm3d, {"affine": True})
    assert adapter.output_layer(unet) is unet.decoder.seg_layers[-1]
    with pytest.raises(adapter.NnUNetChangedError, match="seg_layers"):
        adapter.output_layer(nn.Linear(2, 2))
    assert adapter.unwrap(torch.compile(unet)) is unet


def test_configure_optimizers_for_another_network_restores_the_trainers_own(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
    own, other = nn.Linear(2, 2), nn.Linear(2, 3)
    trainer.network = own
    optimizer, scheduler = adapter.configure_optimizers_for(trainer, other)
    assert trainer.network is own
    assert [p for g in optimizer.param_groups for p in g["params"]] == list(other.parameters())
    assert type(scheduler).__name__ == "PolyLRScheduler"


def test_checkpoint_keys_are_what_nnunet_writes(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
    trainer.initialize()
    path = tmp_path / "checkpoint.pth"
    trainer.save_checkpoint(str(path))
    checkpoint = adapter.read_checkpoint(path)
    for key in (adapter.NETWORK_WEIGHTS, adapter.OPTIMIZER_STATE, adapter.GRAD_SCALER_STATE, adapter.TRAINER_NAME):
        assert key in checkpoint
    assert checkpoint[adapter.TRAINER_NAME] == "nnUNetTrainerDTML"
    assert "sdf" in checkpoint["extra_networks"]
    kept = adapter.prediction_checkpoint(checkpoint)  # what nnUNetv2_predict reads, nothing to resume
    assert set(kept) == set(adapter.PREDICTION_KEYS) and adapter.OPTIMIZER_STATE not in kept
    del checkpoint["init_args"]
    with pytest.raises(adapter.NnUNetChangedError, match="checkpoint of nnUNetTrainer has no init_args"):
        adapter.prediction_checkpoint(checkpoint)


def test_crossval_folds_are_the_ones_nnunets_do_split_writes(tmp_path):
    """nnUNetTrainer.do_split on a preprocessed folder of 23 cases (file names are all it reads
    here) writes splits_final.json; the adapter's folds are its validation cases."""
    from types import SimpleNamespace

    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    folder = tmp_path / "nnUNetPlans_3d_fullres"
    folder.mkdir()
    cases = [f"case_{i:03d}" for i in range(23)]
    for case in cases:
        for suffix in (".b2nd", "_seg.b2nd", ".pkl"):
            (folder / f"{case}{suffix}").touch()
    folds = adapter.crossval_validation_cases(list(reversed(cases)))  # the order given does not matter
    for fold in range(5):
        trainer = SimpleNamespace(dataset_class=None, fold=fold, preprocessed_dataset_folder=str(folder),
                                  preprocessed_dataset_folder_base=str(tmp_path),
                                  folder_with_segs_from_previous_stage=None, print_to_log_file=lambda *a, **k: None)
        _, validation = nnUNetTrainer.do_split(trainer)
        assert folds[fold] == sorted(str(c) for c in validation)
    assert (tmp_path / "splits_final.json").is_file()
    assert sorted(c for fold in folds for c in fold) == cases and [len(f) for f in folds] == [5, 5, 5, 4, 4]


def test_a_renamed_nnunet_hook_stops_our_trainers_at_construction(tmp_path, monkeypatch):
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

    adapter.check_hooks()  # the installed nnunetv2 has every hook we override
    monkeypatch.delattr(nnUNetTrainer, "_set_batch_size_and_oversample")
    with pytest.raises(adapter.NnUNetChangedError, match="nnUNetTrainer has no _set_batch_size_and_oversample"):
        make_trainer(nnUNetTrainerDTML, tmp_path, monkeypatch)
