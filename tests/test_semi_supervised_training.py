"""Labelled/unlabelled batches and the dual-task trainers on real semi-supervised data."""

import warnings

import numpy as np
import pytest
import torch
from training_helpers import (
    assert_checkpoint_restores_everything,
    fold_folder,
    predict_cases,
    resume_validate_predict,
    train_until_epoch_then_kill,
)

from nnunet_weak.trainers.semi_supervised import LabelledUnlabelledDataLoader

pytestmark = pytest.mark.slow


def make_trainer(ws, name, plans, monkeypatch):
    for key, value in ws.env(nnUNet_n_proc_DA="0").items():
        if key.startswith("nnUNet_"):
            monkeypatch.setenv(key, value)
    from nnunetv2.run.run_training import get_trainer_from_args

    return get_trainer_from_args("993", "3d_fullres", 0, name, plans, device=torch.device("cpu"))


def test_batches_are_half_unlabelled_and_validation_is_labelled_only(planned_semi_sample, monkeypatch):
    ws, _, plans, labelled, _ = planned_semi_sample
    trainer = make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch)
    train, val = trainer.do_split()
    assert val == [labelled[0]]  # the unlabelled validation case moved to training
    assert len(train) == 6 and trainer.labelled_cases() == set(labelled)

    dataset = trainer.dataset_class(trainer.preprocessed_dataset_folder, train)
    loader = LabelledUnlabelledDataLoader(dataset, 4, trainer.configuration_manager.patch_size,
                                          trainer.configuration_manager.patch_size, trainer.label_manager,
                                          oversample_foreground_percent=0.33, labelled=set(labelled),
                                          unlabelled_fraction=0.5)
    np.random.seed(0)
    oversampled = []
    for _ in range(50):
        keys = loader.get_indices()
        assert [k in labelled for k in keys] == [False, False, True, True]
        oversampled += [loader.get_do_oversample(i) for i in range(4)][2:]
        assert not loader.get_do_oversample(0) and not loader.get_do_oversample(1)
    assert 0.15 < np.mean(oversampled) < 0.5  # nnU-Net's one-third, per labelled patch
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "No annotated pixels" warning for unlabelled crops
        batch = loader.generate_train_batch()
    seg = torch.as_tensor(batch["target"])
    ignore = trainer.label_manager.ignore_label
    # unlabelled patches: ignore, or -1 where nnU-Net pads beyond the image; labelled: no ignore
    assert set(seg[:2].unique().tolist()) <= {ignore, -1} and (seg[:2] == ignore).any()
    assert not (seg[2:] == ignore).any() and (seg[2:] > 0).any()

    planned = trainer.configuration_manager.batch_size
    trainer._set_batch_size_and_oversample()
    assert trainer.batch_size == planned  # default: the plans' batch, split
    monkeypatch.setenv("nnUNet_weak_unlabelled_on_top", "1")
    trainer._set_batch_size_and_oversample()
    assert trainer.batch_size == 2 * planned  # the plans' labelled batch plus as many unlabelled patches
    trainer.unlabelled_fraction = 1.0
    with pytest.raises(ValueError, match=r"unlabelled_fraction must be in \[0, 1\)"):
        trainer._set_batch_size_and_oversample()


