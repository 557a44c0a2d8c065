"""``nnUNetTrainerPointSeg``: PA-Seg stage 1 on clicks expanded into partial labels.

Zhai, Wang et al., "PA-Seg: Learning from Point Annotations for 3D Medical Image Segmentation
using Contextual Regularization and Cross Knowledge Distillation", IEEE TMI 2023 (code:
HiLab-git/PA-Seg). Train on a dataset made by ``nnunet-weak points`` + ``expand-points``:
nnU-Net's partial CE + Dice (ignore label, deep supervision) on the expanded labels, plus the
multi-view gated CRF loss (weight 1, 11 x 11 window, sigma_xy 6 mm, sigma_I 0.1) and the
variance-minimisation loss (weight 0.1) on the full-resolution prediction, both ramped by
``exp(-5 (1 - t)^2)`` over the run. The regularisers see the patch's first channel rescaled to
[0, 1] (its 1st-99th percentile), so sigma_I means the same for every scanner; the CRF measures
distances in mm (PA-Seg: pixels).

Settings (class attributes): ``crf_weight``, ``variance_weight``, ``crf_window``, ``crf_sigma_xy``,
``crf_sigma_i``.
"""

from __future__ import annotations

import numpy as np
import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.losses import sigmoid_rampup
from nnunet_weak.losses.crf import MultiViewGatedCRFLoss, variance_loss
from nnunet_weak.networks import highest_resolution
from nnunet_weak.trainers.multi_network import MultiNetworkMixin
from nnunet_weak.trainers.schedule import ScheduleFromEnvironment


def unit_range(data: torch.Tensor) -> torch.Tensor:
    """First channel of ``(B, M, *spatial)`` rescaled per sample to [0, 1] by its 1st-99th percentile."""
    x = data[:, :1].float()
    flat = x.flatten(1)
    low = torch.quantile(flat, 0.01, dim=1).view(-1, *[1] * (x.ndim - 1))
    high = torch.quantile(flat, 0.99, dim=1).view(-1, *[1] * (x.ndim - 1))
    return ((x - low) / (high - low).clamp_min(1e-6)).clamp(0, 1)


class nnUNetTrainerPointSeg(MultiNetworkMixin, ScheduleFromEnvironment, nnUNetTrainer):
    crf_weight = 1.0
    variance_weight = 0.1
    crf_window = 11
    crf_sigma_xy = 6.0
    crf_sigma_i = 0.1

    def initialize(self):
        super().initialize()
        self.crf = MultiViewGatedCRFLoss(self.crf_window, self.crf_sigma_xy, self.crf_sigma_i,
                                         spacing=self.configuration_manager.spacing)

    def train_step(self, batch: dict) -> dict:
        data, target, _, _ = self.unpack_batch(batch)
        weight = sigmoid_rampup(self.training_progress())
        self.zero_grad()
        with self.autocast():
            output = self.network(data)
            loss = self.loss(output, target)
            probs = highest_resolution(output).float().softmax(1)
            image = unit_range(data)
            crf = self.crf(probs, image)
            variance = variance_loss(probs, image)
            loss = loss + weight * (self.crf_weight * crf + self.variance_weight * variance)
        self.backward_and_step(loss)
        self.iterations_this_epoch += 1
        return {"loss": loss.detach().cpu().numpy(), "crf": crf.item(), "variance": variance.item(),
                "weight": weight}

    def on_train_epoch_end(self, train_outputs: list[dict]):
        self.print_to_log_file(
            f"PointSeg: CRF {np.mean([o['crf'] for o in train_outputs]):.4f}, variance "
            f"{np.mean([o['variance'] for o in train_outputs]):.4f}, weight {train_outputs[-1]['weight']:.3f}")
        super().on_train_epoch_end(train_outputs)
