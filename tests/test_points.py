import json

import numpy as np
import pytest
from scipy import ndimage

from nnunet_weak.annotations import (
    Click,
    clicks_from_point_map,
    clicks_from_slicer_markups,
    clicks_to_label_map,
    seven_point_clicks,
)


def test_box_object_gets_centre_click_and_six_clicks_beyond_each_face():
    labels = np.zeros((20, 20, 20), np.int16)
    labels[5:10, 6:13, 8:11] = 1  # centre (7, 9, 9)
    clicks = seven_point_clicks(labels, [1], np.random.default_rng(0), margin=2)
    by_role = {c.role: c.index for c in clicks}
    assert by_role == {"inside": (7, 9, 9), "-z": (3, 9, 9), "+z": (11, 9, 9), "-y": (7, 4, 9),
                       "+y": (7, 14, 9), "-x": (7, 9, 6), "+x": (7, 9, 12)}
    assert all(c.label == (1 if c.role == "inside" else 0) for c in clicks)


def test_real_case_clicks_are_inside_and_just_outside_each_object(sample_readonly):
    dense, _ = sample_readonly.read_label(sample_readonly.cases()[0])
    clicks = seven_point_clicks(dense, [1, 2], np.random.default_rng(0), margin=2)
    for cls in (1, 2):
        components, n = ndimage.label(dense == cls, structure=np.ones((3, 3, 3)))
        inside = [c for c in clicks if c.role == "inside" and c.object_class == cls]
        assert len(inside) == n
    for click in clicks:
        assert click.label == dense[click.index]  # what an annotator sees under the click
        if click.role == "inside":
            assert dense[click.index] == click.object_class
        else:
            obj = [c for c in clicks if c.object_id == click.object_id and c.role == "inside"][0]
            axis = "zyx".index(click.role[1])
            mask = ndimage.label(dense == obj.object_class, structure=np.ones((3, 3, 3)))[0]
            extent = np.argwhere(mask == mask[obj.index])[:, axis]
            beyond = click.index[axis] < extent.min() if click.role[0] == "-" else click.index[axis] > extent.max()
            assert beyond or click.index[axis] in (0, dense.shape[axis] - 1)


def test_object_touching_border_drops_the_click_that_would_land_on_it():
    labels = np.zeros((10, 10, 10), np.int16)
    labels[0:4, 3:6, 3:6] = 1
    roles = {c.role for c in seven_point_clicks(labels, [1], np.random.default_rng(0))}
    assert "-z" not in roles and "+z" in roles and len(roles) == 6


def test_jitter_stays_inside_object_and_depends_on_seed():
    labels = np.zeros((30, 30, 30), np.int16)
    labels[5:25, 5:25, 5:25] = 1
    picks = {seven_point_clicks(labels, [1], np.random.default_rng(s), jitter=3)[0].index for s in range(10)}
    assert len(picks) > 1
    centre = (14.5, 14.5, 14.5)
    assert all(labels[p] == 1 and np.linalg.norm(np.subtract(p, centre)) <= 3 + np.sqrt(3) / 2 for p in picks)


def test_click_label_map_is_ignore_except_clicks():
    clicks = [Click((1, 2, 3), 2, 2, 0, "inside"), Click((0, 0, 0), 0, 2, 0, "-z")]
    m = clicks_to_label_map((4, 4, 4), clicks, 3)
    assert m[1, 2, 3] == 2 and m[0, 0, 0] == 0 and np.count_nonzero(m != 3) == 2


def test_point_map_clicks_attach_background_to_nearest_object():
    pm = np.zeros((10, 10, 10), np.int16)
    pm[2, 2, 2], pm[8, 8, 8] = 1, 2
    pm[0, 2, 2], pm[9, 9, 9] = 255, 255
    clicks = clicks_from_point_map(pm, [1, 2], 255, (1.0, 1.0, 1.0))
    outside = {c.index: c.object_class for c in clicks if c.role == "outside"}
    assert outside == {(0, 2, 2): 1, (9, 9, 9): 2}


def test_point_map_with_unknown_value_raises():
    pm = np.zeros((4, 4, 4), np.int16)
    pm[1, 1, 1], pm[2, 2, 2] = 1, 7
    with pytest.raises(ValueError, match=r"\[7\]"):
        clicks_from_point_map(pm, [1, 2], 255, (1, 1, 1))


def test_slicer_markups_ras_and_lps_land_on_the_same_voxel():
    # grid: origin (10, 20, 30) mm, spacing (1, 2, 3) mm (x, y, z), identity direction
    geometry = dict(origin=(10, 20, 30), spacing=(1, 2, 3), direction=(1, 0, 0, 0, 1, 0, 0, 0, 1), shape=(5, 6, 7))
    lps = {"markups": [{"coordinateSystem": "LPS", "controlPoints": [
        {"label": "anterior-1", "position": [13, 24, 36]}, {"label": "background", "position": [10, 20, 30]}]}]}
    ras = json.loads(json.dumps(lps))
    ras["markups"][0]["coordinateSystem"] = "RAS"
    for point in ras["markups"][0]["controlPoints"]:
        point["position"][0] *= -1
        point["position"][1] *= -1
    classes = {"background": 0, "anterior": 1, "posterior": 2}
    for markups in (lps, ras):
        clicks = clicks_from_slicer_markups(markups, classes, **geometry)
        assert [(c.index, c.label, c.role) for c in clicks] == [((2, 2, 3), 1, "inside"), ((0, 0, 0), 0, "outside")]


def test_slicer_markups_unknown_label_and_outside_point_raise():
    geometry = dict(origin=(0, 0, 0), spacing=(1, 1, 1), direction=(1, 0, 0, 0, 1, 0, 0, 0, 1), shape=(5, 5, 5))
    classes = {"background": 0, "tumour": 1}
    bad = {"markups": [{"controlPoints": [{"label": "liver", "position": [1, 1, 1]}]}]}
    with pytest.raises(ValueError, match="liver"):
        clicks_from_slicer_markups(bad, classes, **geometry)
    far = {"markups": [{"controlPoints": [{"label": "tumour", "position": [100, 1, 1]}]}]}
    with pytest.raises(ValueError, match="outside the image"):
        clicks_from_slicer_markups(far, classes, **geometry)