def test_dtml_trains_resumes_both_networks_and_predicts_alone_or_as_ensemble(planned_semi_sample, tmp_path,
                                                                              monkeypatch):
    ws, dense, plans, _, test_cases = planned_semi_sample
    trainer = "nnUNetTrainerDTML"
    fold = fold_folder(ws, "Dataset993_SampleSemi", trainer, plans)
    text = train_until_epoch_then_kill(ws, 993, trainer, plans, tmp_path / "first.log")
    assert "dual task: consistency" in text
    checkpoint = assert_checkpoint_restores_everything(ws, 993, trainer, plans, fold / "checkpoint_latest.pth",
                                                       monkeypatch)
    assert set(checkpoint["extra_networks"]) == {"sdf"}
    images = [dense.image_files(c)[0] for c in test_cases]
    resume_validate_predict(ws, 993, trainer, plans, fold, images, tmp_path / "pred")

    # the ensemble checkpoint: both final networks, marked for the ensemble, predicted through the stock CLI
    final = torch.load(fold / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    ensemble = torch.load(fold / "checkpoint_final_ensemble.pth", map_location="cpu", weights_only=False)
    assert ensemble["trainer_name"] == "nnUNetTrainerDTMLEnsemble" and "optimizer_state" not in ensemble
    weights = ensemble["network_weights"]
    for key, tensor in final["network_weights"].items():
        assert torch.equal(weights[f"segmentation.{key}"], tensor), key
    for key, tensor in final["extra_networks"]["sdf"]["network_weights"].items():
        assert torch.equal(weights[f"distance.{key}"], tensor), key
    predict_cases(ws, 993, trainer, plans, images, tmp_path / "ensemble", checkpoint="checkpoint_final_ensemble.pth")
    with pytest.raises(RuntimeError, match="-tr nnUNetTrainerDTML -chk checkpoint_final_ensemble.pth"):
        make_trainer(ws, "nnUNetTrainerDTMLEnsemble", plans, monkeypatch)


def test_sdf_dual_head_predicts_segmentation_or_ensemble(planned_semi_sample, tmp_path):
    import subprocess

    from training_helpers import train_cmd, train_env

    ws, dense, plans, _, test_cases = planned_semi_sample
    trainer = "nnUNetTrainerSDFDualHead"
    out = subprocess.run(train_cmd(993, trainer, plans), env=train_env(ws, epochs=1), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    fold = fold_folder(ws, "Dataset993_SampleSemi", trainer, plans)
    weights = torch.load(fold / "checkpoint_final.pth", map_location="cpu", weights_only=False)["network_weights"]
    assert any(k.startswith("sdf_head.") for k in weights) and any(k.startswith("unet.") for k in weights)
    images = [dense.image_files(c)[0] for c in test_cases]
    predict_cases(ws, 993, trainer, plans, images, tmp_path / "pred")
    ensemble = torch.load(fold / "checkpoint_final_ensemble.pth", map_location="cpu", weights_only=False)
    assert ensemble["trainer_name"] == "nnUNetTrainerSDFDualHeadEnsemble"
    assert set(ensemble["network_weights"]) == {f"network.{k}" for k in weights} | {"sdf_k"}
    predict_cases(ws, 993, trainer, plans, images, tmp_path / "ensemble", checkpoint="checkpoint_final_ensemble.pth")


def test_trainers_refuse_data_they_cannot_use(planned_semi_sample, monkeypatch):
    ws, _, plans, labelled, _ = planned_semi_sample
    cross_teach = make_trainer(ws, "nnUNetTrainerCrossTeach", plans, monkeypatch)
    with pytest.raises(RuntimeError, match="no sparse annotated slices"):
        cross_teach.initialize()
    monkeypatch.delenv("nnUNet_weak_primary_weights", raising=False)
    with pytest.raises(RuntimeError, match="starts both networks from stage 1.*-tr nnUNetTrainerPointSeg "):
        make_trainer(ws, "nnUNetTrainerPointSegSCM", plans, monkeypatch).initialize()
    from nnunet_weak.pipeline import write_single_split

    cases = sorted(make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch).labelled_cases())
    unlabelled_only = [c for c in (ws.raw / "Dataset993_SampleSemi" / "labelsTr").iterdir()
                       if c.name.split(".")[0] not in cases][0].name.split(".")[0]
    try:
        write_single_split(ws, 993, cases, [unlabelled_only])
        with pytest.raises(RuntimeError, match="no labelled case to validate"):
            make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch).do_split()
    finally:
        training = sorted(p.name.split(".")[0] for p in (ws.raw / "Dataset993_SampleSemi" / "labelsTr").iterdir())
        write_single_split(ws, 993, training, [labelled[0], training[-1]])


def test_resuming_from_another_trainers_checkpoint_is_refused(planned_semi_sample, tmp_path, monkeypatch):
    ws, _, plans, _, _ = planned_semi_sample
    trainer = make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch)
    trainer.initialize()
    checkpoint = tmp_path / "checkpoint.pth"
    trainer.save_checkpoint(str(checkpoint))
    # what the stock trainer (or any single-network trainer) writes: no state for the distance network
    stock = torch.load(checkpoint, map_location="cpu", weights_only=False)
    del stock["extra_networks"]
    torch.save(stock, checkpoint)
    with pytest.raises(RuntimeError, match=r"no state for the networks \['sdf'\].*written by another trainer"):
        trainer.load_checkpoint(str(checkpoint))


