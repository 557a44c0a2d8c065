"""Sparse-slice annotation: a few fully labelled planes per volume, in one or more orientations.

The 3D2DCT protocol (Cai et al., MICCAI 2023; code HengCai-NJU/3D2DCT, ``slice_strategy``)
labels every k-th slice along one axis from a random offset in [0, k), and the same number of
slices along a second, orthogonal axis. :data:`PRESETS` holds it as ``"3d2dct"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# World axis (LPS, as SimpleITK reports directions) that each plane is perpendicular to.
_PLANE_NORMALS = {"sagittal": 0, "coronal": 1, "axial": 2}

PRESETS: dict[str, dict] = {
    # every 12th axial slice; as many coronal slices, evenly spaced (3D2DCT: slice_strategy 12)
    "3d2dct": {"orientations": ["axial", "coronal"], "every": 12, "same_count": True},
}


def choose_slices(
    length: int, rng: np.random.Generator, count: int | None = None, every: int | None = None
) -> np.ndarray:
    """Indices of the annotated slices along an axis of ``length`` slices.

    Exactly one of ``count`` (N slices, evenly spaced with stride ``length / N``) or ``every``
    (every k-th slice) is given; the first slice sits at a random offset within one stride.

    Raises:
        ValueError: both or neither given, a non-positive value, or more slices than the axis has.
    """
    if (count is None) == (every is None):
        raise ValueError("give exactly one of count (slices per axis) or every (slice stride)")
    if count is not None:
        if count < 1:
            raise ValueError(f"slice count must be at least 1, got {count}")
        if count > length:
            raise ValueError(f"{count} slices requested but the axis has only {length}")
        stride = length / count
        offset = rng.uniform(0, stride)
        return np.floor(offset + stride * np.arange(count)).astype(int)
    if every < 1:
        raise ValueError(f"slice stride must be at least 1, got {every}")
    offset = int(rng.integers(0, min(every, length)))
    return np.arange(offset, length, every)


def slice_mask(shape: Sequence[int], slices: Mapping[int, Sequence[int]]) -> np.ndarray:
    """Boolean mask of ``shape``, True on every listed slice (``{axis: [index, ...]}``)."""
    mask = np.zeros(shape, dtype=bool)
    for axis, indices in slices.items():
        index = [slice(None)] * len(shape)
        index[axis] = np.asarray(indices, dtype=int)
        mask[tuple(index)] = True
    return mask


def anatomical_axes(direction: Sequence[float]) -> dict[str, int]:
    """Map plane names (sagittal, coronal, axial) to array axes of a (z, y, x) array.

    Args:
        direction: SimpleITK's row-major 3x3 direction matrix; column i is the world (LPS)
            direction of image index axis i, and array axis ``2 - i`` is image axis i.

    Returns:
        ``{"axial": a, ...}``: slicing the array along ``a`` gives that plane. Oblique
        volumes are assigned by the largest direction component.
    """
    matrix = np.abs(np.asarray(direction, dtype=float).reshape(3, 3))
    axes = {}
    for plane, world in _PLANE_NORMALS.items():
        image_axis = int(np.argmax(matrix[world]))
        axes[plane] = 2 - image_axis
    if len(set(axes.values())) != 3:
        raise ValueError(f"direction {tuple(direction)} is too oblique to name the anatomical planes; give --axes")
    return axes
