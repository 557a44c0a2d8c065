"""Start a training from a complete earlier checkpoint: ``nnUNet_weak_initial_weights=PATH``.

nnU-Net's ``-pretrained_weights`` leaves out the segmentation layers (it is meant for transfer to
other labels). Going on from a network trained on the *same* labels needs all of them: e.g. a
semi-supervised trainer started from the stock trainer's run on the labelled cases (a warm start,
so that the unlabelled cases meet a network that already segments), or the stock trainer fine-tuned
from the same run as its control. The variable names a checkpoint nnU-Net wrote for the same
plans, configuration and labels; its ``network_weights`` are loaded, strictly, into the trainer's
network when the trainer is initialised. Everything else starts as without it: optimiser, learning
rate schedule, epoch count and any extra network (DTML's distance network). ``--c`` continues from
the run's own checkpoint as usual. PA-Seg stage 2 names its two starting points with its own
variables (see :mod:`nnunet_weak.trainers.point_seg_scm`).
"""

from __future__ import annotations

import os
from pathlib import Path

from nnunet_weak.nnunet_adapter import NETWORK_WEIGHTS, read_checkpoint, unwrap

INITIAL_WEIGHTS = "nnUNet_weak_initial_weights"


def initial_weights_path() -> Path | None:
    raw = os.environ.get(INITIAL_WEIGHTS, "").strip()
    return Path(raw) if raw else None


def network_weights(path: Path, source: str) -> dict:
    """``network_weights`` of the nnU-Net checkpoint at ``path``; ``source`` says in errors where the path came from."""
    try:
        checkpoint = read_checkpoint(path)
    except Exception as error:  # unpickling raises many types; the file is what is wrong
        raise RuntimeError(f"{source}: {path} could not be read as a checkpoint ({type(error).__name__}: "
                           f"{error}). Name a checkpoint_final.pth written by nnUNetv2_train.") from None
    if not isinstance(checkpoint, dict) or NETWORK_WEIGHTS not in checkpoint:
        raise RuntimeError(f"{source}: {path} is not a checkpoint written by nnU-Net (no {NETWORK_WEIGHTS}).")
    return checkpoint[NETWORK_WEIGHTS]


def load_initial_weights(trainer) -> Path | None:
    """Load the checkpoint named by ``nnUNet_weak_initial_weights`` into ``trainer.network``; the path, or
    None where the variable is unset."""
    path = initial_weights_path()
    if path is None:
        return None
    name = type(trainer).__name__
    if not path.is_file():
        raise RuntimeError(f"{INITIAL_WEIGHTS}={path}: no such file. Name a checkpoint_final.pth (or another "
                           f"checkpoint nnU-Net wrote) of a run with the same plans, or unset the variable.")
    weights = network_weights(path, INITIAL_WEIGHTS)
    try:
        unwrap(trainer.network).load_state_dict(weights)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise RuntimeError(
            f"{INITIAL_WEIGHTS}={path} does not fit {name}'s network for these plans ({first}). Name a checkpoint "
            "of a run with the same plans, configuration and labels.") from None
    trainer.print_to_log_file(f"network weights loaded from {path} ({INITIAL_WEIGHTS})")
    return path
