"""Self-correction of noisy foreground labels (clicks grown by a geodesic expansion).

A geodesic expansion of clicks gets its background right (outside the box the outside clicks
span) but claims background as foreground: on hippocampus 46 % of the voxels it labels anterior
are background (benchmarks/RESULTS.md). :func:`reject_foreground` trusts those grown foreground
labels less than the background ones: where the network is confident that a voxel labelled
foreground is background, the label is dropped (set to ``ignore``) for this step instead of
pulling the network back. It is co-teaching's small-loss selection (Han et al., NeurIPS 2018)
restricted to the one direction in which these labels are wrong, with its forget rate: per
class, at most ``max_share`` of the voxels labelled with it are dropped (those the network
gives the highest background probability), and a class is corrected only where the network
already agrees with at least ``min_agreement`` of its labels. Without these a class the network
has not learnt yet loses its labels and is never learnt (measured: PA-Seg stage 1 learns
hippocampus's posterior class late; uncapped rejection from half-way through 1k iterations
dropped about half of all foreground labels, and rejection capped at 30 % per class still left
the posterior class unlearnt after 1k iterations: test Dice 0 for it). Plain torch, no nnU-Net.
"""

from __future__ import annotations

import torch


def reject_foreground(target: torch.Tensor, logits: torch.Tensor, ignore_label: int, threshold: float = 0.5,
                      max_share: float = 1.0, min_agreement: float = 0.0) -> tuple[torch.Tensor, int]:
    """Labels with foreground voxels the network calls background set to ``ignore_label``.

    Args:
        target: ``(B, 1, *spatial)`` or ``(B, *spatial)`` labels (nnU-Net's float or integer; BCHW[D]).
        logits: ``(B, C, *spatial)`` network output at the same resolution (not changed; no gradient).
        ignore_label: nnU-Net's ignore label (the value for "not annotated").
        threshold: a foreground-labelled voxel may be dropped where the predicted background
            probability is at least this.
        max_share: per foreground class, at most this share of the batch's voxels labelled with
            it are dropped: those with the highest background probability.
        min_agreement: a class is left as labelled unless the network gives a background
            probability below ``threshold`` to at least this share of the voxels labelled with it.

    Returns:
        (new target of ``target``'s shape and dtype, number of voxels dropped). Not a loss: the
        caller's loss then skips the dropped voxels as it skips ``ignore``.

    Raises:
        ValueError: ``threshold`` outside (0, 1]; ``max_share`` or ``min_agreement`` outside
            [0, 1]; ``ignore_label`` <= 0 (nnU-Net's ignore label is the highest label, never
            background); ``target`` and ``logits`` of different batch or spatial size.
    """
    if ignore_label <= 0:
        raise ValueError(f"ignore_label must be a positive label value (nnU-Net's highest), got {ignore_label}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    for name, value in (("max_share", max_share), ("min_agreement", min_agreement)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {value}")
    labels = target[:, 0] if target.ndim == logits.ndim else target
    if labels.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"target {tuple(target.shape)} does not match logits {tuple(logits.shape)}")
    with torch.no_grad():
        background = logits.detach().float().softmax(1)[:, 0].flatten()
        flat = labels.flatten()
        drop = torch.zeros_like(flat, dtype=torch.bool)
        for c in flat.unique().tolist():
            if c <= 0 or c == ignore_label:
                continue
            labelled = (flat == c).nonzero().squeeze(1)
            candidates = labelled[background[labelled] >= threshold]
            if labelled.numel() - candidates.numel() < min_agreement * labelled.numel():
                continue  # the network has not learnt this class yet: its veto means nothing
            allowed = int(max_share * labelled.numel())
            if candidates.numel() > allowed:
                candidates = candidates[background[candidates].topk(allowed).indices]
            drop[candidates] = True
    if not drop.any():
        return target, 0
    cleaned = labels.masked_fill(drop.view(labels.shape), ignore_label)
    return (cleaned.unsqueeze(1) if target.ndim == logits.ndim else cleaned), int(drop.sum())
