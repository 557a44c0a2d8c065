"""Geodesic distance against an exact Dijkstra on the 26-neighbour graph, and click expansion."""

import numpy as np
import pytest
from geodesic_oracle import geodesic_distance_dijkstra
from scipy import ndimage

from nnunet_weak.annotations import seven_point_clicks
from nnunet_weak.annotations.geodesic import geodesic_distance, normalise_intensities
from nnunet_weak.annotations.point_expansion import expand_clicks


@pytest.fixture()
def noisy_volume():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(12, 14, 10)).astype(np.float32) * 0.3
    image[4:9, 3:11, 2:8] += 2.0
    seeds = np.zeros(image.shape, bool)
    seeds[6, 7, 5] = True
    return image, seeds


@pytest.mark.parametrize("lam", [0.5, 1.0])
def test_sweeps_converge_to_exact_geodesic_distance(noisy_volume, lam):
    image, seeds = noisy_volume
    spacing = (1.5, 1.0, 0.8)
    exact = geodesic_distance_dijkstra(image, seeds, spacing, lam)
    approx = geodesic_distance(image, seeds, spacing, lam, iterations=4)
    off = exact > 0
    relative = (approx[off] - exact[off]) / exact[off]
    assert relative.min() > -1e-5  # sweeps follow real paths: never shorter than the shortest
    assert relative.mean() < 0.01 and np.percentile(relative, 99) < 0.05


