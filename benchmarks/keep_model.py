"""Keep a finished run's network in the repository, for re-scoring without retraining.

    python benchmarks/keep_model.py RESULTS_FOLDER --scores benchmarks/scores/RUN__STAMP.json

RESULTS_FOLDER is the run's ``<trainer>__<plans>__3d_fullres`` folder (e.g.
``benchmarks/work/nnUNet_results_cpu-2k/Dataset140_HippoScribbles/nnUNetTrainerGatedCRF__nnUNetPlans_cpu__3d_fullres``);
``--scores`` its archived per-case scores (benchmarks/archive.py), whose name names the kept model:
``benchmarks/models/<run>/`` holds the folder in nnU-Net's layout (plans.json, dataset.json,
dataset_fingerprint.json, fold_0/checkpoint_final.pth with the network weights and what
nnUNetv2_predict reads, no optimiser state: about 5.5 MB for the CPU plans; fold_0's training
logs) and ``about.json`` (where it came from, its scores file). Predict with the stock command:

    nnUNetv2_predict_from_modelfolder -i IMAGES -o OUT -f 0 -device cpu --disable_tta \
        -m benchmarks/models/<run>/<trainer>__<plans>__3d_fullres

(nnunet_weak installed, so that nnU-Net finds our trainer classes; ``--disable_tta`` as the CPU
schedules scored). tests/test_kept_models.py checks that each kept model reproduces its archived
scores on the held-out cases of the bundled sample.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

from nnunet_weak.nnunet_adapter import prediction_checkpoint, read_checkpoint

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = HERE / "models"
COPIED = ("plans.json", "dataset.json", "dataset_fingerprint.json")


def keep_model(results: Path, scores: Path, models: Path = MODELS) -> Path:
    """Write ``models/<run>/`` from a finished training's results folder; returns the model folder."""
    final = results / "fold_0" / "checkpoint_final.pth"
    missing = [str(f) for f in (final, *(results / name for name in COPIED)) if not f.is_file()]
    if missing:
        raise SystemExit(f"keep_model.py: {missing[0]} not found; give the <trainer>__<plans>__<configuration> "
                         "folder of a finished training")
    if not scores.is_relative_to(ROOT) or "__" not in scores.name:
        raise SystemExit(f"keep_model.py: {scores} is not a run's file in the repository; keep the run's scores "
                         "with benchmarks/archive.py first and give that file")
    run = scores.name.rsplit("__", 1)[0]  # archive.py names a file <run>__<YYYYmmdd-HHMM>.json
    trainer = results.name.split("__")[0]
    if f"__{trainer}__" not in f"__{run}__":
        raise SystemExit(f"keep_model.py: {scores.name} scores another trainer than {results.name}'s")
    target = models / run
    if target.exists():
        raise SystemExit(f"keep_model.py: {target} exists; remove it to keep another training of {run}")
    partial = models / f".{run}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    folder = partial / results.name
    (folder / "fold_0").mkdir(parents=True)
    for name in COPIED:
        shutil.copy2(results / name, folder / name)
    for log in sorted((results / "fold_0").glob("training_log_*.txt")):
        shutil.copy2(log, folder / "fold_0" / log.name)
    torch.save(prediction_checkpoint(read_checkpoint(final)), folder / "fold_0" / "checkpoint_final.pth")
    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    about = {"run": run, "scores": str(scores.relative_to(ROOT)), "dataset": results.parent.name,
             "model": results.name,
             "predict": f"nnUNetv2_predict_from_modelfolder -i IMAGES -o OUT -m {shown}/{results.name} "
                        "-f 0 -device cpu --disable_tta"}
    (partial / "about.json").write_text(json.dumps(about, indent=1) + "\n")
    partial.rename(target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="the run's <trainer>__<plans>__<configuration> folder")
    parser.add_argument("--scores", type=Path, required=True, help="the run's archived scores (benchmarks/scores/)")
    parser.add_argument("--to", type=Path, default=MODELS, help="models folder (default benchmarks/models)")
    args = parser.parse_args(argv)
    if not args.scores.is_file():
        sys.exit(f"keep_model.py: {args.scores} not found; give the run's file in benchmarks/scores")
    print(keep_model(args.results.resolve(), args.scores.resolve(), args.to.resolve()))


if __name__ == "__main__":
    main()
