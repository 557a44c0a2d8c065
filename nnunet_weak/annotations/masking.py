"""Label maps with nnU-Net's ``ignore`` value where nothing was annotated."""

from __future__ import annotations

import numpy as np


def weak_label_map(dense: np.ndarray, annotated: np.ndarray, ignore_label: int) -> np.ndarray:
    """Keep ``dense`` where ``annotated`` is True and write ``ignore_label`` elsewhere.

    Args:
        dense: integer label map, any shape.
        annotated: boolean mask of the same shape (True = an annotator labelled this voxel).
        ignore_label: nnU-Net's ``ignore`` value (one above the highest class).
    """
    if dense.shape != annotated.shape:
        raise ValueError(f"label map {dense.shape} and annotation mask {annotated.shape} differ in shape")
    out = np.full(dense.shape, ignore_label, dtype=np.result_type(dense.dtype, np.min_scalar_type(ignore_label)))
    out[annotated] = dense[annotated]
    return out


def annotated_slices(annotated: np.ndarray) -> dict[int, list[int]]:
    """Per axis, the indices of slices that are annotated completely.

    Used to describe users' own sparse label maps: a slice drawn in a viewer is a plane with
    no unannotated voxel. Returns ``{axis: [index, ...]}`` for axes with at least one such slice.
    """
    slices = {}
    for axis in range(annotated.ndim):
        other = tuple(a for a in range(annotated.ndim) if a != axis)
        full = np.flatnonzero(annotated.all(axis=other))
        if 0 < full.size < annotated.shape[axis]:
            slices[axis] = full.tolist()
    return slices
