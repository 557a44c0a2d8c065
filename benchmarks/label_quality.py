"""How right a weak dataset's labels are, against the dense labels it was derived from.

    python benchmarks/label_quality.py benchmarks/work/nnUNet_raw/Dataset118_HippoPointsExpanded \\
        benchmarks/work/nnUNet_raw/Dataset004_Hippocampus

Per class: the share of voxels labelled with the class that truly are the class (precision)
and the share of the true class that got the label (coverage); the share of background labels
that are wrong, and the share of voxels left ``ignore``. Summed over all cases of the weak dataset.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnunet_weak.dataset import RawDataset


def label_quality(weak: RawDataset, dense: RawDataset) -> dict:
    classes = weak.foreground_classes
    counts = {c: [0, 0, 0] for c in classes}  # correct, labelled, true
    background = wrong_background = ignored = total = 0
    for case in weak.cases():
        w, _ = weak.read_label(case)
        d, _ = dense.read_label(case)
        for c in classes:
            counts[c][0] += int(((w == c) & (d == c)).sum())
            counts[c][1] += int((w == c).sum())
            counts[c][2] += int((d == c).sum())
        background += int((w == 0).sum())
        wrong_background += int(((w == 0) & (d > 0)).sum())
        ignored += int((w == weak.ignore_label).sum())
        total += w.size
    return {
        "classes": {c: {"precision": k[0] / max(k[1], 1), "coverage": k[0] / max(k[2], 1)} for c, k in counts.items()},
        "background_wrong": wrong_background / max(background, 1),
        "ignore": ignored / max(total, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weak", type=Path)
    parser.add_argument("dense", type=Path)
    args = parser.parse_args()
    quality = label_quality(RawDataset(args.weak), RawDataset(args.dense))
    for c, q in quality["classes"].items():
        print(f"class {c}: precision {q['precision']:.3f}, coverage {q['coverage']:.3f}")
    print(f"background labels wrong: {quality['background_wrong']:.4f}; ignore: {quality['ignore']:.3f} of voxels")


if __name__ == "__main__":
    main()
