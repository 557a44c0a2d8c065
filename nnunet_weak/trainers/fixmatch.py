"""``nnUNetTrainerFixMatch``: weak-to-strong consistency with confidence filtering on unlabelled patches.

UNMEASURED: built and tested for issue 28; whether it beats nnU-Net trained on the labelled cases
alone is what that issue's fixed protocol (documentation/few_labelled_cases.md) will tell.

FixMatch (Sohn et al., NeurIPS 2020) per voxel, as UniMatch (Yang et al., CVPR 2023) and
nnFilterMatch (arXiv 2509.19746, inside nnU-Net v2) do for segmentation. Every batch holds
labelled and unlabelled patches (:class:`~nnunet_weak.trainers.semi_supervised.SemiSupervisedMixin`).

- Labelled patches: nnU-Net's CE + Dice with deep supervision, exactly as the other
  semi-supervised trainers (``supervised_loss``).
- Unlabelled patches: the patch as nnU-Net's augmentation delivers it is the *weak view*; the
  teacher's softmax on it gives hard pseudo labels and the mask of voxels whose largest
  probability reaches ``confidence_threshold``. The *strong view* is the same patch with random
  intensity perturbations and CutMix between the unlabelled patches
  (:mod:`nnunet_weak.losses.perturbations`); CutMix moves the pseudo labels and the mask with
  its boxes, and nothing moves a voxel, so the labels need no resampling. The student's
  full-resolution output on the strong view learns the confident pseudo labels by
  cross-entropy normalised over all unlabelled voxels (FixMatch's, :mod:`nnunet_weak.losses.consistency`).
  The lower-resolution deep-supervision outputs get no consistency term (as our other
  pseudo-label trainers; the supervised loss still supervises them).
- The consistency term is weighted ``unsupervised_weight * exp(-5 (1 - t / r)^2)``, t the share
  of the run done, r = ``rampup_fraction``.

The teacher (``teacher``): ``"self"``, the student itself without gradient (FixMatch, UniMatch,
nnFilterMatch; the default), or ``"ema"``, an exponential moving average of the student (mean
teacher, decay ``ema_decay``; :class:`nnUNetTrainerFixMatchEMATeacher`), kept in every checkpoint
as a frozen network so that ``--c`` resumes it exactly. Prediction, validation and
``checkpoint_best`` use the student (``self.network``, nnU-Net's own architecture), so
``nnUNetv2_predict`` works unchanged.

Where we differ from the references: our strong intensity perturbations are grey-level versions
of UniMatch's colour jitter (see :mod:`nnunet_weak.losses.perturbations`); no random spatial
strong augmentation with relabelling (nnFilterMatch rotates and flips the strong view and its
pseudo labels); nnFilterMatch keeps every voxel and drops whole unlabelled cases by entropy every
100 epochs, we filter voxels by confidence as FixMatch and UniMatch do; neither FixMatch nor
UniMatch ramps the term in (nnFilterMatch switches it on after 20 of 1000 epochs), we ramp it over
the first tenth of the run so that early, mostly wrong confident voxels weigh little.

Settings (class attributes; subclass to change them): ``teacher`` "self", ``ema_decay`` 0.99,
``confidence_threshold`` 0.95, ``unsupervised_weight`` 1.0, ``rampup_fraction`` 0.1,
``jitter_probability`` 0.8, ``blur_probability`` 0.5, ``cutmix_probability`` 0.5,
``unlabelled_fraction`` 0.5. With the plans' batch of 2 a batch holds one unlabelled patch and
CutMix has no partner; ``nnUNet_weak_unlabelled_on_top=1`` gives 2 + 2.
"""

from __future__ import annotations

import numpy as np
import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.losses import sigmoid_rampup
from nnunet_weak.losses.consistency import ConfidenceFilteredCELoss
from nnunet_weak.losses.perturbations import cutmix, strong_intensity
from nnunet_weak.networks import highest_resolution
from nnunet_weak.trainers.extra_networks import ExtraNetworksMixin
from nnunet_weak.trainers.schedule import ScheduleFromEnvironment
from nnunet_weak.trainers.semi_supervised import SemiSupervisedMixin

TEACHERS = ("self", "ema")


class nnUNetTrainerFixMatch(SemiSupervisedMixin, ExtraNetworksMixin, ScheduleFromEnvironment, nnUNetTrainer):
    """FixMatch-style weak/strong consistency on unlabelled patches (UNMEASURED, issue 28)."""

    teacher = "self"
    ema_decay = 0.99
    confidence_threshold = 0.95
    unsupervised_weight = 1.0
    rampup_fraction = 0.1
    jitter_probability = 0.8
    blur_probability = 0.5
    cutmix_probability = 0.5

    def initialize(self):
        if self.teacher not in TEACHERS:
            raise ValueError(f"{type(self).__name__}.teacher must be one of {TEACHERS}, got {self.teacher!r}")
        if not 0 < self.rampup_fraction <= 1:
            raise ValueError(f"{type(self).__name__}.rampup_fraction must be in (0, 1], got {self.rampup_fraction}")
        super().initialize()
        self.consistency_loss = ConfidenceFilteredCELoss(self.confidence_threshold)
        if self.teacher == "ema":
            self.freeze_copy("teacher")

    def _teacher_logits(self, weak: torch.Tensor) -> torch.Tensor:
        network = self.frozen_networks["teacher"] if self.teacher == "ema" else self.network
        with torch.no_grad():
            return highest_resolution(network(weak))

    def train_step(self, batch: dict) -> dict:
        data, target, _, annotated = self.unpack_batch(batch)
        labelled = annotated.flatten(1).all(1)  # labelled cases are dense; unlabelled all ignore
        unlabelled = ~labelled
        has_unlabelled = bool(unlabelled.any())
        weight = sigmoid_rampup(self.training_progress() / self.rampup_fraction, self.unsupervised_weight)
        self.zero_grad()
        with self.autocast():
            inputs, consistency, kept = data, torch.zeros(()), 0.0
            if has_unlabelled:
                weak = data[unlabelled]
                pseudo, confident = self.consistency_loss.pseudo_labels(self._teacher_logits(weak))
                strong = strong_intensity(weak, self.jitter_probability, blur_probability=self.blur_probability)
                strong, pseudo, confident = cutmix(strong, pseudo, confident, probability=self.cutmix_probability)
                inputs = data.clone()
                inputs[unlabelled] = strong
            output = self.network(inputs)
            loss = self.supervised_loss(output, target, labelled)
            if has_unlabelled:
                consistency, kept = self.consistency_loss(highest_resolution(output)[unlabelled], pseudo, confident)
                loss = loss + weight * consistency
        self.backward_and_step(loss)
        if self.teacher == "ema":
            self.update_average("teacher", self.ema_decay)
        return {"loss": loss.detach().cpu().numpy(), "consistency": consistency.item(), "kept": kept,
                "weight": weight}

    def on_train_epoch_end(self, train_outputs: list[dict]):
        def mean(key):
            return np.mean([o[key] for o in train_outputs])
        self.print_to_log_file(f"FixMatch: consistency {mean('consistency'):.4f}, confident voxels {mean('kept'):.3f} "
                               f"of the unlabelled, weight {train_outputs[-1]['weight']:.3f}")
        super().on_train_epoch_end(train_outputs)


class nnUNetTrainerFixMatchEMATeacher(nnUNetTrainerFixMatch):
    """FixMatch-style consistency whose pseudo labels come from a mean teacher (EMA 0.99; UNMEASURED)."""

    teacher = "ema"
