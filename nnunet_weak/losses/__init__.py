"""Losses and pseudo-label rules: plain torch, no nnU-Net, testable with a few tensors."""

from nnunet_weak.losses.cross_teaching import (
    confidence_threshold_labels,
    consistent_label_fusion,
    labelled_accuracy,
)
from nnunet_weak.losses.dual_task import (
    ensemble_log_probabilities,
    masked_l1_loss,
    masked_soft_dice_loss,
    mutual_consistency_loss,
    sdf_to_probability,
)
from nnunet_weak.losses.masked import MaskedCEDiceLoss
from nnunet_weak.losses.schedules import deep_supervision_weights, sigmoid_rampup

__all__ = [
    "MaskedCEDiceLoss",
    "confidence_threshold_labels",
    "consistent_label_fusion",
    "deep_supervision_weights",
    "ensemble_log_probabilities",
    "labelled_accuracy",
    "masked_l1_loss",
    "masked_soft_dice_loss",
    "mutual_consistency_loss",
    "sdf_to_probability",
    "sigmoid_rampup",
]
