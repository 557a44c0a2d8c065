"""Our geodesic distance against GeodisTK 0.1.7 (PA-Seg's), same inputs, one CPU thread.

    python benchmarks/geodistk_compare.py --geodistk-python /path/to/venv/bin/python
    python benchmarks/geodistk_compare.py      # ours only, where GeodisTK is not installed

GeodisTK does not build against numpy 2, so it lives in its own environment, e.g.
``python3 -m venv gv && gv/bin/pip install "numpy<2" setuptools wheel &&
gv/bin/pip install --no-build-isolation GeodisTK==0.1.7``; this script hands it the inputs as
.npy files. Inputs: a bright block in Gaussian noise, one seed at its centre, intensities already
standardised so both use the same cost (lambda 0.5). Reports the best of 3 timings per call and
the relative error of each against the exact shortest paths on the 26-neighbour graph (scipy's
compiled Dijkstra on that graph; tests/test_geodesic.py checks it against the exact reference
Dijkstra of tests/geodesic_oracle.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from nnunet_weak.annotations.geodesic import (
    _step_cost,
    geodesic_distance,
    normalise_intensities,
)

GEODISTK = """
import json, sys, time, numpy as np, GeodisTK
folder, iterations = sys.argv[1], json.loads(sys.argv[2])
image, seeds = np.load(folder + '/image.npy'), np.load(folder + '/seeds.npy').astype(np.uint8)
times = {}
for n in iterations:
    best = float('inf')
    for _ in range(3):
        start = time.perf_counter()
        out = GeodisTK.geodesic3d_raster_scan(image, seeds, [1.0, 1.0, 1.0], 0.5, n)
        best = min(best, time.perf_counter() - start)
    times[n] = best
    np.save(f'{folder}/geodistk_{n}.npy', out)
print(json.dumps(times))
"""


def exact_geodesic(image: np.ndarray, seeds: np.ndarray, lam: float = 0.5) -> np.ndarray:
    """Exact 26-neighbour shortest paths with the library's step cost, via scipy's Dijkstra."""
    index = np.arange(image.size).reshape(image.shape)
    rows, cols, weights = [], [], []
    for step in itertools.product((-1, 0, 1), repeat=3):
        if step == (0, 0, 0):
            continue
        source = tuple(slice(max(0, -s), n - max(0, s)) for s, n in zip(step, image.shape, strict=True))
        target = tuple(slice(max(0, s), n - max(0, -s)) for s, n in zip(step, image.shape, strict=True))
        spatial = float(np.sqrt(sum(s * s for s in step)))
        rows.append(index[source].ravel())
        cols.append(index[target].ravel())
        weights.append(_step_cost(spatial, image[target] - image[source], lam).ravel())
    graph = coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(image.size, image.size)).tocsr()
    distances = dijkstra(graph, indices=np.flatnonzero(seeds), min_only=True)
    return distances.reshape(image.shape).astype(np.float32)


def best_of_3(function):
    best, out = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        out = function()
        best = min(best, time.perf_counter() - start)
    return best, out


def error(approx: np.ndarray, exact: np.ndarray) -> str:
    rel = (approx[exact > 0] - exact[exact > 0]) / exact[exact > 0]
    return f"{100 * np.abs(rel).mean():.2f} % / {100 * np.percentile(np.abs(rel), 99):.1f} %"


def run_geodistk(python: str, image: np.ndarray, seeds: np.ndarray, iterations: list[int]) -> dict:
    """{rounds: (best seconds, distances)} from GeodisTK in its own environment."""
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/image.npy", image)
        np.save(f"{folder}/seeds.npy", seeds)
        out = subprocess.run([python, "-c", GEODISTK, folder, json.dumps(iterations)],
                             capture_output=True, text=True, check=True, env={"OMP_NUM_THREADS": "1"})
        times = json.loads(out.stdout.strip().splitlines()[-1])
        return {n: (times[str(n)], np.load(Path(folder) / f"geodistk_{n}.npy")) for n in iterations}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--geodistk-python", help="interpreter of an environment with GeodisTK (else ours only)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    iterations = [1, 2, 4, 8]
    print("| box | method | rounds | s / call | error mean / p99 |")
    print("|---|---|---|---|---|")
    for shape in [(20, 24, 20), (40, 56, 40), (64, 96, 64)]:
        image = rng.normal(size=shape).astype(np.float32) * 0.3
        image[tuple(slice(s // 4, 3 * s // 4) for s in shape)] += 2.0
        image = normalise_intensities(image)
        seeds = np.zeros(shape, bool)
        seeds[tuple(s // 2 for s in shape)] = True
        exact = exact_geodesic(image, seeds)
        box = "x".join(map(str, shape))
        if args.geodistk_python:
            for n, (seconds, theirs) in run_geodistk(args.geodistk_python, image, seeds, iterations).items():
                print(f"| {box} | GeodisTK | {n} | {seconds:.4f} | {error(theirs, exact)} |")
        for n in iterations:
            seconds, ours = best_of_3(partial(geodesic_distance, image, seeds, iterations=n, normalise=False))
            print(f"| {box} | nnunet_weak | {n} | {seconds:.4f} | {error(ours, exact)} |")


if __name__ == "__main__":
    main()
