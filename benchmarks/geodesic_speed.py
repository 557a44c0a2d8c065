"""Time and accuracy of nnunet_weak's geodesic distance against an exact Dijkstra.

    python benchmarks/geodesic_speed.py

On a noisy synthetic box (a bright block in Gaussian noise, one seed at its centre) of each size:
seconds per call of geodesic_distance (lambda 0.5, one CPU thread) for 1, 2 and 4 sweep rounds,
and the mean / 99th-percentile relative error against geodesic_distance_dijkstra (exact on the
26-neighbour graph; only run for the smaller sizes, it is pure Python).
"""

import time

import numpy as np
import torch

from nnunet_weak.annotations.geodesic import geodesic_distance, geodesic_distance_dijkstra


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for shape in [(20, 24, 20), (40, 56, 40), (64, 96, 64)]:
        image = rng.normal(size=shape).astype(np.float32) * 0.3
        block = tuple(slice(s // 4, 3 * s // 4) for s in shape)
        image[block] += 2.0
        seeds = np.zeros(shape, bool)
        seeds[tuple(s // 2 for s in shape)] = True
        exact = geodesic_distance_dijkstra(image, seeds) if np.prod(shape) <= 20 * 24 * 20 else None
        for iterations in (1, 2, 4):
            start = time.perf_counter()
            approx = geodesic_distance(image, seeds, iterations=iterations)
            seconds = time.perf_counter() - start
            error = ""
            if exact is not None:
                rel = (approx[exact > 0] - exact[exact > 0]) / exact[exact > 0]
                error = f", relative error mean {rel.mean():.4f}, p99 {np.percentile(rel, 99):.4f}"
            print(f"{shape}: {iterations} round(s) {seconds:.3f} s{error}")


if __name__ == "__main__":
    main()
