"""PA-Seg stage 2 (self and cross monitoring) and the stage-1 run of its second network.

Two networks of different architecture, nnU-Net's network for the plans (primary; what
``nnUNetv2_predict`` uses) and nnU-Net's residual-encoder U-Net with the same stages (secondary),
each start from its own complete stage-1 checkpoint: by default the ``checkpoint_final.pth`` of
``nnUNetTrainerPointSeg`` and ``nnUNetTrainerPointSegResEnc`` for the same dataset, plans,
configuration and fold (the results folders beside this trainer's), or the files named by
``nnUNet_weak_primary_weights`` and ``nnUNet_weak_secondary_weights``. Not nnU-Net's
``-pretrained_weights``: it leaves out the segmentation layers (it is meant for transfer to other
labels), and a stage 2 started from it begins with random output layers, whose frozen copy then
hands out random pseudo labels (measured: validation pseudo Dice fell from 0.91 / 0.94 after
stage 1 to 0.25 / 0.00 in the first stage-2 epoch). Each learns from

- nnU-Net's partial CE + Dice on the expanded click labels (deep supervision),
- its own frozen copy's pseudo labels on the unannotated voxels (self monitoring; the copies are
  refreshed every ``refresh_every`` epochs and stored in the checkpoint, so ``--c`` is exact),
- the other network's softened prediction (cross knowledge distillation,
  :class:`nnunet_weak.losses.distillation.KnowledgeDistillationLoss`: KL at temperature
  ``kd_temperature`` 4, weight ``kd_weight`` 0.5, scaled by T^2 as usual).

Model selection uses only what a click user has: nnU-Net's EMA pseudo Dice on the expanded
labels of the validation cases (dense labels are never read).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.losses import MaskedCEDiceLoss
from nnunet_weak.losses.distillation import KnowledgeDistillationLoss
from nnunet_weak.networks import highest_resolution
from nnunet_weak.networks.from_plans import network_from_architecture
from nnunet_weak.networks.residual import residual_encoder_architecture
from nnunet_weak.trainers.extra_networks import ExtraNetworksMixin
from nnunet_weak.trainers.initial_weights import INITIAL_WEIGHTS, initial_weights_path, network_weights
from nnunet_weak.trainers.point_seg import nnUNetTrainerPointSeg
from nnunet_weak.trainers.schedule import ScheduleFromEnvironment
from nnunet_weak.trainers.training_step import require_3d_configuration

PRIMARY_WEIGHTS = "nnUNet_weak_primary_weights"
SECONDARY_WEIGHTS = "nnUNet_weak_secondary_weights"


class nnUNetTrainerPointSegResEnc(nnUNetTrainerPointSeg):
    """Stage 1 (as ``nnUNetTrainerPointSeg``) for the residual-encoder network that stage 2 pairs
    with the plans' network."""

    @staticmethod
    def build_network_architecture(plans_manager, configuration_manager, num_input_channels: int,
                                   num_output_channels: int, enable_deep_supervision: bool = True):
        architecture = residual_encoder_architecture(configuration_manager.configuration["architecture"])
        return network_from_architecture(architecture, num_input_channels, num_output_channels,
                                         enable_deep_supervision)


class nnUNetTrainerPointSegSCM(ExtraNetworksMixin, ScheduleFromEnvironment, nnUNetTrainer):
    kd_temperature = 4.0
    kd_weight = 0.5
    refresh_every = 10

    def initialize(self):
        require_3d_configuration(self, "it continues from the 3D PA-Seg stage-1 runs")
        if initial_weights_path() is not None:
            raise RuntimeError(f"{self.__class__.__name__} starts from two stage-1 checkpoints: name them with "
                               f"{PRIMARY_WEIGHTS} and {SECONDARY_WEIGHTS}, not {INITIAL_WEIGHTS}.")
        super().initialize()
        architecture = residual_encoder_architecture(self.configuration_manager.configuration["architecture"])
        secondary = network_from_architecture(architecture, self.num_input_channels,
                                              self.label_manager.num_segmentation_heads, self.enable_deep_supervision)
        self._source_network("network").load_state_dict(self._stage_one("nnUNetTrainerPointSeg", PRIMARY_WEIGHTS))
        secondary.load_state_dict(self._stage_one("nnUNetTrainerPointSegResEnc", SECONDARY_WEIGHTS))
        self.add_network("secondary", secondary)
        self.pseudo_loss = MaskedCEDiceLoss()
        self.distillation = KnowledgeDistillationLoss(self.kd_temperature)

    def _stage_one(self, trainer: str, variable: str) -> dict:
        """Network weights of the stage-1 run of ``trainer``: the file in ``variable`` if set, else
        that trainer's checkpoint_final.pth beside this trainer's results folder."""
        configuration = f"{trainer}__{self.plans_manager.plans_name}__{self.configuration_name}"
        default = Path(self.output_folder_base).parent / configuration / f"fold_{self.fold}" / "checkpoint_final.pth"
        path = Path(os.environ.get(variable) or default)
        if not path.is_file():
            raise RuntimeError(
                f"{self.__class__.__name__} starts both networks from stage 1, and {path} does not exist. Run "
                f"'nnUNetv2_train DATASET {self.configuration_name} {self.fold} -tr {trainer} -p "
                f"{self.plans_manager.plans_name}' first, or set {variable} to that run's checkpoint_final.pth."
            )
        return network_weights(path, variable if os.environ.get(variable) else f"the stage-1 checkpoint of {trainer}")

    def on_train_epoch_start(self):
        super().on_train_epoch_start()
        if self.current_epoch % self.refresh_every == 0 or "primary" not in self.frozen_networks:
            self.freeze_copy("primary", "network")
            self.freeze_copy("secondary", "secondary")

    def train_step(self, batch: dict) -> dict:
        data, target, labels, annotated = self.unpack_batch(batch)
        secondary = self.extra_networks["secondary"].network
        self.zero_grad()
        with self.autocast():
            with torch.no_grad():
                pseudo = {name: highest_resolution(net(data)).argmax(1) for name, net in self.frozen_networks.items()}
            outputs = {"primary": self.network(data), "secondary": secondary(data)}
            logits = {name: highest_resolution(out) for name, out in outputs.items()}
            loss = 0
            for name, other in (("primary", "secondary"), ("secondary", "primary")):
                loss = loss + self.loss(outputs[name], target)
                loss = loss + self.pseudo_loss(logits[name], pseudo[name], ~annotated)
                loss = loss + self.kd_weight * self.distillation(logits[name], logits[other])
        self.backward_and_step(loss)
        return {"loss": loss.detach().cpu().numpy()}
