"""Every loss and pseudo-label rule in losses/ refuses misuse with a ValueError that says what is
wrong, instead of broadcasting or indexing its way to a wrong number (MONAI's contract)."""

import math

import pytest
import torch

from nnunet_weak.losses import (
    MaskedCEDiceLoss,
    confidence_threshold_labels,
    consistent_label_fusion,
    deep_supervision_weights,
    labelled_accuracy,
    masked_l1_loss,
    masked_soft_dice_loss,
    mutual_consistency_loss,
    sigmoid_rampup,
)
from nnunet_weak.losses.crf import MultiViewGatedCRFLoss, merge_foreground, variance_loss
from nnunet_weak.losses.label_noise import reject_foreground

B, C, S = 2, 3, (4, 5, 6)
probs = torch.rand(B, C, *S).softmax(1)
labels = torch.randint(0, C, (B, *S))
mask = torch.rand(B, *S) > 0.5


@pytest.mark.parametrize("call, match", [
    (lambda: MaskedCEDiceLoss(smooth=0), "smooth"),
    (lambda: MaskedCEDiceLoss()(probs, labels[:, :3], mask), "do not match"),
    (lambda: MaskedCEDiceLoss()(probs, labels, mask[0]), "do not match"),
    (lambda: MaskedCEDiceLoss()(probs, labels, mask.float()), "bool"),
    (lambda: MaskedCEDiceLoss()(probs, labels + C, torch.ones_like(mask)), r"\[0, 3\)"),
    (lambda: MaskedCEDiceLoss()(probs, labels - 1, torch.ones_like(mask)), r"\[0, 3\)"),
])
def test_masked_ce_dice_refuses_misuse(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: masked_soft_dice_loss(probs, probs[:, :2], mask), "same shape"),
    (lambda: masked_soft_dice_loss(probs, probs, mask[:, :2]), r"\(B, \*spatial\)"),
    (lambda: masked_soft_dice_loss(probs, probs, mask.long()), "bool"),
    (lambda: masked_soft_dice_loss(probs, probs, mask, smooth=0.0), "smooth"),
    (lambda: masked_l1_loss(probs, probs[:1], mask), "same shape"),
    (lambda: masked_l1_loss(probs, probs, mask.float()), "bool"),
    (lambda: mutual_consistency_loss(probs, probs[:, :1]), "same shape"),
])
def test_dual_task_terms_refuse_misuse(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: consistent_label_fusion(probs, []), "at least one"),
    (lambda: consistent_label_fusion(probs, [probs, probs[:, :2]]), r"probs_2d\[1\]"),
    (lambda: consistent_label_fusion(probs[:, :1], [probs[:, :1]]), "C >= 2"),
    (lambda: confidence_threshold_labels(probs, 0.5, hard=0.5, soft=0.7), "soft"),
    (lambda: confidence_threshold_labels(probs, 1.5), "labelled_accuracy"),
    (lambda: confidence_threshold_labels(probs, 0.5, quality_bar=-0.1), "quality_bar"),
    (lambda: confidence_threshold_labels(probs[0, 0, 0], 0.5), r"\(B, C, \*spatial\)"),
    (lambda: labelled_accuracy(probs, labels[:, :2], mask), "do not match"),
    (lambda: labelled_accuracy(probs, labels, mask.long()), "bool"),
])
def test_cross_teaching_rules_refuse_misuse(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: MultiViewGatedCRFLoss(window=4), "odd"),
    (lambda: MultiViewGatedCRFLoss(window=1), "odd"),
    (lambda: MultiViewGatedCRFLoss(sigma_xy=0), "positive"),
    (lambda: MultiViewGatedCRFLoss(sigma_i=-1), "positive"),
    (lambda: MultiViewGatedCRFLoss(spacing=(1.0, 1.0)), "spacing"),
    (lambda: MultiViewGatedCRFLoss(spacing=(1.0, 0.0, 1.0)), "spacing"),
    (lambda: MultiViewGatedCRFLoss(window=3)(probs[:, :, 0], torch.rand(B, 1, 5, 6)), r"\(B, C\|M, D, H, W\)"),
    (lambda: MultiViewGatedCRFLoss(window=3)(probs, torch.rand(B, 1, 4, 5, 7)), r"\(B, C\|M, D, H, W\)"),
    (lambda: merge_foreground(probs[:, :1]), "C >= 2"),
    (lambda: variance_loss(probs, torch.rand(B + 1, 1, *S)), "must be"),
    (lambda: variance_loss(probs, torch.rand(B, 1, *S), eps=0), "eps"),
])
def test_point_losses_refuse_misuse(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("kwargs, match", [
    ({"ignore_label": 0}, "ignore_label"),
    ({"ignore_label": 3, "threshold": 0.0}, "threshold"),
    ({"ignore_label": 3, "max_share": 1.5}, "max_share"),
    ({"ignore_label": 3, "min_agreement": -0.1}, "min_agreement"),
])
def test_foreground_rejection_refuses_misuse(kwargs, match):
    with pytest.raises(ValueError, match=match):
        reject_foreground(labels, probs, **kwargs)
    with pytest.raises(ValueError, match="does not match"):
        reject_foreground(labels[:, :2], probs, ignore_label=3)


def test_schedules_refuse_misuse():
    with pytest.raises(ValueError, match="finite"):
        sigmoid_rampup(math.nan)
    with pytest.raises(ValueError, match="finite"):
        sigmoid_rampup(0.5, weight=math.inf)
    with pytest.raises(ValueError, match="at least one"):
        deep_supervision_weights(0)


def test_valid_inputs_pass_the_checks():
    """The checks refuse only misuse: the shapes the trainers pass go through."""
    assert MaskedCEDiceLoss()(probs.log(), labels, mask).ndim == 0
    assert masked_soft_dice_loss(probs, probs, mask).ndim == 0 and masked_l1_loss(probs, probs, mask) == 0
    assert consistent_label_fusion(probs, [probs, probs])[1].shape == mask.shape
    assert labelled_accuracy(probs, labels, mask) >= 0
    assert MultiViewGatedCRFLoss(window=3, spacing=(2.0, 1.0, 1.0))(probs, torch.rand(B, 1, *S)).ndim == 0
    assert variance_loss(probs, torch.rand(B, 1, *S)).ndim == 0 and merge_foreground(probs).shape[1] == 2
    assert reject_foreground(labels.unsqueeze(1).float(), probs, ignore_label=3)[0].shape == (B, 1, *S)
