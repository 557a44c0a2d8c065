"""Training schedule and CPU thread count from environment variables, for every trainer of ours.

nnU-Net fixes 1000 epochs x 250 iterations in the trainer; a CPU benchmark or a smoke test needs
a few hundred iterations with one torch thread, and the *same* schedule for every method it
compares. Like nnU-Net's own ``nnUNet_n_proc_DA``, these are environment variables, read when the
trainer is built (so ``--c`` must see the same values to resume the same schedule):

``nnUNet_weak_epochs``                 number of epochs (stock: 1000)
``nnUNet_weak_iterations_per_epoch``   training iterations per epoch (stock: 250)
``nnUNet_weak_val_iterations``         validation iterations per epoch (stock: 50)
``nnUNet_weak_save_every``             write checkpoint_latest.pth every N epochs (stock: 50)
``nnUNet_weak_threads``                torch threads when training on the CPU. ``-device cpu``
                                       leaves torch at one thread per core, which on a busy
                                       2-core machine was reported up to 40x slower than one thread.
``nnUNet_weak_initial_weights``        start the network from a complete earlier checkpoint
                                       (:mod:`nnunet_weak.trainers.initial_weights`)
"""

from __future__ import annotations

import os

import torch

from nnunet_weak.nnunet_adapter import check_hooks
from nnunet_weak.trainers.initial_weights import load_initial_weights

SETTINGS = {
    "nnUNet_weak_epochs": "num_epochs",
    "nnUNet_weak_iterations_per_epoch": "num_iterations_per_epoch",
    "nnUNet_weak_val_iterations": "num_val_iterations_per_epoch",
    "nnUNet_weak_save_every": "save_every",
}
THREADS = "nnUNet_weak_threads"
_CUDA = torch.device("cuda")  # nnUNetTrainer's default device


def _positive_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"environment variable {name}={raw!r} must be a positive integer (or unset)")
    return value


class ScheduleFromEnvironment:
    """Mixin placed before ``nnUNetTrainer`` in the bases: applies the settings above."""

    # nnUNetTrainer records its constructor arguments by inspecting self.__init__'s signature
    # (for checkpoints), so this signature must name them exactly.
    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = _CUDA):
        check_hooks()
        super().__init__(plans, configuration, fold, dataset_json, device)
        for variable, attribute in SETTINGS.items():
            value = _positive_int(variable)
            if value is not None:
                setattr(self, attribute, value)
        threads = _positive_int(THREADS)
        if threads is not None and self.device.type == "cpu":
            torch.set_num_threads(threads)

    def initialize(self):
        super().initialize()
        load_initial_weights(self)
