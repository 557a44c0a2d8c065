"""Knowledge distillation between two segmentation networks (PA-Seg's cross knowledge distillation)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class KnowledgeDistillationLoss(nn.Module):
    """KL(teacher || student) of the temperature-softened class distributions, times ``T^2``.

    Hinton et al., "Distilling the Knowledge in a Neural Network", 2015: the ``T^2`` factor keeps the
    gradient's scale independent of the temperature. PA-Seg (Zhai et al., IEEE TMI 2023) applies it
    between its two stage-2 networks in both directions, each the other's teacher. The teacher is
    detached: only the student learns from this term.

    Args:
        temperature: softening temperature T > 0 (PA-Seg: 4).

    Inputs: ``student_logits`` and ``teacher_logits``, both ``(B, C, *spatial)``, C >= 2 classes.
    Returns the KL divergence summed over classes, averaged over batch and voxels (a scalar), times T^2.

    Raises:
        ValueError: a temperature that is not positive, or logits of different shapes or without a class axis.
    """

    def __init__(self, temperature: float = 4.0):
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        if student_logits.shape != teacher_logits.shape or student_logits.ndim < 2:
            raise ValueError(f"student and teacher logits must both be (B, C, *spatial); got "
                             f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
        t = self.temperature
        log_student = F.log_softmax(student_logits.float() / t, dim=1)
        log_teacher = F.log_softmax(teacher_logits.detach().float() / t, dim=1)
        kl = (log_teacher.exp() * (log_teacher - log_student)).sum(1)
        return kl.mean() * t**2
