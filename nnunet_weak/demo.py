"""``nnunet-weak demo``: a real model from sparse slices on the bundled cases, with the stock nnU-Net commands.

bundled hippocampus cases (the test sample + the demo's extra cases, see sample/ATTRIBUTION.md)
-> the last ``HELD_OUT`` held out -> sparse slices (3D2DCT protocol) on the others ->
nnUNetv2_plan_and_preprocess -> nnunet-weak check -> nnUNetv2_train -tr TRAINER -> nnUNetv2_predict
-> Dice against the held-out cases' dense truth -> PNG overviews. The console shows the steps, the
commands and the result; nnU-Net's own output goes to ``<out>/logs/``.

The schedule (``--iterations``, default 1000, on nnU-Net's plan shrunk to batch 2, features 16-128,
augmentation in one worker process, two torch threads) is what fits about ten minutes of training
and prediction on two CPU cores with the stock trainer. ``-tr nnUNetTrainerCrossTeach --baseline``
trains our cross-teaching trainer and the stock one on the same slices for a side-by-side (about
2.2x the stock trainer's time per iteration in RESULTS' cost table; the pair was not timed here).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from nnunet_weak.dataset import RawDataset
from nnunet_weak.derive import build_weak_dataset, preset_annotator
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.evaluation.evaluate import evaluate_folders
from nnunet_weak.pipeline import Workspace, plan_and_preprocess, predict, shrink_plans, train, write_single_split
from nnunet_weak.preprocessing_check import check_dataset_against_plans
from nnunet_weak.sample import DEMO_CASES, SAMPLE_DATASET
from nnunet_weak.visualise import render_cases

WEAK_ID = 991
MARKER = ".nnunet_weak_demo"  # marks a work folder the demo may replace with --overwrite
HELD_OUT = 4
EPOCHS = 4
BASELINE = "nnUNetTrainerBenchmark"
PRESET = "3d2dct"
# one training at a time: both cores for the network (one torch thread left the second core idle,
# 0.9 s per iteration); augmentation, a few per cent of the work, in one worker process
TRAINING_ENV = {"nnUNet_weak_threads": "2", "OMP_NUM_THREADS": "2", "nnUNet_n_proc_DA": "1"}


def _dense_dataset(ws: Workspace) -> RawDataset:
    """The sample plus the demo's extra cases as one dense raw dataset in the work folder."""
    dense = ws.raw / SAMPLE_DATASET.name
    shutil.copytree(SAMPLE_DATASET, dense)
    for sub in ("imagesTr", "labelsTr"):
        for f in sorted((DEMO_CASES / sub).glob("*.nii.gz")):
            shutil.copyfile(f, dense / sub / f.name)
    dataset_json = json.loads((dense / "dataset.json").read_text())
    dataset_json["numTraining"] = len(list((dense / "labelsTr").glob("*.nii.gz")))
    (dense / "dataset.json").write_text(json.dumps(dataset_json, indent=1))
    return RawDataset(dense)


def _step(number: int, total: int, text: str) -> None:
    print(f"\n[{number}/{total}] {text}", flush=True)


