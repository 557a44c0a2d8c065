"""Scribble simulation (ScribbleBench's protocol) on synthetic volumes and the real hippocampus sample.

Reference values come from scipy's distance transform, brute-force distances and the dense labels,
not from the code under test."""

import json

import numpy as np
import pytest
from matplotlib.image import imread
from scipy import ndimage

from nnunet_weak.annotations.scribbles import (
    INSET_BEYOND_BRUSH,
    LENGTH_SHARE,
    scribble_slices,
    scribbles_to_label_map,
    simulate_scribbles,
    slice_scribbles,
)
from nnunet_weak.cli import main
from nnunet_weak.dataset import RawDataset, read_image
from nnunet_weak.derive import case_rng


def shapes_volume(depth: int = 4) -> np.ndarray:
    """Slices with a ring (1, with a background hole), a thin C (2) and a disk cut by the frame (3)."""
    yy, xx = np.mgrid[:48, :72]
    plane = np.zeros((48, 72), np.int16)
    r = np.hypot(yy - 24, xx - 18)
    plane[(r < 15) & (r >= 7)] = 1
    r2 = np.hypot(yy - 24, xx - 50)
    plane[(r2 < 11) & (r2 >= 8) & (xx < 56)] = 2
    plane[np.hypot(yy - 47, xx - 71) < 9] = 3
    return np.repeat(plane[None], depth, axis=0)


def depth_mm(region: np.ndarray, spacing=(1.0, 1.0)) -> np.ndarray:
    """mm from each voxel of ``region`` to the nearest voxel outside it within the slice."""
    return ndimage.distance_transform_edt(region, sampling=spacing)


def path_mm(voxels: np.ndarray, spacing) -> float:
    return float(np.linalg.norm(np.diff(voxels, axis=0) * np.asarray(spacing), axis=1).sum())


def in_plane(dense: np.ndarray, s) -> np.ndarray:
    return np.take(dense, s.index, axis=s.axis)


@pytest.mark.parametrize("thickness", [3, 7])
def test_interior_strokes_stay_inside_their_class_on_rings_and_thin_shapes(thickness):
    dense = shapes_volume()
    for seed in range(10):  # a few of these curves leave the ring or the C and are cut back
        scribbles = simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(seed), thickness=thickness)
        for s in scribbles:
            plane = in_plane(dense, s)
            assert np.all(plane[tuple(s.pixels.T)] == s.label), (seed, s.label, s.kind)
            assert np.all(plane[tuple(s.centreline.T)] == s.label)
        interior = [s for s in scribbles if s.kind == "interior"]
        assert {s.label for s in interior} == {0, 1, 2, 3}


def test_background_gets_an_interior_and_a_boundary_stroke_in_background():
    dense = shapes_volume(depth=2)
    scribbles = simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(0))
    background = [s for s in scribbles if s.label == 0]
    assert sorted((s.index, s.kind) for s in background) == [(0, "boundary"), (0, "interior"),
                                                             (1, "boundary"), (1, "interior")]
    for s in background:
        assert np.all(in_plane(dense, s)[tuple(s.pixels.T)] == 0)


@pytest.mark.parametrize("thickness", [1, 3, 5])
def test_boundary_strokes_lie_in_the_band_just_inside_the_edge(thickness):
    plane = np.zeros((60, 80), np.int16)
    plane[10:50, 12:68] = 1  # 40 x 56 voxels, far from the frame
    region = plane == 1
    depth = depth_mm(region)
    radius = (thickness - 1) // 2
    low, high = radius + INSET_BEYOND_BRUSH[0], radius + INSET_BEYOND_BRUSH[1]
    for seed in range(6):
        [boundary] = [s for s in slice_scribbles(plane, (1.0, 1.0), np.random.default_rng(seed), thickness)
                      if s.kind == "boundary" and s.label == 1]
        line_depth = depth[tuple(boundary.centreline.T)]
        assert line_depth.min() >= low and line_depth.max() <= high + 1  # pulled inside, not deep
        assert depth[tuple(boundary.pixels.T)].max() <= high + radius + 1
        steps = np.abs(np.diff(boundary.centreline, axis=0)).max(axis=1)
        assert np.all(steps == 1)  # one contiguous stroke
        # the eroded rectangle's contour: 2 (h + w) voxel steps, eroded by `low` to `high` voxels
        longest, shortest = 2 * (40 + 56 - 4 * low), 2 * (40 + 56 - 4 * high)
        assert LENGTH_SHARE[0] * shortest - 2 <= boundary.length_mm <= LENGTH_SHARE[1] * longest + 2


