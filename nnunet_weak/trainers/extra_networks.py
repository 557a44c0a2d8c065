"""Networks trained beside nnU-Net's ``self.network``: one mechanism for every multi-network trainer.

:class:`ExtraNetworksMixin` gives each extra network what nnU-Net gives its own: the optimiser and
learning-rate schedule of the trainer's ``configure_optimizers`` (a variant's optimiser applies to
them too), DDP wrapping (with SyncBatchNorm), train/eval modes, gradient clipping and
mixed-precision stepping (:mod:`nnunet_weak.trainers.training_step`), and a place in every
checkpoint. The extra state goes under the ``extra_networks`` key of nnU-Net's checkpoint file, so
``--c`` restores everything and ``nnUNetv2_predict`` (which reads ``network_weights`` only) never
sees it. Frozen copies (teachers, fixed or moving averages: ``update_average``) go under
``frozen_networks``. Single-network trainers leave this mixin out and their checkpoints are
nnU-Net's, written once.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from nnunet_weak.networks.ema import ema_update
from nnunet_weak.nnunet_adapter import (
    NETWORK_WEIGHTS,
    OPTIMIZER_STATE,
    configure_optimizers_for,
    read_checkpoint,
    unwrap,
)
from nnunet_weak.trainers.training_step import TrainingStepMixin

CHECKPOINT_KEY = "extra_networks"
FROZEN_KEY = "frozen_networks"


@dataclass
class ExtraNetwork:
    network: nn.Module  # DDP-wrapped when training with several GPUs
    optimizer: torch.optim.Optimizer
    lr_scheduler: object  # what the trainer's configure_optimizers returns (nnU-Net: PolyLRScheduler)

    @property
    def module(self) -> nn.Module:
        """The bare network (no DDP or compile wrapper), for state dicts."""
        return unwrap(self.network)


class ExtraNetworksMixin(TrainingStepMixin):
    """Mixin placed before ``nnUNetTrainer`` in the bases; register networks in ``initialize``."""

    @property
    def extra_networks(self) -> dict[str, ExtraNetwork]:
        return self.__dict__.setdefault("_extra_networks", {})

    @property
    def frozen_networks(self) -> dict[str, nn.Module]:
        """Frozen copies (teachers), refreshed by the trainer, kept in checkpoints."""
        return self.__dict__.setdefault("_frozen_networks", {})

    def _source_network(self, source: str) -> nn.Module:
        return unwrap(self.network if source == "network" else self.extra_networks[source].network)

    def freeze_copy(self, name: str, source: str = "network") -> None:
        """(Re)make ``name`` a frozen eval-mode copy of ``source`` ("network" or an extra network's name)."""
        frozen = copy.deepcopy(self._source_network(source)).eval()
        for parameter in frozen.parameters():
            parameter.requires_grad_(False)
        frozen.frozen_from = source
        self.frozen_networks[name] = frozen

    def update_average(self, name: str, decay: float) -> float:
        """Move the frozen copy ``name`` towards its source network as an exponential moving
        average (a mean teacher, :func:`nnunet_weak.networks.ema.ema_update`, warm-started by the
        iteration count); call it after ``backward_and_step``. Returns the decay used."""
        frozen = self.frozen_networks[name]
        return ema_update(frozen, self._source_network(frozen.frozen_from), decay, max(1, self.iterations_done()))

    def add_network(self, name: str, network: nn.Module) -> ExtraNetwork:
        network = network.to(self.device)
        if self.is_ddp:  # device_ids as nnU-Net gives its own network; none for CPU (gloo) processes
            network = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(network),
                          device_ids=[self.local_rank] if self.device.type == "cuda" else None)
        extra = ExtraNetwork(network, *configure_optimizers_for(self, network))
        self.extra_networks[name] = extra
        return extra

    def optimized(self) -> list[tuple[nn.Module, torch.optim.Optimizer]]:
        return super().optimized() + [(e.network, e.optimizer) for e in self.extra_networks.values()]

    def on_train_epoch_start(self):
        super().on_train_epoch_start()
        for extra in self.extra_networks.values():
            extra.network.train()
            extra.lr_scheduler.step(self.current_epoch)

    def save_checkpoint(self, filename: str) -> None:
        super().save_checkpoint(filename)
        if self.local_rank != 0 or self.disable_checkpointing:
            return
        checkpoint = read_checkpoint(filename)
        checkpoint[CHECKPOINT_KEY] = {
            name: {NETWORK_WEIGHTS: e.module.state_dict(), OPTIMIZER_STATE: e.optimizer.state_dict()}
            for name, e in self.extra_networks.items()
        }
        checkpoint[FROZEN_KEY] = {name: {"source": f.frozen_from, NETWORK_WEIGHTS: f.state_dict()}
                                  for name, f in self.frozen_networks.items()}
        torch.save(checkpoint, filename)

    def load_checkpoint(self, filename_or_checkpoint: dict | str) -> None:
        super().load_checkpoint(filename_or_checkpoint)
        if isinstance(filename_or_checkpoint, str):
            # read a second time: nnunetv2 2.8.1's load_checkpoint does not accept a loaded dict
            checkpoint = read_checkpoint(filename_or_checkpoint, self.device)
        else:
            checkpoint = filename_or_checkpoint
        stored = checkpoint.get(CHECKPOINT_KEY, {})
        missing = sorted(set(self.extra_networks) - set(stored))
        if missing:
            raise RuntimeError(
                f"checkpoint has no state for the networks {missing} of {self.__class__.__name__}; it was written "
                "by another trainer. Start a new training or continue with the trainer that wrote it."
            )
        for name, extra in self.extra_networks.items():
            extra.module.load_state_dict(stored[name][NETWORK_WEIGHTS])
            extra.optimizer.load_state_dict(stored[name][OPTIMIZER_STATE])
        frozen = checkpoint.get(FROZEN_KEY, {})
        for name, state in frozen.items():
            self.freeze_copy(name, state["source"])
            self.frozen_networks[name].load_state_dict(state[NETWORK_WEIGHTS])
        for name in set(self.frozen_networks) - set(frozen):
            # a copy made in initialize() that the checkpoint lacks starts again from the loaded weights
            self.freeze_copy(name, self.frozen_networks[name].frozen_from)
