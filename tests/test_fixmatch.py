"""FixMatch-style consistency (issue 28): voxel-aligned strong views, the confidence filter against
a hand computation, the mean teacher's update, batch composition and an exact resume of the teacher."""

import math

import numpy as np
import pytest
import torch
from tiny_preprocessed import IGNORE, LABELLED, make_trainer
from torch import nn

from nnunet_weak.losses import ConfidenceFilteredCELoss, cutmix, strong_intensity
from nnunet_weak.networks.ema import ema_update
from nnunet_weak.trainers.fixmatch import nnUNetTrainerFixMatch, nnUNetTrainerFixMatchEMATeacher


def test_strong_intensity_leaves_every_marker_on_its_voxel():
    data = torch.zeros(6, 1, 16, 16, 16)
    markers = [(5, 6, 7), (8, 8, 8), (10, 5, 9), (6, 10, 6), (7, 7, 10), (9, 9, 5)]
    for i, voxel in enumerate(markers):
        data[(i, 0, *voxel)] = 1000.0
    before = data.clone()
    generator = torch.Generator().manual_seed(0)
    strong = strong_intensity(data, jitter_probability=1.0, blur_probability=1.0, generator=generator)
    assert torch.equal(data, before) and strong.shape == data.shape and strong.dtype == data.dtype
    assert not torch.allclose(strong, data)  # perturbed
    for i, voxel in enumerate(markers):
        flat = int(strong[i, 0].argmax())
        assert np.unravel_index(flat, (16, 16, 16)) == voxel  # the marker's voxel is still the brightest
    again = strong_intensity(data, jitter_probability=1.0, blur_probability=1.0,
                             generator=torch.Generator().manual_seed(0))
    assert torch.equal(strong, again)  # deterministic given the generator
    unchanged = strong_intensity(data, jitter_probability=0.0, blur_probability=0.0)
    assert torch.equal(unchanged, data)


