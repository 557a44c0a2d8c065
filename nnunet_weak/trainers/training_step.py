"""The toolkit of a hand-written ``train_step``, and the iteration count every ramp-up reads.

nnU-Net's ``train_step`` runs one network, one loss and one optimiser. Ours compute more (extra
networks, pseudo labels, regularisers) but must step exactly as nnU-Net does: mixed precision on
CUDA only, gradient clipping at norm 12, the GradScaler's unscale/step/update. The toolkit does
that once, for ``self.network`` and any extra network (:mod:`nnunet_weak.trainers.extra_networks`),
and counts the steps: ``training_progress()`` is the share of the schedule's iterations done,
restored by ``--c`` through the epoch count, with no counter for a trainer to forget.
"""

from __future__ import annotations

import torch
from nnunetv2.utilities.helpers import dummy_context
from torch import autocast, nn

from nnunet_weak.networks import highest_resolution


class TrainingStepMixin:
    """Mixin placed before ``nnUNetTrainer``: ``unpack_batch``, ``autocast``, ``zero_grad``,
    ``backward_and_step`` (which counts the iteration), ``iterations_done`` and ``training_progress``."""

    iterations_this_epoch = 0  # counted per instance by backward_and_step, reset at each epoch start

    def optimized(self) -> list[tuple[nn.Module, torch.optim.Optimizer]]:
        """(network, optimiser) pairs ``backward_and_step`` steps: nnU-Net's own network; extra networks add theirs."""
        return [(self.network, self.optimizer)]

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

    def zero_grad(self) -> None:
        for _, optimizer in self.optimized():
            optimizer.zero_grad(set_to_none=True)

    def backward_and_step(self, loss: torch.Tensor) -> None:
        """Backward ``loss`` through every network, clip each at nnU-Net's norm 12, step each optimiser;
        one training iteration done."""
        pairs = self.optimized()
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
        self.iterations_this_epoch += 1

    def on_train_epoch_start(self):
        super().on_train_epoch_start()
        self.iterations_this_epoch = 0

    def iterations_done(self) -> int:
        """Training iterations done in this run, restored by ``--c`` through the epoch count."""
        return self.current_epoch * self.num_iterations_per_epoch + self.iterations_this_epoch

    def training_progress(self) -> float:
        """Share of the schedule's training iterations done, in [0, 1]; ramp-ups use it."""
        return min(1.0, self.iterations_done() / (self.num_epochs * self.num_iterations_per_epoch))


def require_3d_configuration(trainer, reason: str) -> None:
    """Refuse a 2D configuration at start-up with one sentence saying what to use instead."""
    if len(trainer.configuration_manager.patch_size) != 3:
        name = type(trainer).__name__
        raise RuntimeError(f"{name} needs a 3D configuration (3d_fullres or 3d_lowres; {reason}), not "
                           f"{trainer.configuration_name}; for 2d use nnUNetTrainerBenchmark.")
