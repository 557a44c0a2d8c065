"""nnU-Net's 5-fold cross-validation as a benchmark split: fold f is a benchmark of its own in
``work/fold_f`` that holds out nnU-Net's validation cases of fold f and derives every weak dataset
from the fold's training cases alone; its runs are pooled over the folds so that every case is
scored once, by the fold that held it out."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from nnunet_weak.benchmark.cost import Rate
from nnunet_weak.benchmark.protocol import Arm
from nnunet_weak.benchmark.runner import RUN_KEYS, claim, run_benchmark, say
from nnunet_weak.dataset import RawDataset
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.evaluation.evaluate import read_summary, summarise, write_summary
from nnunet_weak.nnunet_adapter import CROSSVAL_FOLDS as FOLDS
from nnunet_weak.nnunet_adapter import crossval_validation_cases
from nnunet_weak.pipeline import Workspace

POOLED = "scores_pooled"  # work/scores_pooled/<run>: the folds' per-case scores of one run together


def run_cross_validation(dense_folder: Path, work: Path, arms: Sequence[Arm], schedule: str, repeats: int,
                         cost_model: dict[str, Rate], folds: Sequence[int], jobs: int = 1,
                         reuse: Path | None = None, archive: Path | None = None,
                         target_spacing: Sequence[float] | None = None, train: bool = True) -> list[dict]:
    """Run the benchmark on each of nnU-Net's ``folds`` (0-4) (planned at ``target_spacing`` if
    given) and return one row per run pooled over them (Dice, HD95 and surface Dice over every
    held-out case; annotator hours, % voxels and seconds per iteration averaged over the folds).
    ``train=False``: nothing trains; a run not scored in every fold comes back marked "missing"."""
    dense = RawDataset(dense_folder)
    dense.require_dense("nnunet-weak benchmark (-d)")
    cases = dense.cases()
    if len(cases) < FOLDS:
        raise WeakDatasetError(f"{dense.name}: {len(cases)} cases are too few for nnU-Net's {FOLDS}-fold "
                               "cross-validation; give --test-cases instead of --folds")
    folds = sorted(set(folds))
    root = Path(work).resolve()
    claim(Workspace(root), dense, {"cross_validation": FOLDS}, target_spacing)  # any folds of it: run more later
    validation = crossval_validation_cases(cases)
    rows = []
    for fold in folds:
        say(f"fold {fold} of nnU-Net's {FOLDS}-fold cross-validation: {len(validation[fold])} held-out cases "
            f"(work: {root / f'fold_{fold}'})")
        for row in run_benchmark(dense.folder, root / f"fold_{fold}", arms, schedule, repeats, cost_model,
                                 test_cases=validation[fold], jobs=jobs, reuse=reuse,
                                 archive=archive, target_spacing=target_spacing, train=train, fold=fold):
            rows.append({**row, "fold": fold} if row.get("missing") else
                        {**row, "fold": fold, "scores": f"fold_{fold}/{row['scores']}"})
    names = {value: name for name, value in dense.labels.items()}
    return pool_folds(rows, root, [names[c] for c in dense.foreground_classes], str(dense.folder.resolve()))


def pool_folds(rows: list[dict], work: Path, class_names: list[str], reference: str) -> list[dict]:
    """One row per arm, data, trainer and repeat from its rows of every fold: the per-case scores
    of the folds written together to ``work/scores_pooled/<run>`` and summarised as one run; a run
    missing in any fold (``--no-train``) stays one row marked "missing"."""
    runs: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        runs[(row["arm"], row["data"], row["trainer"], row["repeat"])].append(row)
    pooled = []
    for fold_rows in runs.values():
        if any(row.get("missing") for row in fold_rows):
            pooled.append({key: fold_rows[0][key] for key in RUN_KEYS} | {"missing": True})
            continue
        per_case, folders, tolerance = {}, [], 1.0
        for row in fold_rows:
            fold_summary = read_summary(work / row["scores"])
            per_case.update(fold_summary["per_case"])
            folders.append(fold_summary["predictions"])
            tolerance = fold_summary["surface_tolerance_mm"]
        name = Path(fold_rows[0]["scores"]).name
        summary = summarise(per_case, class_names, reference, ", ".join(folders), tolerance)
        write_summary(summary, work / POOLED / name)
        first = fold_rows[0]
        pooled.append({**first, "folds": " ".join(str(r["fold"]) for r in fold_rows),
                       "dice": summary["mean"]["dice"], "hd95": summary["mean"]["hd95"],
                       "surface_dice": summary["mean"]["surface_dice"], "test_cases": len(per_case),
                       "scores": f"{POOLED}/{name}",
                       **{key: _mean(r[key] for r in fold_rows)
                          for key in ("annotator_hours", "voxel_percent", "labelled_cases", "training_cases",
                                      "seconds_per_iteration")},
                       "peak_mib": max((r["peak_mib"] for r in fold_rows if not math.isnan(r["peak_mib"])),
                                       default=math.nan),
                       "annotator_seconds": {key: _mean(r["annotator_seconds"][key] for r in fold_rows)
                                             for key in first["annotator_seconds"]},
                       "dataset": ", ".join(f"fold_{r['fold']}/{r['dataset']}" for r in fold_rows)})
        pooled[-1].pop("fold")
    return pooled


def _mean(values) -> float:
    """The mean of the defined values (a fold whose log has no epoch time gives NaN s/it)."""
    finite = [float(v) for v in values if not math.isnan(v)]
    return statistics.fmean(finite) if finite else math.nan
