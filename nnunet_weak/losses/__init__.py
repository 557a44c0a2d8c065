"""Losses and pseudo-label rules: plain torch, no nnU-Net, testable with a few tensors."""

from nnunet_weak.losses.consistency import ConfidenceFilteredCELoss
from nnunet_weak.losses.cross_teaching import (
    confidence_threshold_labels,
    consistent_label_fusion,
    labelled_accuracy,
)
from nnunet_weak.losses.dual_task import (
    masked_l1_loss,
    masked_soft_dice_loss,
    mutual_consistency_loss,
)
from nnunet_weak.losses.masked import MaskedCEDiceLoss
from nnunet_weak.losses.perturbations import cutmix, strong_intensity
from nnunet_weak.losses.schedules import deep_supervision_weights, sigmoid_rampup

__all__ = [
    "ConfidenceFilteredCELoss",
    "MaskedCEDiceLoss",
    "confidence_threshold_labels",
    "consistent_label_fusion",
    "cutmix",
    "deep_supervision_weights",
    "labelled_accuracy",
    "masked_l1_loss",
    "masked_soft_dice_loss",
    "mutual_consistency_loss",
    "sigmoid_rampup",
    "strong_intensity",
]
