"""Cut a 3D batch into a batch of 2D slices along one axis, and stack slice outputs back."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F


def to_slices(volume: torch.Tensor, axis: int) -> torch.Tensor:
    """``(B, C, S0, S1, S2)`` -> ``(B * S_axis, C, *the other two)``; ``axis`` is spatial (0..2)."""
    moved = volume.movedim(2 + axis, 1)  # (B, S_axis, C, a, b)
    return moved.reshape(-1, *moved.shape[2:])


def training_slices(annotated: torch.Tensor, axis: int, fraction: float, generator: torch.Generator | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the slice indices along spatial ``axis`` into (trained, predicted-only), both sorted.

    ``annotated`` is ``(B, *spatial)`` bool. ``ceil(fraction * n)`` slices are trained: first those
    that are mostly annotated (over half their voxels in the batch), then a random choice of the rest.
    """
    n = annotated.shape[1 + axis]
    count = min(n, max(1, math.ceil(fraction * n)))
    other = tuple(d for d in range(annotated.ndim) if d != 1 + axis)
    mostly = annotated.float().mean(dim=other) > 0.5
    noise = torch.rand(n, generator=generator, device="cpu").to(annotated.device)
    order = torch.argsort(mostly.float() * 2 + noise, descending=True)
    return order[:count].sort().values, order[count:].sort().values


def from_slices(slices: torch.Tensor, axis: int, batch_size: int) -> torch.Tensor:
    """Inverse of :func:`to_slices`: ``(B * S_axis, K, a, b)`` -> ``(B, K, S0, S1, S2)``."""
    stacked = slices.reshape(batch_size, -1, *slices.shape[1:])  # (B, S_axis, K, a, b)
    return stacked.movedim(1, 2 + axis)


def slice_targets(volume_target: torch.Tensor, axis: int, scales: list[list[float]] | None
                  ) -> torch.Tensor | list[torch.Tensor]:
    """Label maps ``(B, 1, S0, S1, S2)`` as slice targets for a 2D network: :func:`to_slices`, and
    with deep supervision (``scales``: per output, the factor of each slice axis, highest resolution
    first) one nearest-neighbour downsampled target per output, as nnU-Net's data pipeline makes them."""
    slices = to_slices(volume_target, axis)
    if scales is None:
        return slices
    shape = np.array(slices.shape[2:])
    return [slices if all(s == 1 for s in scale) else
            F.interpolate(slices.float(), size=[int(round(n)) for n in shape * np.array(scale)],
                          mode="nearest-exact").to(slices.dtype)
            for scale in scales]
