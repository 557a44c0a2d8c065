"""Exact geodesic distance by Dijkstra on the 26-neighbour graph: the reference the sweeps in
``nnunet_weak/annotations/geodesic.py`` are tested against (slow; small volumes only).

Written apart from the library: the step cost is spelt out from its formula (GeodisTK's, see the
library's module docstring), not imported, so a wrong cost there cannot hide in both.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence

import numpy as np


def geodesic_distance_dijkstra(image: np.ndarray, seeds: np.ndarray, spacing: Sequence[float] = (1.0, 1.0, 1.0),
                               lam: float = 0.5, normalise: bool = True) -> np.ndarray:
    """Shortest paths from the True voxels of ``seeds`` over the 3D ``image``, a step between
    26-neighbours p, q costing ``||p - q||_mm / ((1 - lam) + lam / (|I(p) - I(q)| + 1e-5))``;
    intensities standardised first (zero mean, unit standard deviation) unless ``normalise`` is False."""
    values = image.astype(np.float64)
    if normalise:
        std = values.std()
        values = (values - values.mean()) / std if std > 0 else np.zeros_like(values)
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
            nd = d + spatial / ((1 - lam) + lam / (abs(float(values[q]) - float(values[p])) + 1e-5))
            if nd < dist[q]:
                dist[q] = nd
                heapq.heappush(heap, (nd, q))
    return dist.astype(np.float32)
