"""Our geodesic distance against GeodisTK 0.1.7 (PA-Seg's), same inputs, one CPU thread.

    python benchmarks/geodistk_compare.py --geodistk-python /path/to/venv/bin/python

GeodisTK does not build against numpy 2, so it lives in its own environment, e.g.
``python3 -m venv gv && gv/bin/pip install "numpy<2" setuptools wheel &&
gv/bin/pip install --no-build-isolation GeodisTK==0.1.7``; this script hands it the inputs as
.npy files. Inputs as in geodesic_speed.py (noisy box, one central seed), intensities already
standardised so both use the same cost (lambda 0.5). Reports the best of 3 timings per call and,
where the exact 26-neighbour Dijkstra is affordable, the relative error of each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from nnunet_weak.annotations.geodesic import geodesic_distance, geodesic_distance_dijkstra, normalise_intensities

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


def best_of_3(function):
    best, out = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        out = function()
        best = min(best, time.perf_counter() - start)
    return best, out


def error(approx: np.ndarray, exact: np.ndarray | None) -> str:
    if exact is None:
        return "-"
    rel = (approx[exact > 0] - exact[exact > 0]) / exact[exact > 0]
    return f"{100 * np.abs(rel).mean():.2f} % / {100 * np.percentile(np.abs(rel), 99):.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--geodistk-python", required=True, help="interpreter of an environment with GeodisTK")
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
        exact = geodesic_distance_dijkstra(image, seeds, normalise=False) if np.prod(shape) <= 9600 else None
        with tempfile.TemporaryDirectory() as folder:
            np.save(f"{folder}/image.npy", image)
            np.save(f"{folder}/seeds.npy", seeds)
            out = subprocess.run([args.geodistk_python, "-c", GEODISTK, folder, json.dumps(iterations)],
                                 capture_output=True, text=True, check=True, env={"OMP_NUM_THREADS": "1"})
            times = json.loads(out.stdout.strip().splitlines()[-1])
            box = "x".join(map(str, shape))
            for n in iterations:
                theirs = np.load(Path(folder) / f"geodistk_{n}.npy")
                print(f"| {box} | GeodisTK | {n} | {times[str(n)]:.3f} | {error(theirs, exact)} |")
        for n in iterations:
            seconds, ours = best_of_3(partial(geodesic_distance, image, seeds, iterations=n, normalise=False))
            print(f"| {box} | nnunet_weak | {n} | {seconds:.3f} | {error(ours, exact)} |")


if __name__ == "__main__":
    main()
