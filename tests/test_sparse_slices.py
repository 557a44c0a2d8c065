import numpy as np
import pytest

from nnunet_weak.annotations import anatomical_axes, annotated_slices, choose_slices, slice_mask, weak_label_map


def test_every_kth_slice_starts_at_random_offset_within_stride():
    offsets = set()
    for seed in range(40):
        s = choose_slices(35, np.random.default_rng(seed), every=12)
        assert np.all(np.diff(s) == 12)
        assert 0 <= s[0] < 12 and s[-1] < 35 and s[-1] + 12 >= 35
        offsets.add(int(s[0]))
    assert len(offsets) > 5


def test_count_gives_that_many_distinct_evenly_spaced_slices():
    s = choose_slices(50, np.random.default_rng(3), count=4)
    assert len(s) == 4 and len(set(s.tolist())) == 4
    assert np.all((np.diff(s) >= 12) & (np.diff(s) <= 13))
    assert 0 <= s[0] < 12.5 and s[-1] < 50


def test_same_seed_same_slices_other_seed_may_differ():
    a = choose_slices(40, np.random.default_rng(7), count=3)
    b = choose_slices(40, np.random.default_rng(7), count=3)
    assert a.tolist() == b.tolist()
    assert any(choose_slices(40, np.random.default_rng(s), count=3).tolist() != a.tolist() for s in range(8, 20))


@pytest.mark.parametrize("kwargs", [{"count": 36}, {"count": 0}, {"every": 0}, {}, {"count": 2, "every": 3}])
def test_impossible_slice_requests_raise(kwargs):
    with pytest.raises(ValueError):
        choose_slices(35, np.random.default_rng(0), **kwargs)


def test_slice_mask_matches_brute_force():
    shape = (5, 6, 7)
    slices = {0: [1, 3], 2: [6]}
    mask = slice_mask(shape, slices)
    for z, y, x in np.ndindex(shape):
        assert mask[z, y, x] == (z in (1, 3) or x == 6)


def test_weak_label_map_keeps_annotated_and_ignores_rest():
    dense = np.arange(24).reshape(2, 3, 4) % 3
    annotated = np.zeros_like(dense, bool)
    annotated[1] = True
    weak = weak_label_map(dense, annotated, 3)
    assert np.array_equal(weak[1], dense[1]) and np.all(weak[0] == 3)


def test_annotated_slices_finds_complete_planes_only():
    annotated = np.zeros((4, 5, 6), bool)
    annotated[2] = True
    annotated[:, :, 1] = True
    annotated[0, 0, 0] = True  # a stray voxel is no slice
    assert annotated_slices(annotated) == {0: [2], 2: [1]}


def test_anatomical_axes_identity_and_permuted_directions():
    assert anatomical_axes((1, 0, 0, 0, 1, 0, 0, 0, 1)) == {"sagittal": 2, "coronal": 1, "axial": 0}
    assert anatomical_axes((-1, 0, 0, 0, -1, 0, 0, 0, 1)) == {"sagittal": 2, "coronal": 1, "axial": 0}
    # image axis 0 runs along world z (S-I), axis 1 along x, axis 2 along y
    permuted = (0, 1, 0, 0, 0, 1, 1, 0, 0)
    assert anatomical_axes(permuted) == {"sagittal": 1, "coronal": 0, "axial": 2}
