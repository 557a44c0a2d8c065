"""Self-correction of noisy foreground labels (clicks grown by a geodesic expansion).

A geodesic expansion of clicks gets its background right (outside the box the outside clicks
span) but claims background as foreground: on hippocampus 46 % of the voxels it labels anterior
are background (benchmarks/RESULTS.md). :func:`reject_foreground` trusts those grown foreground
labels less than the background ones: where the network, regularised by the CRF and by what it
learnt from every other case, is confident that a voxel labelled foreground is background, the
label is dropped (set to ``ignore``) for this step instead of pulling the network back. It is
the small-loss idea of learning with noisy labels (co-teaching) restricted to the one direction
in which these labels are wrong. Plain torch, no nnU-Net.
"""

from __future__ import annotations

import torch


def reject_foreground(target: torch.Tensor, logits: torch.Tensor, ignore_label: int,
                      threshold: float = 0.5) -> tuple[torch.Tensor, int]:
    """Labels with foreground voxels the network calls background set to ``ignore_label``.

    Args:
        target: ``(B, 1, *spatial)`` or ``(B, *spatial)`` labels (nnU-Net's float or integer).
        logits: ``(B, C, *spatial)`` network output at the same resolution (not changed; no gradient).
        ignore_label: nnU-Net's ignore label (the value for "not annotated").
        threshold: a foreground-labelled voxel is dropped where the predicted background
            probability is at least this.

    Returns:
        (new target of ``target``'s shape and dtype, number of voxels dropped).
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    labels = target[:, 0] if target.ndim == logits.ndim else target
    if labels.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target {tuple(target.shape)} does not match logits {tuple(logits.shape)}")
    with torch.no_grad():
        background = logits.detach().float().softmax(1)[:, 0]
        drop = (labels > 0) & (labels != ignore_label) & (background >= threshold)
    if not drop.any():
        return target, 0
    cleaned = labels.masked_fill(drop, ignore_label)
    return (cleaned.unsqueeze(1) if target.ndim == logits.ndim else cleaned), int(drop.sum())
