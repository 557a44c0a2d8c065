"""Cross-entropy + soft Dice restricted to a voxel mask (pseudo labels)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MaskedCEDiceLoss(nn.Module):
    """CE + soft Dice over the voxels where ``mask`` is True.

    The pseudo-label term of 2D/3D cross-teaching (Cai et al., "3D Medical Image Segmentation
    with Sparse Annotation via Cross-Teaching between 3D and 2D Networks", MICCAI 2023: the
    authors' ``multi_dice_loss_weight`` restricted to the mask; they weight rather than mask, with
    0/1 weights it is the same) and of PA-Seg's self-monitoring (Zhai et al., IEEE TMI 2023). CE
    is the mean over selected voxels; Dice is computed per class over all selected voxels of the
    batch (batch Dice) and averaged over the classes.

    Args:
        smooth: added to numerator and denominator of Dice (default 1e-5); must be > 0 (a class
            absent from the selected voxels and the prediction would otherwise give 0 / 0).
        include_background: count class 0 in the Dice term (default False, as nnU-Net).

    Inputs:
        logits: ``(B, C, *spatial)`` (BCHW or BCDHW) unnormalised scores, any float dtype.
        target: ``(B, *spatial)`` class indices in ``[0, C)`` (float holding whole numbers is accepted).
        mask: ``(B, *spatial)`` bool, the voxels that carry a target.

    Returns:
        a scalar: CE (mean over masked voxels) + 1 - mean Dice. An empty mask gives 0 with the
        graph kept (no reduction option: the trainers weight this scalar).

    Raises:
        ValueError: ``smooth`` <= 0; shapes that do not match as above; a mask that is not bool;
            target values outside ``[0, C)`` on masked voxels.
    """

    def __init__(self, smooth: float = 1e-5, include_background: bool = False):
        super().__init__()
        if smooth <= 0:
            raise ValueError(f"smooth must be > 0, got {smooth}")
        self.smooth = smooth
        self.include_background = include_background

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if logits.ndim < 3 or target.shape != logits.shape[:1] + logits.shape[2:] or mask.shape != target.shape:
            raise ValueError(f"logits {tuple(logits.shape)}, target {tuple(target.shape)} and mask "
                             f"{tuple(mask.shape)} do not match (B, C, *spatial) / (B, *spatial)")
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor, got {mask.dtype}")
        if not mask.any():
            return logits.sum() * 0.0
        channels_last = logits.movedim(1, -1)[mask].float()  # (N, C)
        labels = target[mask].long()
        if labels.min() < 0 or labels.max() >= logits.shape[1]:
            raise ValueError(f"target values must lie in [0, {logits.shape[1]}) on masked voxels, got "
                             f"{int(labels.min())}..{int(labels.max())}")
        ce = F.cross_entropy(channels_last, labels)
        probs = channels_last.softmax(-1)
        onehot = F.one_hot(labels, probs.shape[-1]).float()
        first = 0 if self.include_background else 1
        probs, onehot = probs[:, first:], onehot[:, first:]
        intersection = (probs * onehot).sum(0)
        denominator = probs.sum(0) + onehot.sum(0)
        dice = (2 * intersection + self.smooth) / (denominator + self.smooth)
        return ce + (1 - dice.mean())