def test_boundary_stroke_never_runs_along_the_slice_frame():
    plane = np.zeros((40, 60), np.int16)
    plane[:, :30] = 1  # touches the frame on three sides; its only real edge is column 29
    for seed in range(8):
        for s in slice_scribbles(plane, (1.0, 1.0), np.random.default_rng(seed), 3):
            if s.kind == "boundary":
                distance_to_edge = np.where(s.label == 1, 29 - s.centreline[:, 1], s.centreline[:, 1] - 30)
                assert distance_to_edge.max() <= 1 + 3 + 1, (seed, s.label)


def test_a_class_without_an_edge_in_the_slice_gets_its_interior_stroke_only():
    only_background = np.zeros((30, 30), np.int16)
    strokes = slice_scribbles(only_background, (1.0, 1.0), np.random.default_rng(0))
    assert [(s.label, s.kind) for s in strokes] == [(0, "interior")]
    assert len(strokes[0].pixels) > 0


@pytest.mark.parametrize("thickness", [1, 3, 5])
def test_thickness_is_the_brush_diameter_in_voxels(thickness):
    plane = np.zeros((50, 50), np.int16)
    plane[5:45, 5:45] = 1
    radius = (thickness - 1) // 2
    for s in slice_scribbles(plane, (1.0, 1.0), np.random.default_rng(1), thickness):
        region = plane == s.label
        # brute force: every voxel of the class within `radius` voxels of the centreline is painted
        grid = np.argwhere(region)
        near = np.min(np.linalg.norm(grid[:, None, :] - s.centreline[None], axis=2), axis=1) <= radius
        expected = {tuple(p) for p in grid[near]}
        assert {tuple(p) for p in s.pixels} == expected, (s.label, s.kind)


def test_anisotropic_spacing_keeps_the_brush_round_and_lengths_in_mm():
    dense = np.zeros((4, 60, 40), np.int16)
    dense[:, 8:52, 6:34] = 1
    spacing = (2.5, 0.4, 1.2)  # slices along axis 0: rows 0.4 mm, columns 1.2 mm
    scribbles = simulate_scribbles(dense, spacing, np.random.default_rng(0), axes=(0,), thickness=7)
    radius_mm = 3 * 0.4
    ours = theirs = 0.0
    for s in scribbles:
        region = in_plane(dense, s) == s.label
        grid = np.argwhere(region)
        mm = np.linalg.norm((grid[:, None, :] - s.centreline[None]) * np.array([0.4, 1.2]), axis=2)
        expected = {tuple(p) for p in grid[mm.min(axis=1) <= radius_mm + 1e-9]}
        assert {tuple(p) for p in s.pixels} == expected  # 7 voxels of 0.4 mm across in rows, 3 of 1.2 mm in columns
        ours += s.length_mm
        theirs += path_mm(s.centreline, (0.4, 1.2))
    assert 0.85 <= ours / theirs <= 1.15
    assert scribble_slices(scribbles) == {0: [0, 1, 2, 3]}


def test_each_stroke_length_is_that_of_its_voxel_path_in_mm(sample_readonly):
    dense, geometry = sample_readonly.read_label(sample_readonly.cases()[1])
    scribbles = simulate_scribbles(dense, geometry.spacing_zyx, np.random.default_rng(0), axes=(0, 1))
    long = [s for s in scribbles if len(s.centreline) >= 8]
    assert len(long) > 50
    ratios = np.array([s.length_mm / path_mm(s.centreline, [sp for a, sp in enumerate(geometry.spacing_zyx)
                                                            if a != s.axis]) for s in long])
    # a smooth curve is a little longer or shorter than its voxel path; where it folds back within a
    # voxel or two (a few interior strokes) the voxels cannot show the fold
    assert np.mean((ratios >= 0.85) & (ratios <= 1.2)) >= 0.9
    paths = sum(s.length_mm / r for s, r in zip(long, ratios, strict=True))
    assert 0.9 <= sum(s.length_mm for s in long) / paths <= 1.15


def test_same_seed_gives_the_same_scribbles_and_another_seed_others():
    dense = shapes_volume()

    def run(seed):
        scribbles = simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(seed), axes=(0, 2),
                                       slice_share=0.5)
        return scribbles_to_label_map(dense.shape, scribbles, 4), [s.length_mm for s in scribbles]

    first, again, other = run(7), run(7), run(8)
    assert np.array_equal(first[0], again[0]) and first[1] == again[1]
    assert not np.array_equal(first[0], other[0])


def test_every_class_gets_both_strokes_on_every_slice_of_each_chosen_axis(sample_readonly):
    dense, geometry = sample_readonly.read_label(sample_readonly.cases()[0])
    scribbles = simulate_scribbles(dense, geometry.spacing_zyx, np.random.default_rng(2), axes=(0, 2))
    weak = scribbles_to_label_map(dense.shape, scribbles, 3)
    for axis in (0, 2):
        for index in range(dense.shape[axis]):
            plane = np.take(dense, index, axis=axis)
            got = sorted((s.label, s.kind) for s in scribbles if (s.axis, s.index) == (axis, index))
            # a class filling the whole slice has no edge in it, so no boundary stroke
            expected = sorted([(int(c), "interior") for c in np.unique(plane)]
                              + [(int(c), "boundary") for c in np.unique(plane) if not np.all(plane == c)])
            assert got == expected, (axis, index)
            written = np.take(weak, index, axis=axis)
            assert set(np.unique(written[written != 3])) >= set(np.unique(plane))


