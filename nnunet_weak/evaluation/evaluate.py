"""Score a folder of predictions against a dense raw dataset; write summary.json and summary.md.

nnU-Net's own validation skips ``ignore`` voxels, so on a weak dataset it measures agreement
with the weak annotation. This scores every voxel against the dense truth instead.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nnunet_weak.dataset import RawDataset, read_image
from nnunet_weak.dataset.output import check_output_path
from nnunet_weak.dataset.raw import as_label_array
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.evaluation.metrics import case_metrics

METRICS = ("dice", "hd95", "surface_dice", "volume_ratio")


def _mean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _strict(value):
    """Summary values as strict JSON: NaN (an undefined HD95 mean) becomes null."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def evaluate_folders(pred_folder: str | Path, reference: str | Path, output: str | Path,
                     tolerance_mm: float = 1.0, allow_missing: bool = False) -> dict:
    """Score every prediction in ``pred_folder`` against ``reference``'s dense labelsTr.

    A reference case without a prediction is an error unless ``allow_missing``; a prediction label
    that ``dataset.json`` does not declare is an error. Nothing is written until every case is scored."""
    pred_folder, output = Path(pred_folder), Path(output)
    ref = RawDataset(reference)
    ref.require_dense("evaluate (-ref)")
    if not pred_folder.is_dir():
        raise WeakDatasetError(f"predictions folder {pred_folder} not found; give the -o folder of nnUNetv2_predict")
    # summary.json beside the predictions is nnU-Net's habit; inside the reference dataset it is not
    check_output_path(output, reads=[ref.folder])
    predictions = sorted(p for p in pred_folder.glob(f"*{ref.file_ending}"))
    if not predictions:
        raise WeakDatasetError(f"no predictions ending in {ref.file_ending} in {pred_folder}")
    predicted = {path.name[: -len(ref.file_ending)] for path in predictions}
    unknown = sorted(c for c in predicted if not ref.label_file(c).is_file())
    if unknown:
        raise WeakDatasetError(f"prediction {unknown[0]}{ref.file_ending} has no reference "
                               f"{ref.label_file(unknown[0])}; predict the reference dataset's own cases")
    missing = [] if allow_missing else sorted(set(ref.cases()) - predicted)
    if missing:
        raise WeakDatasetError(f"{len(missing)} reference cases have no prediction in {pred_folder} (e.g. "
                               f"{missing[0]}); predict them, or pass --allow-missing to score the others")
    names = {v: k for k, v in ref.labels.items()}
    classes = ref.foreground_classes
    per_case = {}
    for path in tqdm(predictions, desc="evaluate", unit="case"):
        case = path.name[: -len(ref.file_ending)]
        truth, truth_geometry = ref.read_label(case)
        pred, pred_geometry = read_image(path)
        problem = pred_geometry.mismatch(truth_geometry)
        if problem:
            raise WeakDatasetError(
                f"case {case}: prediction and reference differ in {problem}. Predict from the reference "
                "dataset's own images (nnUNetv2_predict writes predictions on the input grid)."
            )
        pred = as_label_array(pred, f"prediction {path.name}")
        undeclared = sorted(set(np.unique(pred).tolist()) - set(names))
        if undeclared:
            raise WeakDatasetError(f"prediction {path}: label values {undeclared} are not classes of {ref.name} "
                                   f"({sorted(names)}); predict with a model trained on this dataset's classes")
        scores = case_metrics(pred, truth, classes, truth_geometry.spacing_zyx, tolerance_mm)
        per_case[case] = {names[c]: s for c, s in scores.items()}
    summary = summarise(per_case, [names[c] for c in classes], str(ref.folder.resolve()),
                        str(pred_folder.resolve()), tolerance_mm)
    write_summary(summary, output)
    return summary


def summarise(per_case: dict[str, dict[str, dict[str, float]]], class_names: list[str], reference: str,
              predictions: str, tolerance_mm: float) -> dict:
    """The summary of per-case scores ({case: {class name: {metric: value}}}): per class the mean
    over cases, overall the mean over classes; undefined (NaN) values left out of the means."""
    per_class = {n: {m: _mean([per_case[k][n][m] for k in per_case]) for m in METRICS} for n in class_names}
    mean = {m: _mean([per_class[n][m] for n in per_class]) for m in METRICS}
    missing_hd95 = sum(math.isnan(s["hd95"]) for c in per_case.values() for s in c.values())
    return {"reference": reference, "predictions": predictions, "cases": len(per_case),
            "surface_tolerance_mm": tolerance_mm, "mean": mean, "per_class": per_class,
            "hd95_undefined": missing_hd95, "per_case": per_case}


def read_summary(folder: str | Path) -> dict:
    """A summary.json as written, its nulls (undefined values) read back as NaN."""
    return strict_to_nan(json.loads((Path(folder) / "summary.json").read_text()))


def strict_to_nan(value):
    """A summary read from strict JSON, its nulls (undefined values) as NaN again."""
    if isinstance(value, dict):
        return {k: strict_to_nan(v) for k, v in value.items()}
    return float("nan") if value is None else value


def write_summary(summary: dict, output: Path) -> None:
    """summary.md, then summary.json (renamed into place: a kill leaves no truncated summary.json,
    whose presence tells the benchmarks a run is scored)."""
    output.mkdir(parents=True, exist_ok=True)
    (output / "summary.md").write_text(markdown_table(summary))
    partial = output / f".summary.json.partial-{os.getpid()}"
    partial.write_text(json.dumps(_strict(summary), indent=1, allow_nan=False))
    partial.replace(output / "summary.json")


def markdown_table(summary: dict) -> str:
    lines = [f"Scored against dense truth: {summary['cases']} cases, surface Dice at "
             f"{summary['surface_tolerance_mm']} mm.", "",
             "| class | Dice | HD95 (mm) | surface Dice | volume predicted/true |", "|---|---|---|---|---|"]
    for name, s in [*summary["per_class"].items(), ("**mean**", summary["mean"])]:
        lines.append(f"| {name} | {s['dice']:.4f} | {s['hd95']:.2f} | {s['surface_dice']:.4f} "
                     f"| {s['volume_ratio']:.2f} |")
    if summary["hd95_undefined"]:
        lines += ["", f"HD95 undefined (one mask empty) for {summary['hd95_undefined']} case-class pairs; "
                      "left out of the HD95 means."]
    return "\n".join(lines) + "\n"
