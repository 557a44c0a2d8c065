"""Networks trained beside nnU-Net's ``self.network``: one mechanism for every multi-network trainer.

:class:`MultiNetworkMixin` gives each extra network what nnU-Net gives its own: the same SGD
optimiser and poly learning-rate schedule, DDP wrapping (with SyncBatchNorm), train/eval modes,
gradient clipping and mixed-precision stepping, and a place in every checkpoint. The extra
state goes under the ``extra_networks`` key of nnU-Net's checkpoint file, so ``--c`` restores
everything and ``nnUNetv2_predict`` (which reads ``network_weights`` only) never sees it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from nnunetv2.training.lr_scheduler.polylr import PolyLRScheduler
from nnunetv2.utilities.helpers import dummy_context
from torch import autocast, nn
from torch._dynamo import OptimizedModule
from torch.nn.parallel import DistributedDataParallel as DDP

from nnunet_weak.networks import highest_resolution

CHECKPOINT_KEY = "extra_networks"
FROZEN_KEY = "frozen_networks"


def unwrap(network: nn.Module) -> nn.Module:
    """The bare network inside DDP and torch.compile wrappers."""
    module = network.module if isinstance(network, DDP) else network
    return module._orig_mod if isinstance(module, OptimizedModule) else module


@dataclass
class ExtraNetwork:
    network: nn.Module  # DDP-wrapped when training with several GPUs
    optimizer: torch.optim.Optimizer
    lr_scheduler: PolyLRScheduler

    @property
    def module(self) -> nn.Module:
        """The bare network (no DDP or compile wrapper), for state dicts."""
        return unwrap(self.network)


class MultiNetworkMixin:
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

    def add_network(self, name: str, network: nn.Module) -> ExtraNetwork:
        network = network.to(self.device)
        if self.is_ddp:  # device_ids as nnU-Net gives its own network; none for CPU (gloo) processes
            network = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(network),
                          device_ids=[self.local_rank] if self.device.type == "cuda" else None)
        # the same optimiser and schedule nnU-Net's configure_optimizers gives self.network
        optimizer = torch.optim.SGD(network.parameters(), self.initial_lr, weight_decay=self.weight_decay,
                                    momentum=0.99, nesterov=True)
        extra = ExtraNetwork(network, optimizer, PolyLRScheduler(optimizer, self.initial_lr, self.num_epochs))
        self.extra_networks[name] = extra
        return extra

    def unpack_batch(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor | list, torch.Tensor, torch.Tensor]:
        """Move a batch to the device: (data, target as the loss wants it, full-resolution labels
        ``(B, *patch)`` long, annotated mask ``(B, *patch)``: voxels not ``ignore``)."""
        data = batch["data"].to(self.device, non_blocking=True)
        target = batch["target"]
        if isinstance(target, list):
            target = [t.to(self.device, non_blocking=True) for t in target]
        else:
            target = target.to(self.device, non_blocking=True)
        labels = highest_resolution(target)[:, 0].long()
        return data, target, labels, labels != self.label_manager.ignore_label

    def autocast(self):
        """Mixed precision on CUDA only, as nnU-Net's train_step does (CPU autocast is slow)."""
        return autocast(self.device.type, enabled=True) if self.device.type == "cuda" else dummy_context()

    def all_optimized(self) -> list[tuple[nn.Module, torch.optim.Optimizer]]:
        return [(self.network, self.optimizer)] + [(e.network, e.optimizer) for e in self.extra_networks.values()]

    def backward_and_step(self, loss: torch.Tensor) -> None:
        """Backward ``loss`` through every network, clip each at nnU-Net's norm 12, step each optimiser."""
        pairs = self.all_optimized()
        if self.grad_scaler is not None:
            self.grad_scaler.scale(loss).backward()
            for network, optimizer in pairs:
                self.grad_scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(network.parameters(), 12)
                self.grad_scaler.step(optimizer)
            self.grad_scaler.update()
        else:
            loss.backward()
            for network, optimizer in pairs:
                torch.nn.utils.clip_grad_norm_(network.parameters(), 12)
                optimizer.step()

    def zero_grad(self) -> None:
        for _, optimizer in self.all_optimized():
            optimizer.zero_grad(set_to_none=True)

    def on_train_epoch_start(self):
        super().on_train_epoch_start()
        for extra in self.extra_networks.values():
            extra.network.train()
            extra.lr_scheduler.step(self.current_epoch)

    def save_checkpoint(self, filename: str) -> None:
        super().save_checkpoint(filename)
        if self.local_rank != 0 or self.disable_checkpointing:
            return
        checkpoint = torch.load(filename, map_location="cpu", weights_only=False)
        checkpoint[CHECKPOINT_KEY] = {
            name: {"network_weights": e.module.state_dict(), "optimizer_state": e.optimizer.state_dict()}
            for name, e in self.extra_networks.items()
        }
        checkpoint[FROZEN_KEY] = {name: {"source": f.frozen_from, "network_weights": f.state_dict()}
                                  for name, f in self.frozen_networks.items()}
        torch.save(checkpoint, filename)

    def load_checkpoint(self, filename_or_checkpoint: dict | str) -> None:
        super().load_checkpoint(filename_or_checkpoint)
        if isinstance(filename_or_checkpoint, str):
            # read a second time: nnunetv2 2.8.1's load_checkpoint does not accept a loaded dict
            checkpoint = torch.load(filename_or_checkpoint, map_location=self.device, weights_only=False)
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
            extra.module.load_state_dict(stored[name]["network_weights"])
            extra.optimizer.load_state_dict(stored[name]["optimizer_state"])
        for name, state in checkpoint.get(FROZEN_KEY, {}).items():
            self.freeze_copy(name, state["source"])
            self.frozen_networks[name].load_state_dict(state["network_weights"])