def test_slice_share_spreads_the_budget_over_the_axis():
    dense = shapes_volume(depth=40)
    for share, count in ((0.25, 10), (0.1, 4), (0.001, 1), (1.0, 40)):
        scribbles = simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(3), slice_share=share)
        slices = scribble_slices(scribbles)[0]
        assert len(slices) == count
        assert count == 1 or np.ptp(np.diff(slices)) <= 1  # evenly spaced
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="slice share"):
            simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(0), slice_share=bad)
    with pytest.raises(ValueError, match="odd"):
        simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(0), thickness=4)


def test_label_map_keeps_true_labels_on_the_strokes_and_ignore_elsewhere():
    dense = shapes_volume()
    scribbles = simulate_scribbles(dense, (1.0, 1.0, 1.0), np.random.default_rng(0), axes=(0, 1))
    weak = scribbles_to_label_map(dense.shape, scribbles, 4)
    painted = np.zeros(dense.shape, bool)
    for s in scribbles:
        index = [slice(None)] * 3
        index[s.axis] = s.index
        plane = np.zeros(np.take(dense, 0, axis=s.axis).shape, bool)
        plane[tuple(s.pixels.T)] = True
        painted[tuple(index)] |= plane
    assert np.array_equal(weak != 4, painted)
    assert np.array_equal(weak[painted], dense[painted])


def test_cli_writes_a_scribble_dataset_whose_sidecar_prices_the_written_strokes(sample, tmp_path, capsys):
    out = tmp_path / "Dataset404_Scribbles"
    assert main(["scribbles", "-i", str(sample.folder), "-o", str(out), "--axes", "0", "--slice-share", "0.5",
                 "--thickness", "3", "--seed", "5"]) == 0
    assert "scribbles" in capsys.readouterr().out
    weak = RawDataset(out)
    assert weak.dataset_json["labels"]["ignore"] == 3
    sidecar = json.loads((out / "annotation.json").read_text())
    assert sidecar["kind"] == "scribbles"
    assert sidecar["parameters"] == {"protocol": "scribblebench", "axes": [0], "orientations": None,
                                     "slice_share": 0.5, "thickness": 3}
    for case in sample.cases():
        dense, geometry = sample.read_label(case)
        written = read_image(weak.label_file(case))[0]
        record = sidecar["cases"][case]
        annotated = written != 3
        assert record["annotated_voxels"] == annotated.sum()
        assert np.array_equal(written[annotated], dense[annotated])
        assert record["scribble_slices"]["0"] == np.flatnonzero(annotated.any(axis=(1, 2))).tolist()
        assert len(record["scribble_slices"]["0"]) == round(0.5 * dense.shape[0])
        # the counts price exactly the strokes that were written
        strokes = simulate_scribbles(dense, geometry.spacing_zyx, case_rng(5, case), (0,), 0.5, 3, classes=[0, 1, 2])
        assert np.array_equal(scribbles_to_label_map(dense.shape, strokes, 3), written)
        assert record["scribbles"] == len(strokes) > 0
        assert record["scribble_length_mm"] == pytest.approx(sum(s.length_mm for s in strokes), abs=1e-3)
        expected_count = sum(1 + (not np.all(dense[i] == c)) for i in record["scribble_slices"]["0"]
                             for c in np.unique(dense[i]))
        assert record["scribbles"] == expected_count
    totals = sidecar["totals"]
    assert totals["scribbles"] == sum(r["scribbles"] for r in sidecar["cases"].values())
    assert totals["scribble_length_mm"] == pytest.approx(sum(r["scribble_length_mm"]
                                                             for r in sidecar["cases"].values()), abs=1e-2)
    assert totals["slices"] == 0  # scribbled slices are not fully annotated slices

    case = sample.cases()[0]
    assert main(["show", "-i", str(out), "--dense", str(sample.folder), "--cases", case,
                 "-o", str(tmp_path / "png")]) == 0
    # 3 columns (image, truth, weak) x 6 rows (2 slices x 3 axes), 2.2 in per panel at 80 dpi
    assert imread(tmp_path / "png" / f"{case}.png").shape[:2] == (int(6 * 2.2 * 80), int(3 * 2.2 * 80))


def test_cli_rejects_an_even_thickness_before_writing_anything(sample, tmp_path, capsys):
    out = tmp_path / "Dataset405_Bad"
    assert main(["scribbles", "-i", str(sample.folder), "-o", str(out), "--thickness", "4"]) == 2
    assert "--thickness" in capsys.readouterr().err and not out.exists()
