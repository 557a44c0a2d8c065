"""Signed distance maps against SciPy's Euclidean distance transform, computed independently."""

import numpy as np
import pytest
from scipy import ndimage

from nnunet_weak.distance_maps import class_signed_distances, signed_distance


def brute_distance(points_from, points_to, spacing):
    d = (points_from[:, None, :] - points_to[None, :, :]) * np.asarray(spacing)
    return np.sqrt((d**2).sum(-1)).min(axis=1)


def test_signs_border_and_range_on_a_ball():
    z, y, x = np.mgrid[:15, :15, :15]
    ball = (z - 7) ** 2 + (y - 7) ** 2 + (x - 7) ** 2 <= 16
    sdf = signed_distance(ball)
    border = ball & ~ndimage.binary_erosion(ball)
    assert np.all(sdf[border] == 0) and np.all(sdf[ball & ~border] < 0) and np.all(sdf[~ball] > 0)
    assert sdf.min() == pytest.approx(-1) and sdf.max() == pytest.approx(1)


def test_values_match_brute_force_distances_with_anisotropic_spacing():
    mask = np.zeros((6, 9, 8), bool)
    mask[2:5, 3:7, 2:6] = True
    spacing = (2.5, 1.0, 0.8)
    sdf = signed_distance(mask, spacing)
    inside, outside = np.argwhere(mask), np.argwhere(~mask)
    d_out = brute_distance(outside, inside, spacing)  # background voxel -> nearest object voxel
    d_in = brute_distance(inside, outside, spacing)  # object voxel -> nearest background voxel
    assert np.allclose(sdf[~mask], d_out / d_out.max(), atol=1e-6)
    border = mask & ~ndimage.binary_erosion(mask)
    expected_in = -d_in / d_in.max()
    assert np.allclose(sdf[mask & ~border], expected_in[~border[mask]], atol=1e-6)


def test_empty_and_full_masks():
    assert np.all(signed_distance(np.zeros((4, 5, 6), bool)) == 1)
    assert np.all(signed_distance(np.ones((4, 5, 6), bool)) == -1)


def test_one_map_per_class():
    labels = np.zeros((5, 5, 5), np.int16)
    labels[1:4, 1:4, 1:4] = 1
    maps = class_signed_distances(labels, [1, 2])
    assert maps.shape == (2, 5, 5, 5) and np.all(maps[1] == 1) and maps[0].min() < 0
