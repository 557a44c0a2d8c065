"""Geodesic distance from seed voxels, with GeodisTK's cost, by six-direction sweeps in torch.

Cost of a step between 26-neighbours p and q (GeodisTK ``geodesic3d_raster_scan``, used by
PA-Seg with lambda = 0.5):

    c(p, q) = ||p - q||_mm / ((1 - lambda) + lambda / (|I(p) - I(q)| + 1e-5))

lambda = 0 is the Euclidean distance, lambda = 1 the purely intensity-weighted one. Intensities
are first divided by their standard deviation over the given volume (after subtracting the
mean), so a rescaled scan gives the same distances; GeodisTK uses raw intensities, which makes
lambda mean different things on different scanners.

The exact value is the shortest path on the 26-neighbour graph (:func:`geodesic_distance_dijkstra`,
slow, for tests). :func:`geodesic_distance` approximates it as FastGeodis does: for each axis, a
forward and a backward sweep over its slices, each voxel taking the best of the 9 voxels of the
previous slice; all six sweeps are repeated ``iterations`` times. GeodisTK's two raster scans
stay far from the exact value on noisy data after 4 iterations; the sweeps converge faster and run
vectorised (on a GPU too).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence

import numpy as np
import torch

_EPS = 1e-5


def normalise_intensities(image: np.ndarray) -> np.ndarray:
    """Zero mean, unit standard deviation (a constant image becomes all zeros)."""
    image = image.astype(np.float32)
    std = image.std()
    return (image - image.mean()) / std if std > 0 else np.zeros_like(image)


def _step_cost(spatial: float | torch.Tensor, difference, lam: float):
    return spatial / ((1 - lam) + lam / (abs(difference) + _EPS))


def geodesic_distance(image: np.ndarray, seeds: np.ndarray, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                      lam: float = 0.5, iterations: int = 4, normalise: bool = True,
                      device: str | torch.device = "cpu") -> np.ndarray:
    """Geodesic distance (mm-weighted) from the True voxels of ``seeds`` over a 3D ``image``.

    Args:
        image: (z, y, x) intensities.
        seeds: boolean array of the same shape; at least one True.
        spacing: voxel size in mm, array order.
        lam: lambda of the cost above, in [0, 1].
        iterations: rounds of the six sweeps.
        normalise: apply :func:`normalise_intensities` first.
    """
    if image.shape != seeds.shape or image.ndim != 3:
        raise ValueError(f"image {image.shape} and seeds {seeds.shape} must be the same 3D shape")
    if not seeds.any():
        raise ValueError("no seed voxel")
    if not 0 <= lam <= 1:
        raise ValueError(f"lambda must be in [0, 1], got {lam}")
    values = normalise_intensities(image) if normalise else image.astype(np.float32)
    img = torch.as_tensor(values, device=device)
    dist = torch.where(torch.as_tensor(seeds, device=device), 0.0, float("inf")).to(torch.float32)
    spacing = [float(s) for s in spacing]
    for _ in range(iterations):
        for axis in range(3):
            img_a, dist_a = img.movedim(axis, 0), dist.movedim(axis, 0).clone()
            others = [spacing[a] for a in range(3) if a != axis]
            offsets = []
            for du, dv in itertools.product((-1, 0, 1), repeat=2):
                spatial = float(np.sqrt(spacing[axis] ** 2 + (du * others[0]) ** 2 + (dv * others[1]) ** 2))
                offsets.append((du, dv, spatial))
            n = dist_a.shape[0]
            for order in (range(1, n), range(n - 2, -1, -1)):
                step = 1 if order.step == 1 else -1
                for k in order:
                    prev_d, prev_i, cur_i = dist_a[k - step], img_a[k - step], img_a[k]
                    best = dist_a[k]
                    for du, dv, spatial in offsets:
                        shifted_d = _shift(prev_d, du, dv)
                        shifted_i = _shift(prev_i, du, dv, fill=0.0)
                        candidate = shifted_d + _step_cost(spatial, cur_i - shifted_i, lam)
                        best = torch.minimum(best, candidate)
                    dist_a[k] = best
            dist = dist_a.movedim(0, axis).contiguous()
    return dist.cpu().numpy()


def _shift(plane: torch.Tensor, du: int, dv: int, fill: float = float("inf")) -> torch.Tensor:
    """``out[u, v] = plane[u + du, v + dv]``; outside the plane: ``fill``."""
    out = torch.full_like(plane, fill)
    h, w = plane.shape
    out[max(0, -du):h - max(0, du), max(0, -dv):w - max(0, dv)] = \
        plane[max(0, du):h - max(0, -du), max(0, dv):w - max(0, -dv)]
    return out


def geodesic_distance_dijkstra(image: np.ndarray, seeds: np.ndarray, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                               lam: float = 0.5, normalise: bool = True) -> np.ndarray:
    """Exact shortest paths on the 26-neighbour graph with the same cost (slow; small volumes)."""
    values = normalise_intensities(image) if normalise else image.astype(np.float32)
    dist = np.full(image.shape, np.inf)
    heap = [(0.0, tuple(int(i) for i in p)) for p in np.argwhere(seeds)]
    for _, p in heap:
        dist[p] = 0.0
    heapq.heapify(heap)
    steps = [d for d in itertools.product((-1, 0, 1), repeat=3) if d != (0, 0, 0)]
    while heap:
        d, p = heapq.heappop(heap)
        if d > dist[p]:
            continue
        for step in steps:
            q = (p[0] + step[0], p[1] + step[1], p[2] + step[2])
            if not all(0 <= q[i] < image.shape[i] for i in range(3)):
                continue
            spatial = float(np.sqrt(sum((s * sp) ** 2 for s, sp in zip(step, spacing, strict=True))))
            nd = d + _step_cost(spatial, float(values[q]) - float(values[p]), lam)
            if nd < dist[q]:
                dist[q] = nd
                heapq.heappush(heap, (nd, q))
    return dist.astype(np.float32)
