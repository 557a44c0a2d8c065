"""Overlap and surface metrics on binary masks, with voxel spacing in mm.

Conventions when a mask is empty: both empty -> Dice 1, HD95 0 mm, surface Dice 1; only one
empty -> Dice 0, HD95 NaN (undefined; counted as missing in means), surface Dice 0.
The volume ratio (predicted / true voxels; > 1 over-segments) is NaN when the truth is empty.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage


def dice(pred: np.ndarray, ref: np.ndarray) -> float:
    total = np.count_nonzero(pred) + np.count_nonzero(ref)
    if total == 0:
        return 1.0
    return 2.0 * np.count_nonzero(pred & ref) / total


def volume_ratio(pred: np.ndarray, ref: np.ndarray) -> float:
    true = np.count_nonzero(ref)
    return np.count_nonzero(pred) / true if true else float("nan")


def _border(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with at least one 26-neighbour outside it (image edge counts as outside)."""
    eroded = ndimage.binary_erosion(mask, structure=np.ones((3,) * mask.ndim, bool), border_value=0)
    return mask & ~eroded


def _distances(from_border: np.ndarray, to_border: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """Distance (mm) from each voxel of ``from_border`` to the nearest voxel of ``to_border``."""
    field = ndimage.distance_transform_edt(~to_border, sampling=spacing)
    return field[from_border]


def hd95(pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float:
    """95th-percentile symmetric Hausdorff distance between mask borders, in mm."""
    if not pred.any() and not ref.any():
        return 0.0
    if not pred.any() or not ref.any():
        return float("nan")
    bp, br = _border(pred), _border(ref)
    return float(max(np.percentile(_distances(bp, br, spacing), 95), np.percentile(_distances(br, bp, spacing), 95)))


def surface_dice(pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float], tolerance_mm: float = 1.0) -> float:
    """Normalised surface Dice (Nikolov et al., 2021): the share of both borders lying within
    ``tolerance_mm`` of the other border, on voxel borders."""
    if not pred.any() and not ref.any():
        return 1.0
    if not pred.any() or not ref.any():
        return 0.0
    bp, br = _border(pred), _border(ref)
    close = np.count_nonzero(_distances(bp, br, spacing) <= tolerance_mm)
    close += np.count_nonzero(_distances(br, bp, spacing) <= tolerance_mm)
    return close / (np.count_nonzero(bp) + np.count_nonzero(br))


def case_metrics(pred: np.ndarray, ref: np.ndarray, classes: Sequence[int], spacing: Sequence[float],
                 tolerance_mm: float = 1.0) -> dict[int, dict[str, float]]:
    """Dice, HD95 (mm), surface Dice and volume ratio per class of two label maps (spacing in array order)."""
    out = {}
    for c in classes:
        p, r = pred == c, ref == c
        out[c] = {"dice": dice(p, r), "hd95": hd95(p, r, spacing),
                  "surface_dice": surface_dice(p, r, spacing, tolerance_mm), "volume_ratio": volume_ratio(p, r)}
    return out
