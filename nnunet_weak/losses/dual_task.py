"""Dual-task (segmentation + signed distance) loss terms.

DTML (Zhang & Zhang, "Dual-Task Mutual Learning for Semi-Supervised Medical Image Segmentation",
PRCV 2021) after DTC (Luo et al., "Semi-supervised Medical Image Segmentation through Dual-task
Consistency", AAAI 2021): a signed distance map phi (tanh output, negative inside) maps to a
segmentation by ``sigmoid(-k phi)`` with k = 1500
(:func:`nnunet_weak.networks.signed_distance.sdf_to_probability`). For several classes we use
one distance map per foreground class and compare it with the softmax probability of that class.
All three terms reduce to a scalar mean; the trainer weights and ramps them.
"""

from __future__ import annotations

import torch


def _check_mask(mask: torch.Tensor, reference: torch.Tensor, names: str) -> None:
    if reference.ndim < 3 or mask.shape != reference.shape[:1] + reference.shape[2:]:
        raise ValueError(f"{names} {tuple(reference.shape)} must be (B, F, *spatial) and mask "
                         f"{tuple(mask.shape)} (B, *spatial)")
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor, got {mask.dtype}")


def masked_soft_dice_loss(probs: torch.Tensor, onehot: torch.Tensor, mask: torch.Tensor,
                          smooth: float = 1e-5) -> torch.Tensor:
    """DTML's Dice loss on the distance map's segmentation: ``1 -`` the mean over classes of
    soft Dice over the voxels in ``mask``, the whole batch at once (batch Dice).

    Args:
        probs: ``(B, F, *spatial)`` (BFHW or BFDHW) foreground probabilities, one channel per
            foreground class (``sigmoid(-k phi)``).
        onehot: the same shape, 0/1 targets of those classes.
        mask: ``(B, *spatial)`` bool, the labelled voxels.
        smooth: added to numerator and denominator (default 1e-5); must be > 0 (a class absent
            from prediction and target would otherwise give 0 / 0).

    Returns:
        a scalar in [0, 1]; an empty mask gives 0.

    Raises:
        ValueError: shapes that do not match as above, a mask that is not bool, ``smooth`` <= 0.
    """
    if probs.shape != onehot.shape:
        raise ValueError(f"probs {tuple(probs.shape)} and onehot {tuple(onehot.shape)} must have the same shape")
    _check_mask(mask, probs, "probs")
    if smooth <= 0:
        raise ValueError(f"smooth must be > 0, got {smooth}")
    m = mask.unsqueeze(1).to(probs.dtype)
    intersection = (probs * onehot * m).flatten(2).sum((0, 2))
    denominator = ((probs + onehot) * m).flatten(2).sum((0, 2))
    return 1 - ((2 * intersection + smooth) / (denominator + smooth)).mean()


def masked_l1_loss(phi: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The signed-distance regression DTML's paper describes (its released code computes it but
    never adds it): mean absolute error of ``phi`` against ``target`` over the voxels in ``mask``.

    Args:
        phi: ``(B, F, *spatial)`` predicted signed distance maps (tanh, in [-1, 1]).
        target: the same shape, normalised signed distance maps of the labels.
        mask: ``(B, *spatial)`` bool, the labelled voxels.

    Returns:
        a scalar, the mean over masked voxels and channels; 0 (graph kept) for an empty mask.

    Raises:
        ValueError: shapes that do not match as above, or a mask that is not bool.
    """
    if phi.shape != target.shape:
        raise ValueError(f"phi {tuple(phi.shape)} and target {tuple(target.shape)} must have the same shape")
    _check_mask(mask, phi, "phi")
    m = mask.unsqueeze(1).expand_as(phi)
    if not m.any():
        return phi.sum() * 0.0
    return (phi[m] - target[m]).abs().mean()


def mutual_consistency_loss(seg_probs: torch.Tensor, sdf_probs: torch.Tensor) -> torch.Tensor:
    """DTML's mutual consistency: mean squared difference of the two tasks' foreground
    probabilities over all voxels, labelled or not. Both sides keep their gradient: each network
    teaches the other (DTML's mutual learning).

    Args:
        seg_probs: ``(B, F, *spatial)`` softmax probabilities of the foreground classes.
        sdf_probs: the same shape, the distance maps' probabilities.

    Returns:
        a scalar, the mean over every element.

    Raises:
        ValueError: the two shapes differ (a broadcast would silently compare the wrong voxels).
    """
    if seg_probs.shape != sdf_probs.shape:
        raise ValueError(f"seg_probs {tuple(seg_probs.shape)} and sdf_probs {tuple(sdf_probs.shape)} "
                         "must have the same shape")
    return ((seg_probs - sdf_probs) ** 2).mean()
