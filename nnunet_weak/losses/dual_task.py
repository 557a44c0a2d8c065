"""Dual-task (segmentation + signed distance) loss terms.

DTML (Zhang & Zhang, "Dual-Task Mutual Learning for Semi-Supervised Medical Image Segmentation",
PRCV 2021) after DTC (Luo et al., AAAI 2021): a signed distance map phi (tanh output, negative
inside) maps to a segmentation by ``sigmoid(-k phi)`` with k = 1500
(:func:`nnunet_weak.networks.signed_distance.sdf_to_probability`). For several classes we use
one distance map per foreground class and compare it with the softmax probability of that class.
"""

from __future__ import annotations

import torch


def masked_soft_dice_loss(probs: torch.Tensor, onehot: torch.Tensor, mask: torch.Tensor,
                          smooth: float = 1e-5) -> torch.Tensor:
    """``1 - mean over classes`` of soft Dice over voxels in ``mask`` (whole batch at once).

    Shapes: probs and onehot ``(B, F, *spatial)``; mask ``(B, *spatial)`` bool.
    """
    m = mask.unsqueeze(1).to(probs.dtype)
    intersection = (probs * onehot * m).flatten(2).sum((0, 2))
    denominator = ((probs + onehot) * m).flatten(2).sum((0, 2))
    return 1 - ((2 * intersection + smooth) / (denominator + smooth)).mean()


def masked_l1_loss(phi: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of ``phi`` against ``target`` (``(B, F, *spatial)``) over voxels in ``mask``."""
    m = mask.unsqueeze(1).expand_as(phi)
    if not m.any():
        return phi.sum() * 0.0
    return (phi[m] - target[m]).abs().mean()


def mutual_consistency_loss(seg_probs: torch.Tensor, sdf_probs: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the two tasks' foreground probabilities, over all voxels. Both
    sides keep their gradient: each network teaches the other (DTML's mutual learning)."""
    return ((seg_probs - sdf_probs) ** 2).mean()
