"""Normalised signed distance maps (SDF) of label maps, the regression target of dual-task
semi-supervised learning (DTC, Luo et al. AAAI 2021; DTML, Zhang & Zhang PRCV 2021).

Per foreground class: the Euclidean distance (in mm, with ``spacing``) to the object's border,
scaled separately inside and outside to [0, 1], negative inside, positive outside and zero on
the object's inner border voxels. Conventions the authors' code leaves undefined (it returns all
zeros, i.e. "border everywhere"): a class absent from the patch is +1 everywhere (all outside), a
class filling the patch is -1 everywhere (all inside).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy import ndimage


def signed_distance(mask: np.ndarray, spacing: Sequence[float] | None = None) -> np.ndarray:
    """Normalised SDF of one boolean mask (any dimensionality), float32 in [-1, 1]."""
    mask = mask.astype(bool)
    if not mask.any():
        return np.ones(mask.shape, np.float32)
    if mask.all():
        return -np.ones(mask.shape, np.float32)
    outside = ndimage.distance_transform_edt(~mask, sampling=spacing)  # > 0 outside, distance to object
    inside = ndimage.distance_transform_edt(mask, sampling=spacing)  # > 0 inside, distance to background
    border = mask & ~ndimage.binary_erosion(mask, structure=ndimage.generate_binary_structure(mask.ndim, 1),
                                            border_value=1)
    sdf = outside / outside.max() - inside / inside.max()
    sdf[border] = 0.0
    return sdf.astype(np.float32)


def class_signed_distances(labels: np.ndarray, classes: Sequence[int],
                           spacing: Sequence[float] | None = None) -> np.ndarray:
    """``(len(classes), *labels.shape)`` stack of :func:`signed_distance` for each class."""
    return np.stack([signed_distance(labels == c, spacing) for c in classes])


def batch_signed_distances(labels: torch.Tensor, classes: Sequence[int], spacing: Sequence[float] | None,
                           samples: torch.Tensor) -> torch.Tensor:
    """:func:`class_signed_distances` of a batch of label maps ``(B, *spatial)`` for the ``samples``
    (``(B,)`` bool) that have labels; ``(B, len(classes), *spatial)`` float32 on the labels' device,
    zero for the other samples."""
    out = np.zeros((labels.shape[0], len(classes), *labels.shape[1:]), np.float32)
    for b in torch.nonzero(samples).flatten().tolist():
        out[b] = class_signed_distances(labels[b].cpu().numpy(), classes, spacing)
    return torch.from_numpy(out).to(labels.device)
