"""Semi-supervised dual-task trainers: segmentation + signed distance maps teach each other.

Zhang & Zhang, "Dual-Task Mutual Learning for Semi-Supervised Medical Image Segmentation",
PRCV 2021 (code: YichiZhang98/DTML). On the labelled patches: nnU-Net's CE + Dice (deep
supervision) for the segmentation, Dice of ``sigmoid(-k phi)`` (k = 1500) for the distance map
and, as the paper describes, the L1 regression of phi against the normalised signed distance map
of the (augmented) labels, computed on the fly (the released code computes this term but never
adds it: ``sdf_regression``, on by default). On all voxels: the mutual MSE between the two
tasks' foreground probabilities, ramped by ``consistency_weight * exp(-5 (1 - t)^2)`` over the run.
One distance map per foreground class makes it multi-class.

Settings (class attributes; subclass to change): ``sdf_k`` 1500, ``consistency_weight`` 1.0,
``sdf_regression`` True, ``unlabelled_fraction`` 0.5 (share of unlabelled cases per batch).

Prediction: ``nnUNetv2_predict -tr nnUNetTrainerDTML`` (or ``nnUNetTrainerSDFDualHead``) uses the
segmentation output, as the paper does. Beside ``checkpoint_final.pth`` and ``checkpoint_best.pth``
each trainer writes ``checkpoint_final_ensemble.pth`` / ``checkpoint_best_ensemble.pth``: the same
weights marked for a network that averages both tasks' class probabilities (the distance maps
through ``sigmoid(-k phi)``); ``nnUNetv2_predict ... -chk checkpoint_final_ensemble.pth`` predicts
with that ensemble. Model selection (``checkpoint_best``) stays nnU-Net's, on the segmentation output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.distance_maps import batch_signed_distances
from nnunet_weak.losses import (
    masked_l1_loss,
    masked_soft_dice_loss,
    mutual_consistency_loss,
    sigmoid_rampup,
)
from nnunet_weak.networks import highest_resolution
from nnunet_weak.networks.dual_task_ensemble import DualNetworkEnsemble, SDFHeadEnsemble
from nnunet_weak.networks.from_plans import network_from_architecture
from nnunet_weak.networks.sdf_head import SDFHeadUNet
from nnunet_weak.networks.signed_distance import sdf_to_probability
from nnunet_weak.nnunet_adapter import (
    GRAD_SCALER_STATE,
    NETWORK_WEIGHTS,
    OPTIMIZER_STATE,
    TRAINER_NAME,
    read_checkpoint,
)
from nnunet_weak.trainers.extra_networks import CHECKPOINT_KEY, FROZEN_KEY, ExtraNetworksMixin
from nnunet_weak.trainers.schedule import ScheduleFromEnvironment
from nnunet_weak.trainers.semi_supervised import SemiSupervisedMixin
from nnunet_weak.trainers.training_step import TrainingStepMixin


class DualTaskMixin(SemiSupervisedMixin, TrainingStepMixin, ScheduleFromEnvironment):
    """The shared training step; subclasses say where the distance map comes from (``_forward``)."""

    sdf_k = 1500.0
    consistency_weight = 1.0
    sdf_regression = True

    def _forward(self, data: torch.Tensor):
        """Return (segmentation output(s), distance-map logits (B, F, *spatial))."""
        raise NotImplementedError

    def train_step(self, batch: dict) -> dict:
        data, target, labels, annotated = self.unpack_batch(batch)
        labelled = annotated.flatten(1).all(1)  # labelled cases are dense; unlabelled all ignore
        classes, spacing = self.label_manager.foreground_labels, self.configuration_manager.spacing
        onehot = torch.stack([labels == c for c in classes], 1).float()
        weight = sigmoid_rampup(self.training_progress(), self.consistency_weight)
        self.zero_grad()
        with self.autocast():
            segmentation, sdf_logits = self._forward(data)
            loss = self.supervised_loss(segmentation, target, labelled)
            phi = torch.tanh(sdf_logits.float())
            sdf_probs = sdf_to_probability(phi, self.sdf_k)
            supervised = annotated & labelled.view(-1, *[1] * (labels.ndim - 1))
            loss = loss + masked_soft_dice_loss(sdf_probs, onehot, supervised)
            if self.sdf_regression:
                sdf_targets = batch_signed_distances(labels, classes, spacing, labelled)
                loss = loss + masked_l1_loss(phi, sdf_targets, supervised)
            seg_probs = highest_resolution(segmentation).float().softmax(1)[:, classes]
            consistency = mutual_consistency_loss(seg_probs, sdf_probs)
            loss = loss + weight * consistency
        self.backward_and_step(loss)
        return {"loss": loss.detach().cpu().numpy(), "consistency": consistency.item(), "weight": weight}

    def on_train_epoch_end(self, train_outputs: list[dict]):
        self.print_to_log_file(
            f"dual task: consistency {np.mean([o['consistency'] for o in train_outputs]):.4f}, "
            f"weight {train_outputs[-1]['weight']:.3f}")
        super().on_train_epoch_end(train_outputs)

    # the trainer name nnUNetv2_predict rebuilds the ensemble with (see the module docstring)
    ensemble_trainer: str = ""

    @staticmethod
    def ensemble_weights(checkpoint: dict) -> dict:
        """The ensemble network's state dict from a checkpoint this trainer wrote."""
        raise NotImplementedError

    def save_checkpoint(self, filename: str) -> None:
        super().save_checkpoint(filename)
        if self.local_rank == 0 and not self.disable_checkpointing and \
                Path(filename).name in ("checkpoint_final.pth", "checkpoint_best.pth"):
            write_ensemble_checkpoint(filename, type(self))


