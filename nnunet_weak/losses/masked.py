"""Cross-entropy + soft Dice restricted to a voxel mask (pseudo labels)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MaskedCEDiceLoss(nn.Module):
    """CE + soft Dice over the voxels where ``mask`` is True.

    Used for pseudo-label terms, where only selected voxels carry a target. CE is the mean over
    selected voxels; Dice is computed per foreground class over all selected voxels of the batch
    (batch Dice) and averaged over classes present in target or prediction, as in 3D2DCT's
    ``multi_dice_loss_weight`` restricted to the mask (the authors weight rather than mask;
    with 0/1 weights it is the same). An empty mask gives a zero loss that keeps the graph.

    Args:
        smooth: added to numerator and denominator of Dice.
        include_background: count class 0 in the Dice term (nnU-Net's default: no).

    Shapes:
        logits ``(B, C, *spatial)``; target ``(B, *spatial)`` integer; mask ``(B, *spatial)`` bool.
    """

    def __init__(self, smooth: float = 1e-5, include_background: bool = False):
        super().__init__()
        self.smooth = smooth
        self.include_background = include_background

    def forward(self, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if target.shape != logits.shape[:1] + logits.shape[2:] or mask.shape != target.shape:
            raise ValueError(f"logits {tuple(logits.shape)}, target {tuple(target.shape)} and mask "
                             f"{tuple(mask.shape)} do not match (B, C, *spatial) / (B, *spatial)")
        if not mask.any():
            return logits.sum() * 0.0
        channels_last = logits.movedim(1, -1)[mask].float()  # (N, C)
        labels = target[mask].long()
        ce = F.cross_entropy(channels_last, labels)
        probs = channels_last.softmax(-1)
        onehot = F.one_hot(labels, probs.shape[-1]).float()
        first = 0 if self.include_background else 1
        probs, onehot = probs[:, first:], onehot[:, first:]
        intersection = (probs * onehot).sum(0)
        denominator = probs.sum(0) + onehot.sum(0)
        dice = (2 * intersection + self.smooth) / (denominator + self.smooth)
        return ce + (1 - dice.mean())
