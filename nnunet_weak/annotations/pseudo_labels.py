"""Pseudo labels: fill a weak label map's ``ignore`` voxels with a trained network's confident predictions.

Self-training, the semi-supervised recipe most often used with nnU-Net: train on what people
labelled, predict what they did not (``nnUNetv2_predict --save_probabilities``), keep the
predictions where the network is sure and train again. Human labels always win; where the
network's largest class probability is below ``confidence`` the voxel stays ``ignore``.
"""

from __future__ import annotations

import numpy as np


def check_confidence(confidence: float) -> None:
    """Raise ValueError unless 0 < confidence <= 1."""
    if not 0 < confidence <= 1:
        raise ValueError(f"confidence must lie in (0, 1], got {confidence}")


def fill_ignore_with_predictions(weak: np.ndarray, probabilities: np.ndarray, ignore_label: int,
                                 confidence: float) -> tuple[np.ndarray, int]:
    """Return the filled label map and how many voxels got a pseudo label.

    Args:
        weak: label map (z, y, x) with ``ignore_label`` where nobody annotated.
        probabilities: softmax output (classes, z, y, x) on the same grid; channel ``c`` is label ``c``
            (nnU-Net's order for label-based datasets).
        ignore_label: the ``ignore`` value of ``weak``.
        confidence: a voxel is filled when its largest class probability is at least this.
    """
    check_confidence(confidence)
    if probabilities.ndim != weak.ndim + 1 or probabilities.shape[1:] != weak.shape:
        raise ValueError(f"probabilities of shape {probabilities.shape} do not fit the label map's {weak.shape}; "
                         "predict on the dataset's own images (imagesTr) with --save_probabilities")
    if probabilities.shape[0] > ignore_label:
        raise ValueError(f"the network predicts {probabilities.shape[0]} classes but the ignore label is "
                         f"{ignore_label}; predict with a network trained on this dataset's classes")
    total = probabilities.sum(axis=0, dtype=np.float64)
    if not np.allclose(total, 1.0, atol=1e-2):
        raise ValueError(f"probabilities do not sum to 1 per voxel (range {total.min():.3f}-{total.max():.3f}); "
                         "give nnU-Net's softmax output (the .npz files of --save_probabilities)")
    fill = (weak == ignore_label) & (probabilities.max(axis=0) >= confidence)
    out = weak.copy()
    out[fill] = probabilities.argmax(axis=0)[fill]
    return out, int(np.count_nonzero(fill))
