"""``nnUNetTrainerPointSeg``: PA-Seg stage 1 on clicks expanded into partial labels
(:class:`~nnunet_weak.trainers.gated_crf.nnUNetTrainerGatedCRF` with PA-Seg's settings).

Zhai, Wang et al., "PA-Seg: Learning from Point Annotations for 3D Medical Image Segmentation
using Contextual Regularization and Cross Knowledge Distillation", IEEE TMI 2023 (code:
HiLab-git/PA-Seg). Train on a dataset made by ``nnunet-weak points`` + ``expand-points``:
nnU-Net's partial CE + Dice (ignore label, deep supervision) on the expanded labels, plus the
multi-view gated CRF loss (11 x 11 window, sigma_xy 6 mm, sigma_I 0.1, mean of the three views)
and the variance-minimisation loss on the full-resolution prediction, both ramped by
``exp(-5 (1 - t / r)^2)`` over the first ``rampup_fraction`` r of the run. The regularisers see
the patch's first channel rescaled to [0, 1] (its 1st-99th percentile), so sigma_I means the
same for every scanner; the CRF measures distances in mm (PA-Seg: pixels).

Weights follow PA-Seg's released code (``train_gatedcrfloss3d22d_multiview_varianceloss.py``:
CRF 0.1 on the mean of the views, variance 0.1, ramp-up over the first 30 of 300 epochs), not
the paper's CRF weight 1 on the views' sum. Measured on hippocampus clicks with nnU-Net's CE +
Dice (``benchmarks/loss_balance.py crf``): at weight 1 summed over views the CRF gradient was
20-34x the supervised one at initialisation and 4-10x for a trained network; it pushed
towards a constant labelling and stage 1 learnt far slower than the stock trainer on the same
labels (validation pseudo Dice at most 0.34 / 0.00 in the first 400 iterations, against
0.89 / 0.78 for the stock trainer).

Settings (class attributes): ``crf_weight``, ``variance_weight``, ``rampup_fraction``,
``crf_window``, ``crf_sigma_xy``, ``crf_sigma_i``, ``crf_merge_foreground``; ``reject_threshold``, ``reject_max_share``,
``reject_min_agreement``, ``reject_from`` and ``reject_ramp`` (off in PA-Seg's trainer; see
:func:`nnunet_weak.losses.label_noise.reject_foreground`).

Two experimental variants that did not beat it, ``nnUNetTrainerPointSegSelfCorrect`` (drops
expanded foreground labels the network confidently calls background) and
``nnUNetTrainerPointSegMergedCRF`` (CRF on background versus merged foreground), are in
:mod:`nnunet_weak.trainers.experimental`.
"""

from __future__ import annotations

from nnunet_weak.losses.label_noise import reject_foreground
from nnunet_weak.networks import highest_resolution
from nnunet_weak.trainers.gated_crf import nnUNetTrainerGatedCRF


class nnUNetTrainerPointSeg(nnUNetTrainerGatedCRF):
    """PA-Seg stage 1: :class:`nnUNetTrainerGatedCRF` with PA-Seg's variance loss and the opt-in
    rejection of noisy expanded foreground."""

    variance_weight = 0.1
    reject_threshold: float | None = None
    reject_max_share = 0.3
    reject_min_agreement = 0.5
    reject_from = 0.1
    reject_ramp = 0.3
    log_name = "PointSeg"
    logged_names = {"rejected": "foreground labels rejected"}

    def supervised_target(self, output, target):
        target, rejected = self.reject_noisy_foreground(output, target)
        return target, {"rejected": rejected}

    def reject_noisy_foreground(self, output, target):
        """(target with confidently rejected foreground set to ignore, share of foreground labels dropped)."""
        progress = self.training_progress()
        if self.reject_threshold is None or progress < self.reject_from:
            return target, 0.0
        share = self.reject_max_share * min(1.0, (progress - self.reject_from) / self.reject_ramp)
        ignore = self.label_manager.ignore_label
        full = highest_resolution(target)
        foreground = int(((full > 0) & (full != ignore)).sum())
        scales = isinstance(output, (list, tuple))  # deep supervision: one target per output scale
        pairs = [reject_foreground(t, o, ignore, self.reject_threshold, share, self.reject_min_agreement)
                 for t, o in zip(target if scales else [target], output if scales else [output], strict=True)]
        cleaned = [p[0] for p in pairs]
        return (cleaned if scales else cleaned[0]), pairs[0][1] / max(foreground, 1)
