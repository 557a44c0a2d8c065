"""Point (click) annotation as in PA-Seg (Zhai et al., IEEE TMI 2023).

Per foreground object an annotator clicks once inside, near its centre, and six times just
outside its extent: once beyond each face of its bounding box along -z, +z, -y, +y, -x, +x,
on the line through the inside click. PA-Seg's objects are single structures; for several
classes we treat each connected component of each class as an object. An outside click
records the true label under it, which is background or, next to a neighbouring structure,
another class: what an annotator clicking there would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

ROLES_OUTSIDE = ("-z", "+z", "-y", "+y", "-x", "+x")


@dataclass(frozen=True)
class Click:
    """One click, in array (z, y, x) voxel indices.

    Attributes:
        index: voxel of the click.
        label: label value at the click (the class for an inside click).
        object_class: class of the object the click belongs to.
        object_id: 0-based object number within the case (clicks of one object share it).
        role: ``"inside"`` or the side it bounds (``"-z"``, ``"+x"``, ...), ``"outside"`` when unknown.
    """

    index: tuple[int, ...]
    label: int
    object_class: int
    object_id: int
    role: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["index"] = list(self.index)
        return d

    @classmethod
    def from_json(cls, d: dict) -> Click:
        return cls(tuple(int(i) for i in d["index"]), int(d["label"]), int(d["object_class"]),
                   int(d["object_id"]), str(d["role"]))


def seven_point_clicks(
    labels: np.ndarray,
    classes: Sequence[int],
    rng: np.random.Generator,
    margin: int = 2,
    jitter: float = 0.0,
    min_object_voxels: int = 1,
) -> list[Click]:
    """Simulate PA-Seg's seven clicks per object from a dense label map.

    Args:
        labels: integer label map, (z, y, x).
        classes: foreground classes to click; each connected component (26-connectivity) is an object.
        rng: random generator (used for ``jitter`` only; with ``jitter=0`` the result is fixed).
        margin: voxels between the bounding box face and an outside click (clipped at the border).
        jitter: an inside click is drawn uniformly among object voxels within this many voxels of
            the one nearest the centroid (0: that voxel).
        min_object_voxels: components smaller than this are not clicked (annotators miss specks).

    Returns:
        clicks, objects in class order then by size (largest first); outside clicks that would fall
        on the object itself (object touching the border) are dropped.
    """
    clicks: list[Click] = []
    object_id = 0
    structure = np.ones((3,) * labels.ndim, dtype=bool)
    for cls in classes:
        components, n = ndimage.label(labels == cls, structure=structure)
        if n == 0:
            continue
        sizes = ndimage.sum_labels(np.ones_like(components), components, index=np.arange(1, n + 1))
        for component in np.argsort(-sizes, kind="stable") + 1:
            if sizes[component - 1] < min_object_voxels:
                continue
            voxels = np.argwhere(components == component)
            inside = _inside_click(voxels, rng, jitter)
            clicks.append(Click(inside, int(cls), int(cls), object_id, "inside"))
            low, high = voxels.min(axis=0), voxels.max(axis=0)
            for axis in range(labels.ndim):
                for side, face in (("-", low[axis] - margin), ("+", high[axis] + margin)):
                    point = list(inside)
                    point[axis] = int(np.clip(face, 0, labels.shape[axis] - 1))
                    point = tuple(point)
                    if components[point] == component:
                        continue
                    role = f"{side}{'zyx'[axis - labels.ndim + 3]}"
                    clicks.append(Click(point, int(labels[point]), int(cls), object_id, role))
            object_id += 1
    return clicks


def _inside_click(voxels: np.ndarray, rng: np.random.Generator, jitter: float) -> tuple[int, ...]:
    distance = np.linalg.norm(voxels - voxels.mean(axis=0), axis=1)
    nearest = voxels[np.argmin(distance)]
    if jitter > 0:
        near = voxels[np.linalg.norm(voxels - nearest, axis=1) <= jitter]
        nearest = near[rng.integers(len(near))]
    return tuple(int(i) for i in nearest)


def clicks_to_label_map(shape: Sequence[int], clicks: Sequence[Click], ignore_label: int) -> np.ndarray:
    """Label map that is ``ignore_label`` everywhere except the clicked voxels."""
    out = np.full(shape, ignore_label, dtype=np.int16)
    for click in clicks:
        out[click.index] = click.label
    return out


def attach_outside_clicks(
    inside: Sequence[tuple[tuple[int, ...], int]],
    outside: Sequence[tuple[int, ...]],
    spacing: Sequence[float],
) -> list[Click]:
    """Build clicks from inside ``(index, class)`` pairs and background indices, each background
    click attached to the nearest inside click (Euclidean, in mm)."""
    if not inside:
        raise ValueError("no click inside an object; every object needs one inside click")
    clicks = [Click(idx, cls, cls, i, "inside") for i, (idx, cls) in enumerate(inside)]
    centres = np.array([idx for idx, _ in inside], dtype=float) * np.asarray(spacing)
    for idx in outside:
        nearest = int(np.argmin(np.linalg.norm(centres - np.asarray(idx) * np.asarray(spacing), axis=1)))
        clicks.append(Click(idx, 0, inside[nearest][1], nearest, "outside"))
    return clicks
