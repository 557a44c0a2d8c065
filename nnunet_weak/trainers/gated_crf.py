"""``nnUNetTrainerGatedCRF``: stock nnU-Net's partial loss plus a gated CRF loss, for any partial labels.

Partial labels (scribbles, expanded clicks, a viewer's partial label maps) leave most voxels
``ignore``; nnU-Net's partial CE + Dice learns only from the labelled ones, and nothing pulls the
prediction's boundary onto the image's edges between them. The gated CRF loss (Obukhov et al.,
"Gated CRF Loss for Weakly Supervised Semantic Image Segmentation", 2019; in 3D as PA-Seg uses it:
Zhai, Wang et al., IEEE TMI 2023) does: for every voxel and its neighbours in a window, it charges
for assigning them different classes, weighted by a Gaussian of their distance (mm) and intensity
difference, so labels spread between similar neighbours and stop at edges. It sees the patch's
first channel rescaled to [0, 1] (its 1st-99th percentile), so ``crf_sigma_i`` means the same for
every scanner, and the network's full-resolution softmax; ``losses/crf.py`` computes it in O(C V)
memory, as the mean of the three orthogonal views (11 x 11 windows). Optionally the
variance-minimisation loss (``variance_weight``; PA-Seg's) adds a Mumford-Shah-like pull towards
regions of uniform intensity. Both are ramped in by ``exp(-5 (1 - t / r)^2)`` over the first
``rampup_fraction`` r of the run, so the supervised loss shapes the network first.

Defaults follow the gated CRF's scribble setting, which PA-Seg's released code uses too: weight
0.1 on the mean of the views, sigma_xy 6 (mm here, pixels there), sigma_I 0.1, no variance loss.
At weight 1 the CRF's gradient was 20-34x the supervised one at initialisation on hippocampus
clicks and pushed towards a constant labelling (``benchmarks/loss_balance.py crf``; see
``nnunet_weak.trainers.point_seg``).

Settings (class attributes): ``crf_weight``, ``variance_weight``, ``rampup_fraction``,
``crf_window``, ``crf_sigma_xy``, ``crf_sigma_i``, ``crf_merge_foreground``. Subclasses change the
labels the supervised loss sees through :meth:`supervised_target` (PA-Seg's stage 1 does).
"""

from __future__ import annotations

import numpy as np
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.losses import sigmoid_rampup
from nnunet_weak.losses.crf import MultiViewGatedCRFLoss, merge_foreground, variance_loss
from nnunet_weak.losses.intensity import unit_range
from nnunet_weak.networks import highest_resolution
from nnunet_weak.trainers.schedule import ScheduleFromEnvironment
from nnunet_weak.trainers.training_step import TrainingStepMixin, require_3d_configuration


class nnUNetTrainerGatedCRF(TrainingStepMixin, ScheduleFromEnvironment, nnUNetTrainer):
    crf_weight = 0.1
    variance_weight = 0.0
    rampup_fraction = 0.1
    crf_window = 11
    crf_sigma_xy = 6.0
    crf_sigma_i = 0.1
    crf_merge_foreground = False
    log_name = "GatedCRF"
    logged_names: dict[str, str] = {}  # what supervised_target logs -> how the epoch's log line names it

    def initialize(self):
        require_3d_configuration(self, "its CRF and variance losses are 3D")
        super().initialize()
        self.crf = MultiViewGatedCRFLoss(self.crf_window, self.crf_sigma_xy, self.crf_sigma_i,
                                         spacing=self.configuration_manager.spacing)

    def supervised_target(self, output, target) -> tuple:
        """(labels the partial CE + Dice sees, extra values to log); the batch's own by default."""
        return target, {}

    def train_step(self, batch: dict) -> dict:
        data, target, _, _ = self.unpack_batch(batch)
        weight = sigmoid_rampup(self.training_progress() / self.rampup_fraction)
        self.zero_grad()
        with self.autocast():
            output = self.network(data)
            target, logged = self.supervised_target(output, target)
            loss = self.loss(output, target)
            probs = highest_resolution(output).float().softmax(1)
            image = unit_range(data)
            crf = self.crf(merge_foreground(probs) if self.crf_merge_foreground else probs, image)
            regulariser = self.crf_weight * crf
            if self.variance_weight:
                variance = variance_loss(probs, image)
                regulariser = regulariser + self.variance_weight * variance
                logged["variance"] = variance.item()
            loss = loss + weight * regulariser
        self.backward_and_step(loss)
        return {"loss": loss.detach().cpu().numpy(), "crf": crf.item(), "weight": weight, **logged}

    def on_train_epoch_end(self, train_outputs: list[dict]):
        def mean(key):
            return np.mean([o[key] for o in train_outputs])
        parts = [f"CRF {mean('crf'):.4f}"] + ([f"variance {mean('variance'):.4f}"] if "variance" in train_outputs[0]
                                              else [])
        parts.append(f"weight {train_outputs[-1]['weight']:.3f}")
        parts += [f"{self.logged_names.get(key, key)} {mean(key):.3f}" for key in train_outputs[0]
                  if key not in ("loss", "crf", "variance", "weight")]
        self.print_to_log_file(f"{self.log_name}: {', '.join(parts)}")
        super().on_train_epoch_end(train_outputs)
