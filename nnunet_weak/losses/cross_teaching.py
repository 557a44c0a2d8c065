"""Pseudo-label selection rules of 2D/3D cross-teaching (Cai et al., "3D Medical Image
Segmentation with Sparse Annotation via Cross-Teaching between 3D and 2D Networks", MICCAI 2023).

Inputs are softmax probabilities ``(B, C, *spatial)`` of the 3D network and of the 2D networks
(their slice outputs stacked back into the 3D patch). Each rule returns a label map ``(B, *spatial)``
and a boolean mask of the voxels it trusts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def consistent_label_fusion(
    probs_3d: torch.Tensor, probs_2d: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo labels for the 3D network from the 2D networks ("consistent label fusion").

    A voxel is used when all 2D networks predict the same class, unless the 3D network predicts
    another class with a higher confidence (max probability) than every 2D network. With a single
    2D network (one annotated orientation) the agreement condition always holds.

    Returns:
        (the 2D networks' class, mask of trusted voxels)
    """
    if not probs_2d:
        raise ValueError("need at least one 2D prediction")
    conf_2d, label_2d = zip(*(p.max(dim=1) for p in probs_2d), strict=True)
    conf_3d, label_3d = probs_3d.max(dim=1)
    agree = torch.ones_like(label_3d, dtype=torch.bool)
    for other in label_2d[1:]:
        agree &= other == label_2d[0]
    more_confident_3d = torch.ones_like(agree)
    for conf in conf_2d:
        more_confident_3d &= conf_3d > conf
    overruled = (label_3d != label_2d[0]) & more_confident_3d
    return label_2d[0], agree & ~overruled


def confidence_threshold_labels(probs_3d: torch.Tensor, labelled_accuracy: float, hard: float = 0.9,
                                soft: float = 0.7, quality_bar: float = 0.98) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo labels for the 2D networks from the 3D network ("hard-soft confidence threshold").

    Voxels where the 3D network's confidence exceeds ``hard``; relaxed to ``soft`` while its
    accuracy on the batch's annotated voxels exceeds ``quality_bar``.

    Returns:
        (the 3D network's class, mask of trusted voxels)
    """
    if not 0 <= soft <= hard <= 1:
        raise ValueError(f"need 0 <= soft ({soft}) <= hard ({hard}) <= 1")
    conf, label = probs_3d.max(dim=1)
    threshold = soft if labelled_accuracy > quality_bar else hard
    return label, conf > threshold


def labelled_accuracy(probs: torch.Tensor, target: torch.Tensor, annotated: torch.Tensor) -> float:
    """Share of annotated voxels (``annotated``, ``(B, *spatial)`` bool) where argmax equals ``target``.
    NaN-free: 0.0 when nothing is annotated."""
    n = int(annotated.sum())
    if n == 0:
        return 0.0
    return float((probs.argmax(dim=1)[annotated] == target[annotated]).sum()) / n
