"""FixMatch's confidence-filtered consistency loss, per voxel.

FixMatch (Sohn et al., NeurIPS 2020, eq. 4): ``l_u = 1 / (mu B) sum_b 1(max q_b >= tau) H(q^_b, p(y | A(u_b)))``,
with ``q_b`` the class distribution predicted on the weak view (no gradient), ``q^_b`` its
argmax (a hard pseudo label), ``A(u_b)`` the strong view and tau = 0.95. UniMatch (Yang et al.,
CVPR 2023) applies the same rule per pixel of a segmentation (threshold 0.95 on ACDC);
nnFilterMatch (arXiv 2509.19746) trains nnU-Net v2 on argmax pseudo labels of the weak view,
filtering whole unlabelled cases by entropy rather than voxels by confidence.

Normalisation: FixMatch's. The cross-entropy is summed over the confident voxels and divided by
the number of *all* unlabelled voxels, so a voxel below the threshold counts as zero and the
loss shrinks while few voxels are confident (instead of being a mean over the confident ones,
which would give a handful of confident voxels the weight of a whole batch).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class ConfidenceFilteredCELoss(nn.Module):
    """Cross-entropy of a strong view against confident hard pseudo labels of the weak view.

    :meth:`pseudo_labels` turns the weak view's logits into pseudo labels and the mask of
    confident voxels (no gradient); the caller may move both with the strong view's images
    (CutMix, :func:`nnunet_weak.losses.perturbations.cutmix`); :meth:`forward` scores the strong
    view against them.

    Args:
        threshold: a voxel is confident where its largest softmax probability is >= ``threshold``
            (FixMatch's tau, default 0.95).

    Raises:
        ValueError: ``threshold`` outside [0, 1].
    """

    def __init__(self, threshold: float = 0.95):
        super().__init__()
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = float(threshold)

    @torch.no_grad()
    def pseudo_labels(self, weak_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(labels, confident)`` from ``(B, C, *spatial)`` logits: the argmax ``(B, *spatial)``
        long and ``max softmax >= threshold`` ``(B, *spatial)`` bool, both without gradient."""
        if weak_logits.ndim < 3:
            raise ValueError(f"weak_logits must be (B, C, *spatial), got shape {tuple(weak_logits.shape)}")
        confidence, labels = weak_logits.detach().float().softmax(1).max(1)
        return labels, confidence >= self.threshold

    def forward(self, strong_logits: torch.Tensor, labels: torch.Tensor,
                confident: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Score the strong view.

        Args:
            strong_logits: ``(B, C, *spatial)`` logits of the strong view (BCHW or BCDHW).
            labels: ``(B, *spatial)`` integer pseudo labels in [0, C).
            confident: ``(B, *spatial)`` bool, the voxels whose pseudo label counts.

        Returns:
            ``(loss, kept)``: the scalar loss (cross-entropy summed over confident voxels, divided
            by the number of all voxels; 0 with the graph kept when none is confident) and the
            share of voxels kept, a float in [0, 1] for logging.

        Raises:
            ValueError: shapes that do not match as above, or a ``confident`` that is not bool.
        """
        if strong_logits.ndim < 3 or labels.shape != strong_logits.shape[:1] + strong_logits.shape[2:] \
                or confident.shape != labels.shape:
            raise ValueError(f"strong_logits {tuple(strong_logits.shape)} must be (B, C, *spatial), labels "
                             f"{tuple(labels.shape)} and confident {tuple(confident.shape)} (B, *spatial)")
        if confident.dtype != torch.bool:
            raise ValueError(f"confident must be a bool tensor, got {confident.dtype}")
        ce = F.cross_entropy(strong_logits.float(), labels.long(), reduction="none")
        loss = (ce * confident).sum() / confident.numel()
        return loss, confident.float().mean().item()