def test_cutmix_moves_pseudo_labels_and_confidence_exactly_with_the_image():
    batch, shape = 4, (6, 7, 8)
    voxels = math.prod(shape)
    codes = torch.arange(batch * voxels).reshape(batch, *shape)  # code = sample * voxels + voxel index
    data = torch.stack([codes.float(), -codes.float()], 1)  # two channels, moved together
    labels, confident = codes.clone(), codes % 3 == 0
    mixed, mixed_labels, mixed_confident = cutmix(data, labels, confident, probability=1.0,
                                                  generator=torch.Generator().manual_seed(3))
    assert torch.equal(data[:, 0], codes.float())  # inputs untouched
    assert torch.equal(mixed[:, 0].long(), mixed_labels) and torch.equal(mixed[:, 1], -mixed[:, 0])
    assert torch.equal(mixed_confident, mixed_labels % 3 == 0)
    # every voxel stays where it was: its code's voxel index is its own position
    assert torch.equal(mixed_labels % voxels, codes % voxels)
    for i in range(batch):
        sources = (mixed_labels[i] // voxels).unique().tolist()
        assert len(sources) == 2 and i in sources  # probability 1: a box from exactly one other patch
        pasted = (mixed_labels[i] // voxels) != i
        box = [idx.unique() for idx in torch.nonzero(pasted, as_tuple=True)]
        assert pasted.sum() == math.prod(len(b) for b in box)  # the pasted voxels form one box
        assert all(torch.equal(b, torch.arange(b[0], b[-1] + 1)) for b in box)
    single = cutmix(data[:1], labels[:1], probability=1.0)
    assert torch.equal(single[0], data[:1]) and torch.equal(single[1], labels[:1])
    with pytest.raises(ValueError, match="every map must be"):
        cutmix(data, labels[:, :3])


def test_confidence_filter_and_loss_match_a_hand_computation():
    # (B=1, C=3, 2 x 2 voxels): two voxels confident at 0.9, two not
    logits = torch.tensor([[[[5.0, 0.0], [0.2, 0.0]],
                            [[0.0, 4.0], [0.0, 0.1]],
                            [[0.0, 0.0], [0.1, 0.3]]]])
    loss_fn = ConfidenceFilteredCELoss(threshold=0.9)
    labels, confident = loss_fn.pseudo_labels(logits)

    def softmax(values):
        exps = [math.exp(v) for v in values]
        return [e / sum(exps) for e in exps]

    expected_labels, expected_confident = [], []
    for y in range(2):
        for x in range(2):
            probs = softmax([logits[0, c, y, x].item() for c in range(3)])
            expected_labels.append(max(range(3), key=probs.__getitem__))
            expected_confident.append(max(probs) >= 0.9)
    assert labels.flatten().tolist() == expected_labels == [0, 1, 0, 2]
    assert confident.flatten().tolist() == expected_confident == [True, True, False, False]

    strong = torch.tensor([[[[1.0, 2.0], [0.0, 0.0]],
                            [[0.0, 0.5], [3.0, 0.0]],
                            [[2.0, 0.0], [0.0, 1.0]]]], requires_grad=True)
    loss, kept = loss_fn(strong, labels, confident)
    cross_entropy = []
    for y, x, label in ((0, 0, 0), (0, 1, 1)):
        values = [strong[0, c, y, x].item() for c in range(3)]
        cross_entropy.append(-math.log(softmax(values)[label]))
    assert loss.item() == pytest.approx(sum(cross_entropy) / 4)  # over ALL voxels (FixMatch), not the 2 kept
    assert kept == 0.5
    loss.backward()
    assert strong.grad[0, :, 1].abs().sum() == 0  # unconfident voxels teach nothing

    none, kept = loss_fn(strong, labels, torch.zeros_like(confident))
    assert none.item() == 0 and kept == 0 and none.requires_grad
    with pytest.raises(ValueError, match="must be a bool"):
        loss_fn(strong, labels, confident.float())
    with pytest.raises(ValueError, match="threshold must be in"):
        ConfidenceFilteredCELoss(1.5)


def test_ema_update_moves_the_average_towards_the_network_by_one_minus_decay():
    average, network = nn.Linear(2, 1), nn.Linear(2, 1)
    with torch.no_grad():
        average.weight.fill_(1.0), average.bias.fill_(0.0)
        network.weight.fill_(3.0), network.bias.fill_(1.0)
    assert ema_update(average, network, 0.99) == 0.99
    assert torch.allclose(average.weight, torch.full((1, 2), 0.99 * 1 + 0.01 * 3))
    assert torch.allclose(average.bias, torch.tensor([0.01]))
    assert ema_update(average, network, 0.99, step=1) == 0.5  # mean teacher's warm-up: min(1 - 1/(step+1), decay)
    assert torch.allclose(average.weight, torch.full((1, 2), 0.5 * 1.02 + 0.5 * 3))
    with pytest.raises(ValueError, match="decay must be in"):
        ema_update(average, network, 1.0)


class _AlwaysJitter(nnUNetTrainerFixMatch):
    jitter_probability = 1.0


def test_batches_hold_unlabelled_then_labelled_patches_and_only_unlabelled_ones_are_perturbed(tmp_path,
                                                                                              monkeypatch):
    trainer = make_trainer(_AlwaysJitter, tmp_path, monkeypatch)
    trainer.initialize()
    train, _ = trainer.get_dataloaders()
    loader = train.data_loader  # nnUNet_n_proc_DA=0: the loader inside batchgenerators' single-threaded augmenter
    np.random.seed(0)
    for _ in range(20):
        assert [k in LABELLED for k in loader.get_indices()] == [False, False, True, True]
    batch = next(train)
    labelled = torch.tensor([False, False, True, True])
    full_resolution = batch["target"][0][:, 0]
    assert torch.equal((full_resolution != IGNORE).flatten(1).all(1), labelled)
    seen = []
    trainer.network.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    trainer.on_train_epoch_start()
    output = trainer.train_step(batch)
    data = batch["data"]
    weak, student = seen  # the teacher's (the student without gradient) forward, then the student's
    assert torch.equal(weak, data[~labelled])
    assert torch.equal(student[labelled], data[labelled])  # labelled patches as nnU-Net delivers them
    assert not torch.allclose(student[~labelled], data[~labelled])  # the strong view
    assert 0 <= output["kept"] <= 1 and np.isfinite(output["loss"])


def test_the_ema_teacher_resumes_exactly_from_a_checkpoint(tmp_path, monkeypatch):
    trainer = make_trainer(nnUNetTrainerFixMatchEMATeacher, tmp_path, monkeypatch)
    trainer.initialize()
    train, _ = trainer.get_dataloaders()
    trainer.on_train_epoch_start()
    for _ in range(2):
        trainer.train_step(next(train))
    teacher, student = trainer.frozen_networks["teacher"].state_dict(), trainer.network.state_dict()
    assert not all(torch.equal(teacher[k], student[k]) for k in student)  # an average, not a copy
    path = tmp_path / "checkpoint.pth"
    trainer.save_checkpoint(str(path))
    assert set(torch.load(path, weights_only=False)["frozen_networks"]) == {"teacher"}

    fresh = make_trainer(nnUNetTrainerFixMatchEMATeacher, tmp_path, monkeypatch)
    fresh.initialize()
    assert not all(torch.equal(fresh.frozen_networks["teacher"].state_dict()[k], teacher[k]) for k in teacher)
    fresh.load_checkpoint(str(path))
    for key, tensor in teacher.items():
        assert torch.equal(fresh.frozen_networks["teacher"].state_dict()[key], tensor), key
    assert fresh.frozen_networks["teacher"].frozen_from == "network"
    assert not any(p.requires_grad for p in fresh.frozen_networks["teacher"].parameters())

    # a checkpoint without the teacher (another trainer's): the teacher starts from the loaded network
    checkpoint = torch.load(path, weights_only=False)
    del checkpoint["frozen_networks"]
    torch.save(checkpoint, path)
    other = make_trainer(nnUNetTrainerFixMatchEMATeacher, tmp_path, monkeypatch)
    other.initialize()
    other.load_checkpoint(str(path))
    for key, tensor in student.items():
        assert torch.equal(other.frozen_networks["teacher"].state_dict()[key], tensor), key


def test_a_teacher_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    class Typo(nnUNetTrainerFixMatch):
        teacher = "mean"

    with pytest.raises(ValueError, match=r"teacher must be one of \('self', 'ema'\), got 'mean'"):
        make_trainer(Typo, tmp_path, monkeypatch).initialize()