def run_demo(out: Path, iterations: int, overwrite: bool = False,
             trainer: str = BASELINE, baseline: bool = False) -> dict[str, dict]:
    """Run the demo in ``out``; returns {trainer: evaluate_folders summary} and prints a result table."""
    if iterations < EPOCHS:
        raise WeakDatasetError(f"--iterations must be at least {EPOCHS} (one per epoch), got {iterations}")
    started = time.monotonic()
    out = out.absolute()
    if out.exists():
        if not overwrite:
            raise WeakDatasetError(f"{out} already exists; pass --overwrite or choose another -o")
        if not (out / MARKER).is_file():  # --overwrite deletes the folder: only one the demo made
            raise WeakDatasetError(f"{out} is not a demo work folder (no {MARKER} in it); --overwrite replaces "
                                   "only folders the demo made. Choose another -o")
        shutil.rmtree(out)
    ws, logs = Workspace(out), out / "logs"
    ws.raw.mkdir(parents=True)
    (out / MARKER).write_text("made by nnunet-weak demo; --overwrite may replace this folder\n")
    trainers = [trainer] + ([BASELINE] if baseline and trainer != BASELINE else [])
    total = 4 + len(trainers)

    dense = _dense_dataset(ws)
    cases = dense.cases()
    test, training = cases[-HELD_OUT:], cases[:-HELD_OUT]
    _step(1, total, f"weak dataset: {len(training)} real hippocampus cases keep only sparse slices ({PRESET} "
                    f"preset); {len(test)} more are held out for testing")
    annotate, parameters = preset_annotator(PRESET)
    weak_folder = ws.raw / f"Dataset{WEAK_ID}_HippocampusDemoSlices"
    sidecar = build_weak_dataset(dense, weak_folder, "sparse_slices", annotate, {**parameters, "preset": PRESET},
                                 seed=0, cases=training)
    print(f"{100 * sidecar['totals']['annotated_fraction']:.1f} % of the training voxels are labelled, "
          "the rest is nnU-Net's ignore label")

    _step(2, total, "plan and preprocess with the stock command, then check that resampling keeps the slices")
    plan_and_preprocess(ws, WEAK_ID, processes=2, log=logs / "plan_and_preprocess.log")
    check_dataset_against_plans(str(WEAK_ID), "3d_fullres", "nnUNetPlans", str(ws.raw), str(ws.preprocessed))
    plans = shrink_plans(ws, WEAK_ID)
    write_single_split(ws, WEAK_ID, training, training[:2])
    print(f"plans {plans}: nnU-Net's plan shrunk for the CPU (batch 2, features 16-128)")

    images = ws.root / "test_images"
    images.mkdir()
    for case in test:
        for f in dense.image_files(case):
            shutil.copyfile(f, images / f.name)
    predictions, summaries, minutes = {}, {}, {}
    for number, name in enumerate(trainers, start=3):
        _step(number, total, f"train {name} for {iterations} iterations on the CPU, then predict the held-out cases")
        began = time.monotonic()
        train(ws, WEAK_ID, name, plans, epochs=EPOCHS, iterations_per_epoch=max(1, iterations // EPOCHS),
              log=logs / f"train_{name}.log", env=TRAINING_ENV)
        predictions[name] = ws.root / "predictions" / name
        predict(ws, WEAK_ID, images, predictions[name], name, plans, log=logs / f"predict_{name}.log")
        minutes[name] = (time.monotonic() - began) / 60
        summaries[name] = evaluate_folders(predictions[name], dense.folder, ws.root / "scores" / name,
                                           allow_missing=True)  # the held-out cases only

    _step(total - 1, total, "PNG overviews (held-out cases: image, dense truth, predictions; one training case: "
                            "its weak annotation)")
    pngs = ws.root / "pngs"
    written = render_cases(dense.folder, test, pngs, dense=dense.folder, predictions=predictions, weak_column=False)
    written += render_cases(weak_folder, training[:1], pngs, dense=dense.folder)
    for png in written:
        print(png)

    _step(total, total, f"Dice against the dense truth of the {len(test)} held-out cases")
    classes = list(next(iter(summaries.values()))["per_class"])
    print(f"{'trainer':<28}" + "".join(f"{c:>12}" for c in classes) + f"{'mean':>8}{'minutes':>9}")
    for name, summary in summaries.items():
        print(f"{name:<28}" + "".join(f"{summary['per_class'][c]['dice']:>12.3f}" for c in classes)
              + f"{summary['mean']['dice']:>8.3f}{minutes[name]:>9.1f}")
    print(f"\ntotal time {(time.monotonic() - started) / 60:.1f} min; scores in {ws.root / 'scores'}, "
          f"nnU-Net's logs in {logs}")
    if trainer == BASELINE:
        print("The trainer made for sparse slices: nnunet-weak demo -tr nnUNetTrainerCrossTeach --baseline "
              "(about 2.2x the time per iteration; see README's decision table for what it bought in our benchmark)")
    return summaries
