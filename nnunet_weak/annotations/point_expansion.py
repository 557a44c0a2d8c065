"""Expand clicks into a partial label map by geodesic distance (PA-Seg, Zhai et al., TMI 2023).

Per object: the clicks (one or more inside, the outside ones bounding it) span a box. Inside the
box, voxels whose geodesic distance from the inside clicks is below ``threshold`` times the largest
distance in the box become the object's class; voxels outside every object's box become
background; everything else stays ``ignore``. Several classes: where two objects claim a voxel,
the smaller relative distance (distance / the box's largest distance) wins; an exact tie stays
``ignore``. Clicked voxels keep the label recorded under the click.

``outside_seeds`` (off by default, PA-Seg does not do it) also uses what the outside clicks say:
those voxels are known not to belong to the object, so a voxel joins the object only if it is
geodesically closer to the inside click(s) than to the object's outside clicks. On the
hippocampus training cases it halved the background wrongly claimed as foreground, but the
networks trained on it scored no better (benchmarks/RESULTS.md); it costs a second distance
computation per object.

``background_threshold`` (off by default, not in PA-Seg) labels background inside the boxes too:
a voxel whose relative distance is at least this share from the inside clicks of every object
whose box holds it becomes background. Without it the network sees background only outside
the boxes and learns to fill them (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from nnunet_weak.annotations.geodesic import geodesic_distance
from nnunet_weak.annotations.points import Click


def expand_clicks(image: np.ndarray, clicks: Sequence[Click], ignore_label: int,
                  spacing: Sequence[float] = (1.0, 1.0, 1.0), threshold: float = 0.2, lam: float = 0.5,
                  iterations: int = 4, outside_seeds: bool = False,
                  background_threshold: float | None = None) -> np.ndarray:
    """Partial label map (z, y, x) of ``image``'s shape from ``clicks``; see the module docstring."""
    check_thresholds(threshold, background_threshold)
    objects: dict[int, list[Click]] = defaultdict(list)
    for click in clicks:
        objects[click.object_id].append(click)
    labels = np.full(image.shape, ignore_label, dtype=np.int16)
    inside_any_box = np.zeros(image.shape, bool)
    best = np.full(image.shape, np.inf)  # relative distance of the current claim
    tie = np.zeros(image.shape, bool)
    near_an_object = np.zeros(image.shape, bool)
    for object_id, members in sorted(objects.items()):
        inside = [c for c in members if c.role == "inside"]
        if not inside:
            raise ValueError(f"object {object_id} has no inside click")
        if len(members) == len(inside):
            raise ValueError(f"object {object_id} (class {inside[0].object_class}) has no outside click to bound it")
        points = np.array([c.index for c in members])
        low, high = points.min(axis=0), points.max(axis=0) + 1
        box = tuple(slice(a, b) for a, b in zip(low, high, strict=True))
        inside_any_box[box] = True
        distance = geodesic_distance(image[box], _seed_mask(inside, low, high), spacing, lam, iterations)
        relative = distance / max(float(distance.max()), 1e-12)
        claim = relative < threshold
        if background_threshold is not None:
            near_an_object[box] |= relative < background_threshold
        if outside_seeds:
            outside = [c for c in members if c.role != "inside"]
            claim &= distance < geodesic_distance(image[box], _seed_mask(outside, low, high), spacing, lam, iterations)
        region_best, region_tie, region_labels = best[box], tie[box], labels[box]
        better = claim & (relative < region_best)
        same = claim & (relative == region_best) & (region_labels != inside[0].object_class)
        region_labels[better] = inside[0].object_class
        region_tie[better] = False
        region_tie[same] = True
        region_best[better] = relative[better]
    labels[tie] = ignore_label
    labels[~inside_any_box] = 0
    if background_threshold is not None:
        labels[inside_any_box & ~near_an_object] = 0
    for click in clicks:
        labels[click.index] = click.label
    return labels


def check_thresholds(threshold: float, background_threshold: float | None = None) -> None:
    """Raise ValueError unless 0 < threshold < 1 and threshold < background_threshold <= 1."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    if background_threshold is not None and not threshold < background_threshold <= 1:
        raise ValueError(f"background_threshold must lie in (threshold, 1] = ({threshold}, 1], "
                         f"got {background_threshold}")


def _seed_mask(clicks: Sequence[Click], low: np.ndarray, high: np.ndarray) -> np.ndarray:
    seeds = np.zeros(tuple(high - low), bool)
    for c in clicks:
        seeds[tuple(np.subtract(c.index, low))] = True
    return seeds
