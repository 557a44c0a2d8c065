"""Would labelling the expansion's `ignore` band help? Fill it by geodesic competition and look.

    python benchmarks/band_fill.py benchmarks/work/nnUNet_raw/Dataset123_HippoPointsExpandedBgTight \\
        benchmarks/work/band_fill/Dataset123_Filled
    python benchmarks/label_quality.py benchmarks/work/band_fill/Dataset123_Filled \\
        benchmarks/work/nnUNet_raw/Dataset004_Hippocampus

Reads a dataset made by ``nnunet-weak expand-points`` (its sidecar holds the clicks) and writes a
copy (dataset.json, labelsTr; imagesTr linked) where every `ignore` voxel inside an object's box
goes to the object's class if it is geodesically closer (over the image, lambda as given) to the
voxels labelled with that class in the box than to the box's background labels and faces, and to
background otherwise; where two objects claim a voxel, the smaller relative distance
d_class / (d_class + d_background) wins. No `ignore` is left. A benchmark check of the idea
"a term that acts on the band" (benchmarks/RESULTS.md), not an annotation mode: it makes labels
no better than the trained networks' predictions.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from nnunet_weak.annotations.geodesic import geodesic_distance
from nnunet_weak.annotations.points import Click
from nnunet_weak.dataset import RawDataset, read_image
from nnunet_weak.dataset.output import atomic_output_dir
from nnunet_weak.dataset.raw import write_label
from nnunet_weak.dataset.sidecar import read_sidecar


def fill_band(image: np.ndarray, labels: np.ndarray, clicks: list[Click], ignore_label: int,
              spacing: tuple[float, ...], lam: float = 0.5) -> np.ndarray:
    """``labels`` with each box's ``ignore`` voxels assigned by the geodesic competition above."""
    filled = labels.copy()
    best = np.full(labels.shape, np.inf)
    objects: dict[int, list[Click]] = defaultdict(list)
    for click in clicks:
        objects[click.object_id].append(click)
    for members in objects.values():
        object_class = next(c.object_class for c in members if c.role == "inside")
        points = np.array([c.index for c in members])
        box = tuple(slice(a, b) for a, b in zip(points.min(axis=0), points.max(axis=0) + 1, strict=True))
        region = labels[box]
        faces = np.ones(region.shape, bool)
        faces[tuple(slice(1, -1) for _ in region.shape)] = False
        to_class = geodesic_distance(image[box], region == object_class, spacing, lam)
        to_background = geodesic_distance(image[box], (region == 0) | (faces & (region != object_class)), spacing, lam)
        relative = to_class / np.maximum(to_class + to_background, 1e-12)
        claim = (region == ignore_label) & (relative < 0.5) & (relative < best[box])
        filled[box][claim] = object_class
        best[box][claim] = relative[claim]
    filled[filled == ignore_label] = 0
    return filled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expanded", type=Path, help="a dataset made by 'nnunet-weak expand-points'")
    parser.add_argument("output", type=Path)
    parser.add_argument("--lam", type=float, default=0.5, help="geodesic lambda (default 0.5, as the expansion)")
    args = parser.parse_args()
    expanded = RawDataset(args.expanded)
    sidecar = read_sidecar(expanded.folder)
    if "clicks" not in next(iter(sidecar["cases"].values()), {}):
        raise SystemExit(f"{expanded.name}'s sidecar holds no clicks: give a dataset made by "
                         "'nnunet-weak expand-points'")
    with atomic_output_dir(args.output, overwrite=True) as out:
        (out / "labelsTr").mkdir()
        (out / "imagesTr").symlink_to((expanded.folder / "imagesTr").absolute())
        (out / "dataset.json").write_text(json.dumps(expanded.dataset_json, indent=2))
        for case in expanded.cases():
            labels, geometry = expanded.read_label(case)
            image, _ = read_image(expanded.image_files(case)[0])
            clicks = [Click.from_json(c) for c in sidecar["cases"][case]["clicks"]]
            filled = fill_band(image, labels, clicks, expanded.ignore_label, geometry.spacing_zyx, args.lam)
            write_label(filled, geometry, out / "labelsTr" / f"{case}{expanded.file_ending}")


if __name__ == "__main__":
    main()
