"""Signed distance maps to class probabilities: the dual-task networks' second output as a segmentation.

DTML (Zhang & Zhang, PRCV 2021) after DTC (Luo et al., AAAI 2021): a signed distance map phi (tanh
output, negative inside) maps to a foreground probability by ``sigmoid(-k phi)`` with k = 1500.
For several classes there is one distance map per foreground class. These transforms turn a
network output into probabilities; the dual-task trainers feed them to their losses and the
prediction ensembles (:mod:`nnunet_weak.networks.dual_task_ensemble`) return them as logits.
"""

from __future__ import annotations

import torch


def sdf_to_probability(phi: torch.Tensor, k: float = 1500.0) -> torch.Tensor:
    """Foreground probability ``sigmoid(-k * phi)`` of a signed distance map ``phi`` (any shape)."""
    return torch.sigmoid(-k * phi)


def ensemble_log_probabilities(seg_logits: torch.Tensor, phi: torch.Tensor, k: float = 1500.0,
                               eps: float = 1e-8) -> torch.Tensor:
    """Log of the mean of the two tasks' class distributions, usable as logits by a softmax.

    Args:
        seg_logits: ``(B, C, *spatial)`` segmentation logits, background first.
        phi: ``(B, C - 1, *spatial)`` one signed distance map per foreground class (after tanh).
        k: sharpness of ``sigmoid(-k phi)``.
        eps: floor before the logarithm.

    The distance maps give foreground probabilities ``q_c = sigmoid(-k phi_c)`` and background
    ``prod_c (1 - q_c)``, normalised to sum to one (several foreground maps can overlap); the
    result is ``log((softmax(seg) + q) / 2)``, shape ``(B, C, *spatial)``.

    Raises:
        ValueError: when ``phi`` does not have one channel fewer than ``seg_logits`` or the shapes differ otherwise.
    """
    if phi.shape[0] != seg_logits.shape[0] or phi.shape[1] != seg_logits.shape[1] - 1 or \
            phi.shape[2:] != seg_logits.shape[2:]:
        raise ValueError(f"phi must be (B, C - 1, *spatial) for seg_logits (B, C, *spatial); got phi "
                         f"{tuple(phi.shape)} and seg_logits {tuple(seg_logits.shape)}")
    q = sdf_to_probability(phi.float(), k)
    q = torch.cat([(1 - q).prod(1, keepdim=True), q], 1)
    q = q / q.sum(1, keepdim=True).clamp_min(eps)
    return ((seg_logits.float().softmax(1) + q) / 2).clamp_min(eps).log()