def write_ensemble_checkpoint(filename: str | Path, trainer: type[DualTaskMixin]) -> Path:
    """Write ``<name>_ensemble.pth`` beside a dual-task checkpoint: nnU-Net's checkpoint without the
    training state, its weights those of the ensemble, marked with ``trainer.ensemble_trainer``."""
    checkpoint = read_checkpoint(filename)
    training_only = {OPTIMIZER_STATE, GRAD_SCALER_STATE, CHECKPOINT_KEY, FROZEN_KEY}
    ensemble = {key: value for key, value in checkpoint.items() if key not in training_only}
    ensemble[NETWORK_WEIGHTS] = {**trainer.ensemble_weights(checkpoint), "sdf_k": torch.tensor(float(trainer.sdf_k))}
    ensemble[TRAINER_NAME] = trainer.ensemble_trainer
    target = Path(filename).with_name(f"{Path(filename).stem}_ensemble.pth")
    torch.save(ensemble, target)
    return target


class nnUNetTrainerDTML(DualTaskMixin, ExtraNetworksMixin, nnUNetTrainer):
    """Two networks from nnU-Net's plans: the segmentation network (``self.network``, used for
    prediction) and a signed-distance network of the same architecture with one output per
    foreground class, trained side by side (DTML)."""

    def initialize(self):
        super().initialize()
        architecture = self.configuration_manager.configuration["architecture"]
        self.add_network("sdf", network_from_architecture(architecture, self.num_input_channels,
                                                          len(self.label_manager.foreground_labels), False))

    def _forward(self, data):
        return self.network(data), self.extra_networks["sdf"].network(data)

    ensemble_trainer = "nnUNetTrainerDTMLEnsemble"

    @staticmethod
    def ensemble_weights(checkpoint: dict) -> dict:
        return {**{f"segmentation.{k}": v for k, v in checkpoint[NETWORK_WEIGHTS].items()},
                **{f"distance.{k}": v for k, v in checkpoint[CHECKPOINT_KEY]["sdf"][NETWORK_WEIGHTS].items()}}


class nnUNetTrainerSDFDualHead(DualTaskMixin, nnUNetTrainer):
    """One nnU-Net network with an added signed-distance head (dual-task single network, as DTC):
    the same losses at about the cost of one network. nnUNetv2_predict gets the segmentation only."""

    @staticmethod
    def build_network_architecture(plans_manager, configuration_manager, num_input_channels: int,
                                   num_output_channels: int, enable_deep_supervision: bool = True):
        unet = nnUNetTrainer.build_network_architecture(plans_manager, configuration_manager, num_input_channels,
                                                        num_output_channels, enable_deep_supervision)
        # one distance map per foreground class: all outputs but background
        return SDFHeadUNet(unet, num_output_channels - 1)

    def _forward(self, data):
        return self.network(data)

    ensemble_trainer = "nnUNetTrainerSDFDualHeadEnsemble"

    @staticmethod
    def ensemble_weights(checkpoint: dict) -> dict:
        return {f"network.{k}": v for k, v in checkpoint[NETWORK_WEIGHTS].items()}


class _EnsembleForPrediction(nnUNetTrainer):
    """Predict-only: named in ``checkpoint_*_ensemble.pth`` so that nnUNetv2_predict rebuilds the
    ensemble (it calls the static ``build_network_architecture`` and never constructs the trainer);
    constructing one, as ``nnUNetv2_train`` does, raises."""

    trained_by = ""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__} is predict-only (it rebuilds the ensemble of {self.trained_by}'s "
            f"checkpoint_*_ensemble.pth); train with -tr {self.trained_by} instead, and predict the ensemble "
            f"with -tr {self.trained_by} -chk checkpoint_final_ensemble.pth.")


class nnUNetTrainerDTMLEnsemble(_EnsembleForPrediction):
    """Predict-only: the ensemble of both DTML networks; train ``nnUNetTrainerDTML`` instead."""

    trained_by = "nnUNetTrainerDTML"

    @staticmethod
    def build_network_architecture(plans_manager, configuration_manager, num_input_channels: int,
                                   num_output_channels: int, enable_deep_supervision: bool = True):
        def plain(outputs):
            return network_from_architecture(configuration_manager.configuration["architecture"],
                                             num_input_channels, outputs, deep_supervision=False)
        return DualNetworkEnsemble(plain(num_output_channels), plain(num_output_channels - 1))


class nnUNetTrainerSDFDualHeadEnsemble(_EnsembleForPrediction):
    """Predict-only: both heads of the dual-head network; train ``nnUNetTrainerSDFDualHead`` instead."""

    trained_by = "nnUNetTrainerSDFDualHead"

    @staticmethod
    def build_network_architecture(plans_manager, configuration_manager, num_input_channels: int,
                                   num_output_channels: int, enable_deep_supervision: bool = True):
        return SDFHeadEnsemble(nnUNetTrainerSDFDualHead.build_network_architecture(
            plans_manager, configuration_manager, num_input_channels, num_output_channels, False))
