"""Scribble annotation simulated from dense labels, slice by slice.

The protocol of Gotkowski et al. (2024, "Embarrassingly Simple Scribble Supervision for 3D Medical
Segmentation"), as released in ScribbleBench (MICCAI 2025; ``scribble_generation.py`` with
``scribble_conf.yml``): on every annotated slice, for every class present in it, background included,
one connected region of that class is picked (with probability proportional to its area) and gets
two strokes:

- an *interior* scribble: a smooth curve, a clamped quadratic B-spline shaped by four control points
  drawn inside the region, each visible from the one before (the straight segment between them stays
  in the region; ScribbleBench: a degree-2 NURBS with unit weights, the same curve);
- a *boundary* scribble: a contiguous stretch of 7-15 % of the contour of the region eroded by a few
  voxels, i.e. a stroke along the region's edge, pulled slightly inside.

Both are painted with a round brush and clipped to the region; every other voxel stays ``ignore``.

Where we differ from ScribbleBench's code, on purpose:

- Thickness is counted in voxels of the slice's finest spacing, but the brush and the inset are round
  in mm, so on anisotropic slices a stroke is as wide in mm across as along (ScribbleBench: disks in
  voxels, whatever the spacing). With isotropic in-plane spacing both agree.
- The image border is not an object boundary: the boundary stroke never runs along the slice's
  frame, and a class with no boundary inside the slice (background of a slice without foreground,
  a class filling the slice) gets its interior scribble only.
- The inset is 1-3 voxels beyond the brush radius and shrinks for regions too thin for it, so every
  region gets its boundary stroke (ScribbleBench: erosion by 2-5 voxels, no stroke when that erases
  the region). The stroke is placed uniformly along the contour (ScribbleBench: weighted by curvature).
- A share of slices below 1 is spread evenly from a random offset (ScribbleBench draws them at random).
- Every stroke's centreline length is reported in mm, so a cost model can price the annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.interpolate import BSpline

from nnunet_weak.annotations.sparse_slices import choose_slices

CONTROL_POINTS = 4  # ScribbleBench: nurbs num_control_points
LENGTH_SHARE = (0.07, 0.15)  # ScribbleBench: contour scribble_length_range, share of the contour
INSET_BEYOND_BRUSH = (1, 3)  # voxels between the brush's edge and the region's edge, drawn per stroke

# Moore neighbourhood of a pixel, clockwise in (row, column) starting north
_MOORE = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
_MOORE_INDEX = {offset: i for i, offset in enumerate(_MOORE)}
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True, eq=False)
class Scribble:
    """One stroke on one slice of a volume.

    Attributes:
        axis: array axis the slice is perpendicular to.
        index: slice index along ``axis``.
        label: class the stroke marks (0 = background).
        kind: ``"interior"`` or ``"boundary"``.
        length_mm: length of the stroke's centreline in mm (0 for a single voxel).
        centreline: (n, 2) in-slice voxel indices along the stroke, in order; the two in-slice axes
            keep their array order (for ``axis`` 0: (y, x)).
        pixels: (m, 2) in-slice voxel indices painted by the brush, all of class ``label``.
    """

    axis: int
    index: int
    label: int
    kind: str
    length_mm: float
    centreline: np.ndarray
    pixels: np.ndarray


def check_scribble_options(slice_share: float, thickness: int) -> None:
    """Raise ``ValueError`` for a share outside (0, 1] or a thickness that is not a positive odd integer."""
    if not 0 < slice_share <= 1:
        raise ValueError(f"slice share must be in (0, 1], got {slice_share}")
    if int(thickness) != thickness or thickness < 1 or thickness % 2 == 0:
        raise ValueError(f"thickness must be a positive odd number of voxels (1, 3, 5, ...), got {thickness}: "
                         "a stroke is centred on its line")


def simulate_scribbles(
    labels: np.ndarray,
    spacing: Sequence[float],
    rng: np.random.Generator,
    axes: Sequence[int] = (0,),
    slice_share: float = 1.0,
    thickness: int = 3,
    classes: Sequence[int] | None = None,
) -> list[Scribble]:
    """Scribbles on slices of a dense 3D label map.

    Args:
        labels: integer label map, (z, y, x); 0 is background.
        spacing: voxel size in mm, array order.
        rng: random generator; the same state gives the same scribbles.
        axes: array axes whose slices are annotated, each independently.
        slice_share: share of each axis's slices that get scribbles, evenly spaced from a random
            offset (at least one slice); 1 annotates every slice (ScribbleBench's setting).
        thickness: stroke width in voxels of the slice's finest spacing (odd; ScribbleBench: 3).
            The brush is a disk of that diameter in mm.
        classes: label values that get scribbles, background included (default: every value present;
            leave out e.g. an ``ignore`` value already in the map).

    Returns:
        the strokes, by axis, slice, class, then interior before boundary.

    Raises:
        ValueError: a label map that is not 3D, a spacing of the wrong length, an unknown or repeated
            axis, or an invalid share or thickness.
    """
    check_scribble_options(slice_share, thickness)
    if labels.ndim != 3:
        raise ValueError(f"scribbles are simulated on 3D label maps, got {labels.ndim}D")
    if len(spacing) != labels.ndim:
        raise ValueError(f"spacing {tuple(spacing)} does not match a {labels.ndim}D label map")
    if len(set(axes)) != len(axes) or any(not 0 <= a < labels.ndim for a in axes):
        raise ValueError(f"axes must be distinct values in 0..{labels.ndim - 1}, got {list(axes)}")
    scribbles = []
    for axis in axes:
        count = max(1, round(slice_share * labels.shape[axis]))
        plane_spacing = tuple(float(s) for a, s in enumerate(spacing) if a != axis)
        for index in sorted(int(i) for i in choose_slices(labels.shape[axis], rng, count=count)):
            plane = np.take(labels, index, axis=axis)
            scribbles += slice_scribbles(plane, plane_spacing, rng, thickness, axis, index, classes)
    return scribbles


def slice_scribbles(plane: np.ndarray, spacing: Sequence[float], rng: np.random.Generator, thickness: int = 3,
                    axis: int = 0, index: int = 0, classes: Sequence[int] | None = None) -> list[Scribble]:
    """An interior and a boundary stroke for every class (of ``classes``, default all) present in a 2D
    label ``plane``.

    ``spacing`` is the plane's voxel size in mm; ``axis`` and ``index`` are recorded in the strokes.
    """
    step = min(spacing)
    radius = (thickness - 1) // 2
    brush = brush_footprint(thickness, spacing)
    strokes = []
    for label in np.unique(plane):
        if classes is not None and label not in classes:
            continue
        region = _pick_region(plane == label, rng)
        if region.all():
            depth = np.full(region.shape, np.inf)
        else:
            depth = ndimage.distance_transform_edt(region, sampling=spacing)  # mm to the nearest other voxel
        line, length = interior_centreline(region, depth, spacing, rng, margin_mm=(radius + 1) * step)
        strokes.append(Scribble(axis, index, int(label), "interior", length, line, _paint(line, brush, region)))
        inset = int(rng.integers(radius + INSET_BEYOND_BRUSH[0], radius + INSET_BEYOND_BRUSH[1] + 1))
        found = boundary_centreline(region, depth, spacing, rng, inset_mm=inset * step)
        if found is not None:
            line, length = found
            strokes.append(Scribble(axis, index, int(label), "boundary", length, line, _paint(line, brush, region)))
    return strokes


def brush_footprint(thickness: int, spacing: Sequence[float]) -> np.ndarray:
    """Boolean disk of diameter ``thickness`` voxels of the finest spacing, in mm: voxel centres within
    ``(thickness - 1) / 2 * min(spacing)`` mm of the centre."""
    radius_mm = (thickness - 1) / 2 * min(spacing)
    reach = [int(np.floor(radius_mm / s + 1e-9)) for s in spacing]
    offsets = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    squared = sum((o * s) ** 2 for o, s in zip(offsets, spacing, strict=True))
    return squared <= radius_mm**2 + 1e-9


def interior_centreline(region: np.ndarray, depth: np.ndarray, spacing: Sequence[float], rng: np.random.Generator,
                        margin_mm: float) -> tuple[np.ndarray, float]:
    """Centreline (ordered in-slice voxels) and length in mm of a smooth curve inside ``region``.

    Control points are drawn among voxels at least ``margin_mm`` deep (``depth``: mm to the nearest
    voxel outside), or the deepest voxels of a thinner region; each next one is a random target,
    moved back along the straight line from the previous point to where that line would leave the
    region (ScribbleBench's visibility rule). Of the curve, the longest piece inside the region is kept.
    """
    candidates = np.argwhere(depth >= margin_mm)
    if len(candidates) == 0:
        candidates = np.argwhere(depth == depth[region].max())
    points = [candidates[rng.integers(len(candidates))].astype(float)]
    for _ in range(CONTROL_POINTS - 1):
        target = candidates[rng.integers(len(candidates))]
        visible = _visible_share(region, points[-1], target)
        share = 1.0 if visible == 1.0 else rng.uniform(0, visible)
        points.append(points[-1] + share * (target - points[-1]))
    curve = _bspline(np.array(points))
    inside = region[tuple(_rounded(curve).T)]
    curve = curve[_longest_run(inside)]
    return _path(curve), _length_mm(curve, spacing)


def boundary_centreline(region: np.ndarray, depth: np.ndarray, spacing: Sequence[float], rng: np.random.Generator,
                        inset_mm: float) -> tuple[np.ndarray, float] | None:
    """Centreline and length in mm of a stretch along the contour of ``region`` eroded by ``inset_mm``.

    The inset shrinks (in steps of the finest spacing) until something of the region is left. The
    stretch is ``LENGTH_SHARE`` of the eroded region's contour, centred at a uniformly drawn point,
    and never runs along the slice's frame. None when the region has no boundary inside the slice.
    """
    step = min(spacing)
    inner = depth >= inset_mm
    while not inner.any():
        inset_mm -= step
        inner = depth >= inset_mm
    component = _pick_region(inner, rng)
    runs = [run for curve in contours(component) for run in _runs_off_frame(curve, component)]
    if not runs:
        return None
    lengths = [_length_mm(points, spacing) + (_step_mm(points[-1], points[0], spacing) if closed else 0.0)
               for points, closed in runs]
    target = rng.uniform(*LENGTH_SHARE) * sum(lengths)
    starts = np.cumsum([0] + [len(points) for points, _ in runs])  # the runs' points numbered in a row
    pick = int(rng.integers(starts[-1]))
    which = int(np.searchsorted(starts, pick, side="right")) - 1
    points, closed = runs[which]
    stretch = _grow_stretch(points, closed, pick - int(starts[which]), target, spacing)
    return stretch, _length_mm(stretch, spacing)


def contours(component: np.ndarray) -> list[np.ndarray]:
    """Closed boundary curves of one 8-connected region: its outer contour and one per hole.

    Each is an (n, 2) array of region voxels in order, consecutive ones (and the last and the first)
    8-adjacent; a single-voxel region gives that voxel. The slice's frame counts as outside here.
    """
    first = tuple(int(i) for i in np.argwhere(component)[0])  # topmost, then leftmost: its west is outside
    curves = [_trace(component, first, (0, -1))]
    # holes are 4-connected, the dual of the region's 8-connectivity
    outside, _ = ndimage.label(np.pad(~component, 1, constant_values=True))
    for hole, box in enumerate(ndimage.find_objects(outside), start=1):
        if box is None or hole == outside[0, 0]:
            continue
        row, col = np.argwhere(outside[box] == hole)[0] + [box[0].start - 1, box[1].start - 1]
        # the voxel above a hole's topmost voxel belongs to the region; follow the boundary from there
        curves.append(_trace(component, (int(row) - 1, int(col)), (1, 0)))
    return curves


def scribbles_to_label_map(shape: Sequence[int], scribbles: Sequence[Scribble], ignore_label: int) -> np.ndarray:
    """Label map that is ``ignore_label`` everywhere except the painted voxels of ``scribbles``."""
    out = np.full(shape, ignore_label, dtype=np.int16)
    for s in scribbles:
        plane = out[(slice(None),) * s.axis + (s.index,)]  # a view
        plane[s.pixels[:, 0], s.pixels[:, 1]] = s.label
    return out


def scribble_slices(scribbles: Sequence[Scribble]) -> dict[int, list[int]]:
    """Per axis, the sorted slice indices that hold scribbles."""
    slices: dict[int, set[int]] = {}
    for s in scribbles:
        slices.setdefault(s.axis, set()).add(s.index)
    return {axis: sorted(indices) for axis, indices in sorted(slices.items())}


def _pick_region(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One 8-connected component of ``mask``, drawn with probability proportional to its area."""
    parts, n = ndimage.label(mask, structure=_EIGHT)
    sizes = np.bincount(parts.ravel())[1:]
    return parts == 1 + rng.choice(n, p=sizes / sizes.sum())


def _paint(line: np.ndarray, brush: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Voxels of ``region`` under the brush moved along ``line``, as (m, 2) indices."""
    mask = np.zeros(region.shape, dtype=bool)
    mask[tuple(line.T)] = True
    return np.argwhere(ndimage.binary_dilation(mask, structure=brush) & region)


def _rounded(points: np.ndarray) -> np.ndarray:
    return np.round(points).astype(int)


def _visible_share(region: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    """Share of the segment start -> end (start inside) before it first leaves ``region``."""
    samples = int(np.ceil(4 * np.linalg.norm(end - start))) + 2
    t = np.linspace(0.0, 1.0, samples)
    inside = region[tuple(_rounded(start + t[:, None] * (end - start)).T)]
    if inside.all():
        return 1.0
    return float(t[np.argmin(inside) - 1])


def _bspline(points: np.ndarray) -> np.ndarray:
    """Samples of the clamped B-spline (degree 2, fewer for fewer distinct points) with control
    ``points``, spaced under half a voxel so the rounded samples form an 8-connected path."""
    polygon = float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())
    if polygon == 0:
        return points[:1]
    degree = min(2, len(points) - 1)
    knots = np.concatenate([np.zeros(degree + 1), np.linspace(0, 1, len(points) - degree + 1)[1:-1],
                            np.ones(degree + 1)])
    # the curve's speed is at most degree * (len(points) - degree) times the longest control leg
    samples = int(np.ceil(2 * degree * (len(points) - degree) * polygon)) + 2
    return BSpline(knots, points, degree)(np.linspace(0, 1, samples))


def _longest_run(flags: np.ndarray) -> slice:
    """Slice of the longest run of True in a 1D boolean array (the first if several tie)."""
    padded = np.concatenate([[False], flags, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    longest = int(np.argmax(stops - starts))
    return slice(int(starts[longest]), int(stops[longest]))


def _path(curve: np.ndarray) -> np.ndarray:
    """Thin 8-connected voxel path along a densely sampled curve: rounded samples without repeats,
    and without the corner voxel of a staircase step that a diagonal step skips (as Bresenham's)."""
    voxels = _rounded(curve)
    voxels = voxels[np.concatenate([[True], np.any(np.diff(voxels, axis=0) != 0, axis=1)])]
    path = [voxels[0]]
    for i in range(1, len(voxels)):
        if i + 1 < len(voxels) and np.abs(voxels[i + 1] - path[-1]).max() <= 1:
            continue
        path.append(voxels[i])
    return np.array(path)


def _length_mm(points: np.ndarray, spacing: Sequence[float]) -> float:
    return float(np.linalg.norm(np.diff(points, axis=0) * np.asarray(spacing), axis=1).sum())


def _step_mm(a: np.ndarray, b: np.ndarray, spacing: Sequence[float]) -> float:
    return float(np.linalg.norm((b - a) * np.asarray(spacing)))


def _trace(region: np.ndarray, start: tuple[int, int], outside: tuple[int, int]) -> np.ndarray:
    """Moore-neighbour tracing of the boundary between ``region`` and the 4-connected outside part
    next to ``start`` at offset ``outside``, until the first step repeats (Jacob's criterion)."""
    padded = np.pad(region, 1)
    current, backtrack = (start[0] + 1, start[1] + 1), _MOORE_INDEX[outside]
    curve, first_state = [current], None
    for _ in range(8 * int(region.sum()) + 8):
        for turn in range(1, 9):  # clockwise from the last outside neighbour
            direction = (backtrack + turn) % 8
            nxt = (current[0] + _MOORE[direction][0], current[1] + _MOORE[direction][1])
            if padded[nxt]:
                break
        else:
            break  # a single voxel
        before = _MOORE[(direction - 1) % 8]  # the outside neighbour checked just before nxt
        backtrack = _MOORE_INDEX[(current[0] + before[0] - nxt[0], current[1] + before[1] - nxt[1])]
        current = nxt
        if first_state is None:
            first_state = (current, backtrack)
        elif (current, backtrack) == first_state:
            curve.pop()  # back at the start, about to repeat the first step
            break
        curve.append(current)
    return np.array(curve) - 1


def _runs_off_frame(curve: np.ndarray, component: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """Split a closed curve into the runs that follow a boundary inside the slice, dropping voxels
    whose only outside neighbours lie beyond the slice's frame. Returns (points, closed) pairs;
    closed when nothing was dropped."""
    padded = np.pad(component, 1, constant_values=True)  # beyond the frame counts as the region
    rows, cols = curve[:, 0] + 1, curve[:, 1] + 1
    keep = np.zeros(len(curve), dtype=bool)
    for dr, dc in _MOORE:
        keep |= ~padded[rows + dr, cols + dc]
    if keep.all():
        return [(curve, len(curve) > 1)]
    runs, current = [], []
    for i in np.roll(np.arange(len(curve)), -int(np.argmin(keep))):  # start at a dropped voxel
        if keep[i]:
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [(curve[run], False) for run in runs]


def _grow_stretch(points: np.ndarray, closed: bool, centre: int, target_mm: float,
                  spacing: Sequence[float]) -> np.ndarray:
    """Consecutive points around ``centre`` until their path is ``target_mm`` long, growing both ends
    alternately; it stops at an open curve's ends and before a closed one's stretch meets itself."""
    n = len(points)
    low = high = centre
    length = 0.0
    while length < target_mm and high - low + 1 < n:
        grew = False
        for end in ("high", "low"):
            if length >= target_mm or high - low + 1 >= n:
                break
            if end == "high" and (closed or high + 1 < n):
                length += _step_mm(points[high % n], points[(high + 1) % n], spacing)
                high += 1
                grew = True
            elif end == "low" and (closed or low > 0):
                length += _step_mm(points[low % n], points[(low - 1) % n], spacing)
                low -= 1
                grew = True
        if not grew:
            break
    return points[np.arange(low, high + 1) % n]
