"""``nnUNetTrainerCrossTeach``: 2D/3D cross-teaching on sparse slices.

Cai et al., "3D Medical Image Segmentation with Sparse Annotation via Cross-Teaching between 3D
and 2D Networks", MICCAI 2023 (code: HengCai-NJU/3D2DCT). The 3D network is nnU-Net's network
for the configuration being trained (what ``nnUNetv2_predict`` rebuilds); one 2D network per
annotated orientation learns from the slices of the same augmented 3D patch. Every network gets
nnU-Net's partial CE + Dice (ignore label, deep supervision) on the annotated voxels; on the
unannotated ones the 3D network learns from the 2D networks' "consistent label fusion" and the
2D networks from the 3D network's "hard-soft confidence threshold" pseudo labels, weighted by
``pseudo_weight * exp(-5 (1 - t)^2)`` over the run (t = share of iterations done).

Where we differ from the authors' code, following the paper or nnU-Net: the pseudo-label term is
added to nnU-Net's loss rather than mixed into one weighted loss (same optimum for 0/1 weights);
it uses the highest-resolution output only; the ramp runs over the whole schedule rather than a
fixed 40 x 150 iterations; all networks use the trainer's ``configure_optimizers`` (nnU-Net's SGD and
poly schedule) instead of Adam.

Settings (class attributes; subclass to change them, as nnU-Net's own variants do):
``pseudo_weight`` (lambda, 0.1), ``hard_threshold`` (0.9), ``soft_threshold`` (0.7),
``quality_bar`` (0.98), ``train_slice_fraction`` (0.5: each 2D network trains on half the slices
of a patch per iteration, mostly-annotated slices first; the rest are predicted without gradient
for the fusion. The paper trains on all slices (1.0, ``nnUNetTrainerCrossTeach_AllSlices`` in
:mod:`nnunet_weak.trainers.experimental`); on one CPU thread 0.5 measured 2.15x the
stock trainer's time per iteration against 2.89x for 1.0, see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import numpy as np
import torch
from nnunetv2.training.loss.compound_losses import DC_and_CE_loss
from nnunetv2.training.loss.deep_supervision import DeepSupervisionWrapper
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.losses import (
    MaskedCEDiceLoss,
    confidence_threshold_labels,
    consistent_label_fusion,
    deep_supervision_weights,
    labelled_accuracy,
    sigmoid_rampup,
)
from nnunet_weak.networks import highest_resolution
from nnunet_weak.networks.from_plans import network_from_architecture
from nnunet_weak.networks.slice_network import choose_2d_architecture, deep_supervision_scales
from nnunet_weak.networks.slicing import from_slices, slice_targets, to_slices, training_slices
from nnunet_weak.nnunet_adapter import case_segmentation, open_preprocessed
from nnunet_weak.trainers.annotation_axes import axes_from_label_maps, axes_from_sidecar
from nnunet_weak.trainers.extra_networks import ExtraNetworksMixin
from nnunet_weak.trainers.schedule import ScheduleFromEnvironment
from nnunet_weak.trainers.training_step import require_3d_configuration


class nnUNetTrainerCrossTeach(ExtraNetworksMixin, ScheduleFromEnvironment, nnUNetTrainer):
    pseudo_weight = 0.1
    hard_threshold = 0.9
    soft_threshold = 0.7
    quality_bar = 0.98
    train_slice_fraction = 0.5

    def initialize(self):
        require_3d_configuration(self, "its 2D networks learn from slices of 3D patches")
        super().initialize()
        if self.label_manager.has_regions or self.label_manager.ignore_label is None:
            raise RuntimeError(
                f"{self.__class__.__name__} needs a label-based dataset with an 'ignore' label (sparse slices "
                "made by 'nnunet-weak slices' or 'import-sparse'); this dataset has "
                + ("regions." if self.label_manager.has_regions else "no ignore label.")
            )
        self.slice_axes = self._find_slice_axes()
        self.slice_losses = {}
        for axis in self.slice_axes:
            architecture, reason = self._slice_architecture(axis)
            network = network_from_architecture(architecture, self.num_input_channels,
                                                self.label_manager.num_segmentation_heads,
                                                self.enable_deep_supervision)
            self.add_network(f"slices_axis{axis}", network)
            scales = deep_supervision_scales(architecture) if self.enable_deep_supervision else [[1.0, 1.0]]
            self.slice_losses[axis] = (self._partial_loss(len(scales)), scales)
            self.print_to_log_file(f"CrossTeach: 2D network for slices along patch axis {axis}: {reason}")
        self.pseudo_loss = MaskedCEDiceLoss()

    def _find_slice_axes(self) -> list[int]:
        axes = axes_from_sidecar(self.plans_manager.dataset_name, self.plans_manager.transpose_forward)
        source = "annotation.json"
        if axes is None:
            keys, _ = self.do_split()
            dataset = open_preprocessed(self.preprocessed_dataset_folder, keys)
            axes = axes_from_label_maps(lambda k: np.asarray(case_segmentation(dataset, k)), keys,
                                        self.label_manager.ignore_label)
            source = "the preprocessed label maps"
        if not axes:
            raise RuntimeError(
                f"no sparse annotated slices found in {source} of {self.plans_manager.dataset_name}. "
                f"{self.__class__.__name__} needs slices in at least one orientation; for other weak labels use "
                "nnUNetTrainerBenchmark or the trainer made for them."
            )
        self.print_to_log_file(f"CrossTeach: sparse slices along patch axes {axes} (from {source})")
        return axes

    def _slice_architecture(self, axis: int) -> tuple[dict, str]:
        patch = list(self.configuration_manager.patch_size)
        slice_shape = patch[:axis] + patch[axis + 1:]
        config_2d = None
        if "2d" in self.plans_manager.available_configurations:
            config_2d = self.plans_manager.get_configuration("2d").configuration
        return choose_2d_architecture(self.configuration_manager.configuration["architecture"],
                                      self.configuration_manager.spacing, axis, slice_shape, config_2d)

    def _partial_loss(self, n_outputs: int):
        """nnU-Net's CE + Dice with the ignore label, deep-supervised like its own network."""
        loss = DC_and_CE_loss({"batch_dice": self.configuration_manager.batch_dice, "smooth": 1e-5, "do_bg": False,
                               "ddp": self.is_ddp}, {}, weight_ce=1, weight_dice=1,
                              ignore_label=self.label_manager.ignore_label, dice_class=MemoryEfficientSoftDiceLoss)
        if not self.enable_deep_supervision:
            return loss
        return DeepSupervisionWrapper(loss, deep_supervision_weights(n_outputs, keep_lowest=self.is_ddp))

    def train_step(self, batch: dict) -> dict:
        data, target, labels, annotated = self.unpack_batch(batch)
        full_target = highest_resolution(target)  # (B, 1, *patch)
        weight = sigmoid_rampup(self.training_progress(), self.pseudo_weight)
        self.zero_grad()
        with self.autocast():
            output_3d = self.network(data)
            loss = self.loss(output_3d, target)
            logits_3d = highest_resolution(output_3d)
            trained_2d, probs_2d = [], []
            for axis in self.slice_axes:
                chosen, rest = training_slices(annotated, axis, self.train_slice_fraction)
                extra = self.extra_networks[f"slices_axis{axis}"]
                outputs = extra.network(to_slices(data.index_select(2 + axis, chosen), axis))
                slice_loss, scales = self.slice_losses[axis]
                targets = slice_targets(full_target.index_select(2 + axis, chosen), axis,
                                        scales if self.enable_deep_supervision else None)
                loss = loss + slice_loss(outputs, targets)
                logits = from_slices(highest_resolution(outputs), axis, data.shape[0])
                trained_2d.append((axis, chosen, logits))
                with torch.no_grad():  # the other slices only feed the fusion, no gradient needed
                    full = torch.empty((*logits.shape[:2], *data.shape[2:]), device=logits.device,
                                       dtype=torch.float32)
                    full.index_copy_(2 + axis, chosen, logits.detach().float())
                    if rest.numel():
                        predicted = extra.module(to_slices(data.index_select(2 + axis, rest), axis))
                        predicted = from_slices(highest_resolution(predicted), axis, data.shape[0])
                        full.index_copy_(2 + axis, rest, predicted.float())
                    probs_2d.append(full.softmax(1))
            with torch.no_grad():
                probs_3d = logits_3d.detach().float().softmax(1)
                accuracy = labelled_accuracy(probs_3d, labels, annotated)
                fused, fused_mask = consistent_label_fusion(probs_3d, probs_2d)
                teacher, teacher_mask = confidence_threshold_labels(
                    probs_3d, accuracy, self.hard_threshold, self.soft_threshold, self.quality_bar)
                fused_mask &= ~annotated
                teacher_mask &= ~annotated
            pseudo = self.pseudo_loss(logits_3d, fused, fused_mask)
            for axis, chosen, logits in trained_2d:
                pseudo = pseudo + self.pseudo_loss(logits, teacher.index_select(1 + axis, chosen),
                                                   teacher_mask.index_select(1 + axis, chosen))
            loss = loss + weight * pseudo
        self.backward_and_step(loss)
        return {"loss": loss.detach().cpu().numpy(), "pseudo_3d": fused_mask.float().mean().item(),
                "pseudo_2d": teacher_mask.float().mean().item(), "accuracy": accuracy, "weight": weight}

    def on_train_epoch_end(self, train_outputs: list[dict]):
        means = {k: float(np.mean([o[k] for o in train_outputs])) for k in ("pseudo_3d", "pseudo_2d", "accuracy")}
        self.print_to_log_file(
            f"CrossTeach: pseudo-labelled voxels 3D {means['pseudo_3d']:.3f}, 2D {means['pseudo_2d']:.3f}; "
            f"3D accuracy on annotated voxels {means['accuracy']:.3f}; weight {train_outputs[-1]['weight']:.4f}")
        super().on_train_epoch_end(train_outputs)

