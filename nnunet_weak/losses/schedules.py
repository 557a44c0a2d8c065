"""Scalar schedules shared by all trainers: ramp-ups and deep-supervision weights."""

from __future__ import annotations

import math

import numpy as np


def sigmoid_rampup(progress: float, weight: float = 1.0) -> float:
    """``weight * exp(-5 (1 - t)^2)`` with t = ``progress`` clipped to [0, 1].

    The Gaussian ramp-up of Laine & Aila (ICLR 2017) used by the mean-teacher family; 3D2DCT
    (Cai et al. 2023, lambda = 0.1 over the run), PA-Seg and DTML all ramp with it.
    """
    t = min(max(float(progress), 0.0), 1.0)
    return weight * math.exp(-5.0 * (1.0 - t) ** 2)


def deep_supervision_weights(n_outputs: int, keep_lowest: bool = False) -> np.ndarray:
    """nnU-Net's deep-supervision weights: halve per resolution level, drop the lowest output
    (``keep_lowest`` gives it a tiny weight instead, for DDP's unused-parameter check), sum to 1."""
    if n_outputs < 1:
        raise ValueError(f"need at least one output, got {n_outputs}")
    weights = np.array([1 / 2**i for i in range(n_outputs)])
    if n_outputs > 1:
        weights[-1] = 1e-6 if keep_lowest else 0.0
    return weights / weights.sum()
