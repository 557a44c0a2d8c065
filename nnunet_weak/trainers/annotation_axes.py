"""Which axes of the training patches carry sparse annotated slices?"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from nnunet_weak.annotations import annotated_slices
from nnunet_weak.dataset.sidecar import SIDECAR_NAME, annotated_axes, read_sidecar


def axes_from_sidecar(dataset_name: str, transpose_forward: Sequence[int]) -> list[int] | None:
    """Sparse axes from ``$nnUNet_raw/<dataset>/annotation.json``, in preprocessed (transposed)
    order; None when the raw folder or the sidecar is not there (e.g. on a cluster node)."""
    raw = os.environ.get("nnUNet_raw")
    if not raw or not (Path(raw) / dataset_name / SIDECAR_NAME).is_file():
        return None
    raw_axes = annotated_axes(read_sidecar(Path(raw) / dataset_name))
    return sorted(list(transpose_forward).index(a) for a in raw_axes)


def axes_from_label_maps(load_seg: Callable[[str], np.ndarray], cases: Iterable[str], ignore_label: int,
                         max_cases: int = 20) -> list[int]:
    """Sparse axes seen in preprocessed label maps ``(1, *spatial)``: an axis counts when some case
    has a completely annotated plane along it and unannotated voxels elsewhere."""
    axes: set[int] = set()
    for i, case in enumerate(cases):
        if i >= max_cases:
            break
        seg = load_seg(case)[0]
        axes |= set(annotated_slices(seg != ignore_label))
    return sorted(axes)
