"""Pseudo-label selection rules of 2D/3D cross-teaching (Cai et al., "3D Medical Image
Segmentation with Sparse Annotation via Cross-Teaching between 3D and 2D Networks", MICCAI 2023).

Inputs are softmax probabilities ``(B, C, *spatial)`` (BCDHW) of the 3D network and of the 2D
networks (their slice outputs stacked back into the 3D patch). Each rule returns a label map
``(B, *spatial)`` and a boolean mask of the voxels it trusts; no gradient flows through either.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _check_probs(probs: torch.Tensor, name: str) -> None:
    if probs.ndim < 3 or probs.shape[1] < 2:
        raise ValueError(f"{name} {tuple(probs.shape)} must be (B, C, *spatial) class probabilities with C >= 2")


def consistent_label_fusion(
    probs_3d: torch.Tensor, probs_2d: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo labels for the 3D network from the 2D networks (the paper's "consistent label fusion").

    A voxel is used when all 2D networks predict the same class, unless the 3D network predicts
    another class with a higher confidence (max probability) than every 2D network. With a single
    2D network (one annotated orientation) the agreement condition always holds.

    Args:
        probs_3d: ``(B, C, *spatial)`` the 3D network's probabilities.
        probs_2d: one or more tensors of the same shape, the 2D networks' probabilities.

    Returns:
        (the 2D networks' class ``(B, *spatial)`` long, mask of trusted voxels ``(B, *spatial)`` bool)

    Raises:
        ValueError: no 2D prediction, or a shape other than ``probs_3d``'s.
    """
    if not probs_2d:
        raise ValueError("need at least one 2D prediction")
    _check_probs(probs_3d, "probs_3d")
    for i, p in enumerate(probs_2d):
        if p.shape != probs_3d.shape:
            raise ValueError(f"probs_2d[{i}] {tuple(p.shape)} does not match probs_3d {tuple(probs_3d.shape)}")
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
    """Pseudo labels for the 2D networks from the 3D network (the paper's "hard-soft confidence
    threshold").

    Args:
        probs_3d: ``(B, C, *spatial)`` the 3D network's probabilities.
        labelled_accuracy: the 3D network's accuracy on the batch's annotated voxels
            (:func:`labelled_accuracy`), in [0, 1].
        hard: voxels whose confidence (max probability) exceeds this are trusted (default 0.9).
        soft: the relaxed threshold used while ``labelled_accuracy`` exceeds ``quality_bar`` (0.7).
        quality_bar: the accuracy above which ``soft`` applies (default 0.98).

    Returns:
        (the 3D network's class ``(B, *spatial)`` long, mask of trusted voxels ``(B, *spatial)`` bool)

    Raises:
        ValueError: not ``0 <= soft <= hard <= 1``; ``labelled_accuracy`` or ``quality_bar``
            outside [0, 1]; ``probs_3d`` not ``(B, C, *spatial)``.
    """
    if not 0 <= soft <= hard <= 1:
        raise ValueError(f"need 0 <= soft ({soft}) <= hard ({hard}) <= 1")
    for name, value in (("labelled_accuracy", labelled_accuracy), ("quality_bar", quality_bar)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must lie in [0, 1], got {value}")
    _check_probs(probs_3d, "probs_3d")
    conf, label = probs_3d.max(dim=1)
    threshold = soft if labelled_accuracy > quality_bar else hard
    return label, conf > threshold


def labelled_accuracy(probs: torch.Tensor, target: torch.Tensor, annotated: torch.Tensor) -> float:
    """Share of annotated voxels where the argmax of ``probs`` equals ``target``.

    Args:
        probs: ``(B, C, *spatial)`` probabilities (or logits: only the argmax is used).
        target: ``(B, *spatial)`` class indices.
        annotated: ``(B, *spatial)`` bool, the voxels a person labelled.

    Returns:
        a float in [0, 1]; 0.0 when nothing is annotated (never NaN).

    Raises:
        ValueError: shapes that do not match as above, or ``annotated`` not bool.
    """
    if probs.ndim < 3 or target.shape != probs.shape[:1] + probs.shape[2:] or annotated.shape != target.shape:
        raise ValueError(f"probs {tuple(probs.shape)}, target {tuple(target.shape)} and annotated "
                         f"{tuple(annotated.shape)} do not match (B, C, *spatial) / (B, *spatial)")
    if annotated.dtype != torch.bool:
        raise ValueError(f"annotated must be a bool tensor, got {annotated.dtype}")
    n = int(annotated.sum())
    if n == 0:
        return 0.0
    return float((probs.argmax(dim=1)[annotated] == target[annotated]).sum()) / n
