"""How right a weak dataset's labels are, against the dense labels it was derived from.

    python benchmarks/label_quality.py benchmarks/work/nnUNet_raw/Dataset118_HippoPointsExpanded \\
        benchmarks/work/nnUNet_raw/Dataset004_Hippocampus

Per class: the share of voxels labelled with the class that truly are the class (precision)
and the share of the true class that got the label (coverage); the share of background labels
that are wrong, and the share of voxels left ``ignore``. Summed over all cases of the weak dataset.

With ``--predictions DIR`` (a network's predictions of cases of the weak dataset, e.g. nnU-Net's
``fold_0/validation``) it also says where that network goes wrong, by the weak label under each
error: per class, its false positives (predicted the class, truly not) and false negatives
(truly the class, predicted not) split into voxels the weak dataset left ``ignore``, labelled
background, labelled this class or labelled another class. Errors under ``ignore`` were
extrapolated; errors under a (wrong) label were taught.

With ``--distances`` it also says how far the wrong labels lie from what they claim to be: per
class, the voxels labelled with the class that truly are not, by their distance in mm (the
images' spacing) to the nearest voxel truly of the class. Wrong labels within a few mm blur the
boundary; those further out leaked into other structures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

from nnunet_weak.dataset import RawDataset, read_image
from nnunet_weak.dataset.raw import as_label_array

WEAK_LABEL_KINDS = ("ignore", "background", "this class", "other class")
DISTANCE_BINS_MM = (1.0, 3.0, 10.0)  # upper edges; a last bin holds everything further out


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


def error_sources(weak: RawDataset, dense: RawDataset, predictions: Path) -> dict:
    """Per class: false positive and false negative voxel counts by the weak label under them
    (:data:`WEAK_LABEL_KINDS`), summed over the cases of ``weak`` that ``predictions`` holds."""
    classes = weak.foreground_classes
    counts = {c: {"false_positive": dict.fromkeys(WEAK_LABEL_KINDS, 0),
                  "false_negative": dict.fromkeys(WEAK_LABEL_KINDS, 0), "true": 0, "predicted": 0} for c in classes}
    cases = [c for c in weak.cases() if (predictions / f"{c}{weak.file_ending}").is_file()]
    if not cases:
        raise SystemExit(f"{predictions} holds no prediction named like a case of {weak.name} "
                         f"(e.g. {weak.cases()[0]}{weak.file_ending})")
    for case in cases:
        w, _ = weak.read_label(case)
        d, _ = dense.read_label(case)
        p = as_label_array(read_image(predictions / f"{case}{weak.file_ending}")[0], f"prediction of {case}")
        if p.shape != d.shape:
            raise SystemExit(f"prediction of {case} has shape {p.shape}, its label {d.shape}: give predictions "
                             "of this dataset's own images (nnUNetv2_predict writes them in the images' geometry)")
        for c in classes:
            kinds = {"ignore": w == weak.ignore_label, "background": w == 0, "this class": w == c,
                     "other class": (w > 0) & (w != c) & (w != weak.ignore_label)}
            for error, mask in (("false_positive", (p == c) & (d != c)), ("false_negative", (p != c) & (d == c))):
                for kind, where in kinds.items():
                    counts[c][error][kind] += int((mask & where).sum())
            counts[c]["true"] += int((d == c).sum())
            counts[c]["predicted"] += int((p == c).sum())
    return {"cases": len(cases), "classes": counts}


def wrong_label_distances(weak: RawDataset, dense: RawDataset, bins: tuple[float, ...] = DISTANCE_BINS_MM) -> dict:
    """Per class: counts of the voxels labelled with the class that truly are not, by their distance
    in mm to the nearest voxel truly of the class, in the bins ``(0, bins[0]], (bins[0], bins[1]],
    ..., (bins[-1], inf)``; a case without the class counts its wrong labels in the last bin."""
    edges = np.asarray(bins, float)
    counts = {c: np.zeros(len(edges) + 1, int) for c in weak.foreground_classes}
    for case in weak.cases():
        w, geometry = weak.read_label(case)
        d, _ = dense.read_label(case)
        for c in counts:
            wrong = (w == c) & (d != c)
            if not wrong.any():
                continue
            if (d == c).any():
                distance = ndimage.distance_transform_edt(d != c, sampling=geometry.spacing_zyx)[wrong]
            else:
                distance = np.full(int(wrong.sum()), np.inf)
            counts[c] += np.bincount(np.searchsorted(edges, distance, side="left"), minlength=len(edges) + 1)
    return {c: k.tolist() for c, k in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weak", type=Path)
    parser.add_argument("dense", type=Path)
    parser.add_argument("--predictions", type=Path, help="predictions of cases of the weak dataset: where they err")
    parser.add_argument("--distances", action="store_true", help="how far wrong labels lie from the class they claim")
    args = parser.parse_args()
    weak, dense = RawDataset(args.weak), RawDataset(args.dense)
    quality = label_quality(weak, dense)
    for c, q in quality["classes"].items():
        print(f"class {c}: precision {q['precision']:.3f}, coverage {q['coverage']:.3f}")
    print(f"background labels wrong: {quality['background_wrong']:.4f}; ignore: {quality['ignore']:.3f} of voxels")
    if args.distances:
        edges = DISTANCE_BINS_MM
        names = [f"<= {edges[0]:g} mm", *(f"{a:g}-{b:g} mm" for a, b in zip(edges, edges[1:], strict=False)),
                 f"> {edges[-1]:g} mm"]
        for c, k in wrong_label_distances(weak, dense).items():
            shares = ", ".join(f"{name} {n / max(sum(k), 1):.2f}" for name, n in zip(names, k, strict=True))
            print(f"class {c}: {sum(k)} wrong labels, by distance to the true class: {shares}")
    if args.predictions:
        sources = error_sources(weak, dense, args.predictions)
        print(f"errors of {args.predictions} ({sources['cases']} cases), by the weak label under them:")
        for c, k in sources["classes"].items():
            print(f"class {c}: true {k['true']} voxels, predicted {k['predicted']}")
            for error in ("false_positive", "false_negative"):
                total = sum(k[error].values())
                shares = ", ".join(f"{kind} {n / max(total, 1):.2f}" for kind, n in k[error].items())
                print(f"  {error.replace('_', ' ')}s {total}: {shares}")


if __name__ == "__main__":
    main()