@pytest.mark.parametrize("shape", [(1, 9, 7), (6, 1, 8), (5, 7, 1), (1, 1, 6)])
def test_sweeps_on_volumes_one_voxel_thin(shape):
    """A box one voxel thick along an axis (a click box on a thin structure) has no slice to sweep
    from along that axis; the other axes must still find the shortest paths."""
    rng = np.random.default_rng(1)
    image = rng.normal(size=shape).astype(np.float32)
    seeds = np.zeros(shape, bool)
    seeds[tuple(s // 2 for s in shape)] = True
    exact = geodesic_distance_dijkstra(image, seeds, (2.0, 1.0, 0.7), 0.5)
    approx = geodesic_distance(image, seeds, (2.0, 1.0, 0.7), 0.5, iterations=4)
    np.testing.assert_allclose(approx, exact, rtol=1e-4, atol=1e-5)


def test_benchmark_reference_agrees_with_the_exact_dijkstra():
    """benchmarks/geodistk_compare.py scores accuracy against scipy's compiled Dijkstra on the same
    graph (fast enough for its larger boxes); on a small box it must equal the exact reference."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "geodistk_compare.py"
    spec = importlib.util.spec_from_file_location("geodistk_compare", path)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    rng = np.random.default_rng(2)
    image = normalise_intensities(rng.normal(size=(8, 10, 9)).astype(np.float32))
    seeds = np.zeros(image.shape, bool)
    seeds[4, 5, 4] = True
    np.testing.assert_allclose(compare.exact_geodesic(image, seeds),
                               geodesic_distance_dijkstra(image, seeds, normalise=False), rtol=1e-4)


def test_lambda_zero_is_the_euclidean_chamfer_distance(noisy_volume):
    image, seeds = noisy_volume
    d = geodesic_distance(image, seeds, (1.0, 1.0, 1.0), lam=0.0, iterations=1)
    # along an axis the path is straight: exact Euclidean distance
    assert d[6, 7, 0] == pytest.approx(5.0) and d[0, 7, 5] == pytest.approx(6.0)
    assert d[6 + 3, 7 + 3, 5 + 3] == pytest.approx(3 * np.sqrt(3), rel=1e-5)


def test_rescaled_scan_gives_the_same_distances(noisy_volume):
    image, seeds = noisy_volume
    a = geodesic_distance(image, seeds, lam=0.5)
    b = geodesic_distance(image * 250.0 + 1000.0, seeds, lam=0.5)
    assert np.allclose(a, b, rtol=1e-4)


def test_bad_arguments_raise(noisy_volume):
    image, seeds = noisy_volume
    with pytest.raises(ValueError, match="no seed"):
        geodesic_distance(image, np.zeros_like(seeds))
    with pytest.raises(ValueError, match="lambda"):
        geodesic_distance(image, seeds, lam=2.0)


def test_expansion_of_real_clicks_is_mostly_right_and_bounded(sample_readonly):
    from nnunet_weak.dataset import read_image

    case = sample_readonly.cases()[0]
    dense, geometry = sample_readonly.read_label(case)
    image, _ = read_image(sample_readonly.image_files(case)[0])
    clicks = seven_point_clicks(dense, [1, 2], np.random.default_rng(0))
    labels = expand_clicks(image, clicks, ignore_label=3, spacing=geometry.spacing_zyx)  # PA-Seg's 0.2
    for click in clicks:
        assert labels[click.index] == dense[click.index]
    known = labels != 3
    assert 0.5 < known.mean() < 1.0  # most voxels lie outside every box; the boxes stay partly unknown
    assert (labels[known] == dense[known]).mean() > 0.95
    assert (dense[labels == 0] == 0).mean() > 0.99  # background: outside all boxes
    # a tighter threshold claims less foreground, more of it right (measured 0.79-0.87 on this sample)
    tight = expand_clicks(image, clicks, ignore_label=3, spacing=geometry.spacing_zyx, threshold=0.1)
    for cls in (1, 2):
        assert 0 < (tight == cls).sum() < (labels == cls).sum()
    claimed = (tight == 1) | (tight == 2)
    assert (tight[claimed] == dense[claimed]).mean() > 0.75
    # the outside clicks as competing seeds: only ever fewer foreground claims, and more of them right
    # (measured on this case: 46 % -> 70 % of the claimed voxels right, on all 8 sample cases it rises)
    competed = expand_clicks(image, clicks, ignore_label=3, spacing=geometry.spacing_zyx, outside_seeds=True)
    before = (labels == 1) | (labels == 2)
    after = (competed == 1) | (competed == 2)
    assert after.sum() > 0 and not (after & ~before).any()
    assert (competed[after] == dense[after]).mean() > (labels[before] == dense[before]).mean() + 0.1


def test_background_threshold_labels_far_box_voxels_as_background(sample_readonly):
    from nnunet_weak.dataset import read_image

    case = sample_readonly.cases()[0]
    dense, geometry = sample_readonly.read_label(case)
    image, _ = read_image(sample_readonly.image_files(case)[0])
    clicks = seven_point_clicks(dense, [1, 2], np.random.default_rng(0))
    plain = expand_clicks(image, clicks, ignore_label=3, spacing=geometry.spacing_zyx)
    boxed = expand_clicks(image, clicks, ignore_label=3, spacing=geometry.spacing_zyx, background_threshold=0.4)
    # foreground claims are untouched; only ignore voxels inside the boxes turn into background
    assert np.array_equal(plain == 1, boxed == 1) and np.array_equal(plain == 2, boxed == 2)
    added = (boxed == 0) & (plain != 0)
    assert (plain[added] == 3).all()
    assert added.sum() > 0.2 * (plain == 3).sum()
    # far from every inside click is nearly always background (measured 0.958 on this case)
    assert (dense[added] == 0).mean() > 0.93
    # a looser background threshold claims a subset of the tighter one's background
    loose = expand_clicks(image, clicks, ignore_label=3, spacing=geometry.spacing_zyx, background_threshold=0.7)
    assert not ((loose == 0) & (boxed != 0)).any() and ((loose == 0).sum() < (boxed == 0).sum())
    with pytest.raises(ValueError, match="background_threshold"):
        expand_clicks(image, clicks, ignore_label=3, background_threshold=0.1)


def test_expansion_needs_bounding_clicks():
    labels = np.zeros((10, 10, 10), np.int16)
    labels[3:6, 3:6, 3:6] = 1
    clicks = [c for c in seven_point_clicks(labels, [1], np.random.default_rng(0)) if c.role == "inside"]
    with pytest.raises(ValueError, match="no outside click"):
        expand_clicks(np.zeros((10, 10, 10), np.float32), clicks, ignore_label=2)


def test_competing_objects_take_the_closer_claim():
    image = np.zeros((9, 9, 20), np.float32)
    labels = np.zeros(image.shape, np.int16)
    labels[2:7, 2:7, 2:9] = 1
    labels[2:7, 2:7, 9:17] = 2
    clicks = seven_point_clicks(labels, [1, 2], np.random.default_rng(0), margin=2)
    out = expand_clicks(image, clicks, ignore_label=3, threshold=0.5)
    centre_1, centre_2 = ndimage.center_of_mass(labels == 1), ndimage.center_of_mass(labels == 2)
    assert out[tuple(int(round(c)) for c in centre_1)] == 1 and out[tuple(int(round(c)) for c in centre_2)] == 2
