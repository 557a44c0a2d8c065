"""Metrics against brute-force references computed from explicit point sets."""

import numpy as np
import pytest

from nnunet_weak.evaluation.metrics import dice, hd95, surface_dice, volume_ratio


def border_points(mask):
    pts = []
    for idx in np.argwhere(mask):
        neighbours = [tuple(np.add(idx, d)) for d in np.ndindex(3, 3, 3)]
        neighbours = [tuple(np.subtract(n, 1)) for n in neighbours]
        if any(min(n) < 0 or any(n[i] >= mask.shape[i] for i in range(3)) or not mask[n] for n in neighbours):
            pts.append(idx)
    return np.array(pts, float)


def brute_distances(a, b, spacing):
    pa, pb = border_points(a) * spacing, border_points(b) * spacing
    d = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(-1))
    return d.min(axis=1), d.min(axis=0)


@pytest.fixture()
def masks():
    rng = np.random.default_rng(0)
    a = np.zeros((12, 14, 10), bool)
    b = np.zeros_like(a)
    a[2:9, 3:11, 2:8] = True
    b[3:10, 4:12, 1:7] = True
    b[rng.random(b.shape) < 0.03] = True
    return a, b


def test_dice_matches_hand_count(masks):
    a, b = masks
    assert dice(a, b) == pytest.approx(2 * (a & b).sum() / (a.sum() + b.sum()))
    assert dice(a, a) == 1.0


def test_hd95_matches_brute_force_with_anisotropic_spacing(masks):
    a, b = masks
    spacing = np.array([2.0, 0.7, 1.3])
    dab, dba = brute_distances(a, b, spacing)
    assert hd95(a, b, spacing) == pytest.approx(max(np.percentile(dab, 95), np.percentile(dba, 95)))


def test_surface_dice_matches_brute_force(masks):
    a, b = masks
    spacing = np.array([1.0, 1.0, 2.0])
    dab, dba = brute_distances(a, b, spacing)
    expected = ((dab <= 1.5).sum() + (dba <= 1.5).sum()) / (len(dab) + len(dba))
    assert surface_dice(a, b, spacing, 1.5) == pytest.approx(expected)


def test_empty_mask_conventions():
    empty, full = np.zeros((4, 4, 4), bool), np.ones((4, 4, 4), bool)
    assert dice(empty, empty) == 1.0 and hd95(empty, empty, (1, 1, 1)) == 0.0
    assert surface_dice(empty, empty, (1, 1, 1)) == 1.0
    assert dice(empty, full) == 0.0 and np.isnan(hd95(empty, full, (1, 1, 1)))
    assert surface_dice(full, empty, (1, 1, 1)) == 0.0
    assert np.isnan(volume_ratio(full, empty)) and volume_ratio(empty, full) == 0.0


def test_volume_ratio_counts_predicted_over_true_voxels():
    ref = np.zeros((4, 4, 4), bool)
    ref[:2] = True  # 32 voxels
    pred = np.zeros_like(ref)
    pred[:3] = True  # 48 voxels, 32 of them right
    assert volume_ratio(pred, ref) == 1.5 and volume_ratio(ref, pred) == pytest.approx(2 / 3)