def test_supervised_loss_ignores_unlabelled_patches_whose_padding_nnunet_labels_background(planned_semi_sample,
                                                                                          monkeypatch):
    ws, _, plans, _, _ = planned_semi_sample
    trainer = make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch)
    trainer.initialize()
    dataloader, _ = trainer.get_dataloaders()
    np.random.seed(1)
    torch.manual_seed(1)
    data, target, labels, annotated = trainer.unpack_batch(next(dataloader))
    labelled = annotated.flatten(1).all(1)
    assert labelled.tolist() == [False, True]  # the plans' batch of 2: one unlabelled patch, one labelled
    # the unlabelled patch is not all ignore: nnU-Net pads beyond the image with background
    assert 0 < annotated[0].float().mean() < 1 and not (labels[0][annotated[0]] > 0).any()

    trainer.network.eval()  # fixed normalisation statistics: one patch's output must not depend on the other
    with torch.no_grad():
        output = trainer.network(data)
        alone = trainer.loss([o[1:] for o in output], [t[1:] for t in target])
        assert trainer.supervised_loss(output, target, labelled).item() == pytest.approx(alone.item(), rel=1e-5)
        # what the whole batch would teach: a network predicting no foreground at all gets a perfect
        # Dice on the unlabelled patch, as large a reward as the labelled patch can give
        silent = [torch.cat([o[:, :1] + 30, o[:, 1:] - 30], 1) for o in output]
        assert trainer.loss([s[:1] for s in silent], [t[:1] for t in target]).item() < -0.99
        assert trainer.supervised_loss(silent, target, labelled).item() > 0


def test_a_run_can_start_from_a_complete_checkpoint_of_another_trainer(planned_semi_sample, tmp_path, monkeypatch):
    """nnUNet_weak_initial_weights: DTML warm-started from the stock trainer's network, output layers
    included (nnU-Net's -pretrained_weights drops them); what does not fit is refused by name."""
    ws, _, plans, _, _ = planned_semi_sample
    monkeypatch.delenv("nnUNet_weak_initial_weights", raising=False)
    stock = make_trainer(ws, "nnUNetTrainerBenchmark", plans, monkeypatch)
    stock.initialize()
    checkpoint = tmp_path / "stock_final.pth"
    stock.save_checkpoint(str(checkpoint))
    fresh = make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch)
    fresh.initialize()

    monkeypatch.setenv("nnUNet_weak_initial_weights", str(checkpoint))
    warm = make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch)
    warm.initialize()
    expected = stock.network.state_dict()
    loaded = warm.network.state_dict()
    assert set(loaded) == set(expected) and any(".seg_layers." in k for k in loaded)
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)
    assert not all(torch.equal(fresh.network.state_dict()[k], expected[k]) for k in expected)

    dual_head = make_trainer(ws, "nnUNetTrainerSDFDualHead", plans, monkeypatch)
    with pytest.raises(RuntimeError, match=r"stock_final.pth does not fit nnUNetTrainerSDFDualHead's network"):
        dual_head.initialize()
    monkeypatch.setenv("nnUNet_weak_initial_weights", str(tmp_path / "missing.pth"))
    with pytest.raises(RuntimeError, match=r"missing.pth: no such file"):
        make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch).initialize()
    not_a_checkpoint = tmp_path / "notes.pth"
    not_a_checkpoint.write_text("not a checkpoint")
    monkeypatch.setenv("nnUNet_weak_initial_weights", str(not_a_checkpoint))
    with pytest.raises(RuntimeError, match=r"initial_weights: .*notes.pth could not be read as a checkpoint"):
        make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch).initialize()
    torch.save({"weights": {}}, not_a_checkpoint)
    with pytest.raises(RuntimeError, match=r"notes.pth is not a checkpoint written by nnU-Net"):
        make_trainer(ws, "nnUNetTrainerDTML", plans, monkeypatch).initialize()
    monkeypatch.setenv("nnUNet_weak_initial_weights", str(checkpoint))
    with pytest.raises(RuntimeError, match="nnUNet_weak_primary_weights and nnUNet_weak_secondary_weights, not"):
        make_trainer(ws, "nnUNetTrainerPointSegSCM", plans, monkeypatch).initialize()
