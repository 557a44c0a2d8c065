"""Pseudo-label rules of 2D/3D cross-teaching on hand-built tensors; expected masks written out."""

import math

import pytest
import torch

from nnunet_weak.losses import (
    MaskedCEDiceLoss,
    confidence_threshold_labels,
    consistent_label_fusion,
    deep_supervision_weights,
    labelled_accuracy,
    sigmoid_rampup,
)


def probs(*rows):
    """(1, C, 1, N) probabilities from per-voxel class-probability rows."""
    return torch.tensor(rows, dtype=torch.float32).T.reshape(1, len(rows[0]), 1, len(rows))


def test_fusion_trusts_agreeing_2d_networks_unless_3d_disagrees_more_confidently():
    # voxel:           0: agree, 3D agrees   1: agree, 3D disagrees but less confident
    #                  2: agree, 3D disagrees and beats both   3: 2D disagree
    #                  4: agree, 3D disagrees, beats only one 2D network
    p3d = probs([0.9, 0.1], [0.3, 0.7], [0.05, 0.95], [0.5, 0.5], [0.2, 0.8])
    a2d = probs([0.8, 0.2], [0.9, 0.1], [0.7, 0.3], [0.6, 0.4], [0.9, 0.1])
    b2d = probs([0.7, 0.3], [0.6, 0.4], [0.9, 0.1], [0.3, 0.7], [0.7, 0.3])
    label, mask = consistent_label_fusion(p3d, [a2d, b2d])
    assert label.flatten().tolist()[:3] == [0, 0, 0]
    assert mask.flatten().tolist() == [True, True, False, False, True]


def test_fusion_with_one_orientation_only_applies_the_3d_override():
    p3d = probs([0.9, 0.1], [0.95, 0.05])
    a2d = probs([0.2, 0.8], [0.01, 0.99])
    label, mask = consistent_label_fusion(p3d, [a2d])
    assert label.flatten().tolist() == [1, 1] and mask.flatten().tolist() == [False, True]


def test_hard_threshold_until_3d_is_accurate_then_soft():
    p3d = probs([0.95, 0.05], [0.2, 0.8], [0.5, 0.5], [0.08, 0.92])
    label, hard = confidence_threshold_labels(p3d, labelled_accuracy=0.97)
    _, soft = confidence_threshold_labels(p3d, labelled_accuracy=0.99)
    assert label.flatten().tolist() == [0, 1, 0, 1]
    assert hard.flatten().tolist() == [True, False, False, True]
    assert soft.flatten().tolist() == [True, True, False, True]
    with pytest.raises(ValueError):
        confidence_threshold_labels(p3d, 0.5, hard=0.5, soft=0.7)


def test_labelled_accuracy_counts_annotated_voxels_only():
    p = probs([0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1])
    target = torch.tensor([[[0, 0, 1, 1]]])
    annotated = torch.tensor([[[True, True, True, False]]])
    assert labelled_accuracy(p, target, annotated) == pytest.approx(1 / 3)
    assert labelled_accuracy(p, target, torch.zeros_like(annotated)) == 0.0


def test_rampup_follows_exp_minus_5_one_minus_t_squared():
    assert sigmoid_rampup(0.0, 0.1) == pytest.approx(0.1 * math.exp(-5))
    assert sigmoid_rampup(0.5, 0.1) == pytest.approx(0.1 * math.exp(-1.25))
    assert sigmoid_rampup(1.0, 0.1) == sigmoid_rampup(3.0, 0.1) == pytest.approx(0.1)


def test_deep_supervision_weights_match_nnunet():
    w = deep_supervision_weights(4)
    assert w.tolist() == pytest.approx([1 / 1.75, 0.5 / 1.75, 0.25 / 1.75, 0.0])
    assert deep_supervision_weights(4, keep_lowest=True)[-1] > 0


def test_masked_ce_dice_equals_hand_computation():
    logits = torch.tensor([[[[2.0, 0.0, 1.0]], [[0.0, 1.0, 1.0]]]])  # (1, 2, 1, 3)
    target = torch.tensor([[[0, 1, 1]]])
    mask = torch.tensor([[[True, True, False]]])
    p = torch.softmax(torch.tensor([[2.0, 0.0], [0.0, 1.0]]), dim=1)
    ce = -(torch.log(p[0, 0]) + torch.log(p[1, 1])) / 2
    fg = p[:, 1]
    dice = (2 * fg[1] + 1e-5) / (fg.sum() + 1 + 1e-5)
    assert MaskedCEDiceLoss()(logits, target, mask).item() == pytest.approx((ce + 1 - dice).item(), rel=1e-5)
    zero = MaskedCEDiceLoss()(logits.requires_grad_(), target, torch.zeros_like(mask))
    assert zero.item() == 0.0 and zero.requires_grad
