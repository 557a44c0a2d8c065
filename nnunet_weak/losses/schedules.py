"""Scalar schedules shared by all trainers: ramp-ups and deep-supervision weights."""

from __future__ import annotations

import math

import numpy as np


def sigmoid_rampup(progress: float, weight: float = 1.0) -> float:
    """``weight * exp(-5 (1 - t)^2)`` with t = ``progress`` clipped to [0, 1].

    The Gaussian ramp-up of Laine & Aila ("Temporal Ensembling for Semi-Supervised Learning",
    ICLR 2017) used by the mean-teacher family; 3D2DCT (Cai et al. 2023, lambda = 0.1 over the
    run), PA-Seg and DTML all ramp with it.

    Args:
        progress: share of the ramp done (e.g. iteration / ramp length); clipped to [0, 1].
        weight: the value reached at the end of the ramp (default 1.0).

    Returns:
        the weight at ``progress``, a float.

    Raises:
        ValueError: ``progress`` or ``weight`` is not a finite number.
    """
    if not (math.isfinite(progress) and math.isfinite(weight)):
        raise ValueError(f"progress ({progress}) and weight ({weight}) must be finite")
    t = min(max(float(progress), 0.0), 1.0)
    return weight * math.exp(-5.0 * (1.0 - t) ** 2)


def deep_supervision_weights(n_outputs: int, keep_lowest: bool = False) -> np.ndarray:
    """nnU-Net's deep-supervision weights (Isensee et al., Nature Methods 2021): halve per
    resolution level, drop the lowest output, sum to 1.

    Args:
        n_outputs: number of network outputs, highest resolution first.
        keep_lowest: give the lowest output a tiny weight (1e-6 before normalising) instead of 0,
            so DDP's unused-parameter check sees a gradient for it (default False).

    Returns:
        ``(n_outputs,)`` float weights summing to 1.

    Raises:
        ValueError: ``n_outputs`` < 1.
    """
    if n_outputs < 1:
        raise ValueError(f"need at least one output, got {n_outputs}")
    weights = np.array([1 / 2**i for i in range(n_outputs)])
    if n_outputs > 1:
        weights[-1] = 1e-6 if keep_lowest else 0.0
    return weights / weights.sum()
