"""``nnunet-weak demo``: the whole workflow on the bundled sample, with the stock nnU-Net commands.

sample (8 dense cases) -> 2 held out for testing -> sparse slices (3D2DCT protocol) on the other
6 -> nnUNetv2_plan_and_preprocess -> nnunet-weak check -> nnUNetv2_train -tr TRAINER
-> nnUNetv2_predict -> scores against the dense truth -> PNG overviews. The trainer defaults to
nnUNetTrainerCrossTeach (2D/3D cross-teaching, made for sparse slices). It trains for a few dozen
iterations on one CPU thread: it shows the plumbing, not a useful model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nnunet_weak.dataset import RawDataset
from nnunet_weak.derive import build_weak_dataset, preset_annotator
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.evaluation.evaluate import evaluate_folders
from nnunet_weak.pipeline import Workspace, plan_and_preprocess, predict, shrink_plans, train, write_single_split
from nnunet_weak.preprocessing_check import check_dataset_against_plans
from nnunet_weak.sample import SAMPLE_DATASET
from nnunet_weak.visualise import render_cases

WEAK_ID = 991


def run_demo(out: Path, iterations: int = 60, overwrite: bool = False,
             trainer: str = "nnUNetTrainerCrossTeach") -> dict:
    out = out.absolute()
    if out.exists():
        if not overwrite:
            raise WeakDatasetError(f"{out} already exists; pass --overwrite or choose another -o")
        shutil.rmtree(out)
    ws = Workspace(out)
    ws.raw.mkdir(parents=True)
    dense = RawDataset(shutil.copytree(SAMPLE_DATASET, ws.raw / SAMPLE_DATASET.name))
    cases = dense.cases()
    test, training = cases[-2:], cases[:-2]

    annotate, parameters = preset_annotator("3d2dct")
    sidecar = build_weak_dataset(dense, ws.raw / f"Dataset{WEAK_ID}_HippocampusSampleSlices", "sparse_slices",
                                 annotate, {**parameters, "preset": "3d2dct"}, seed=0, cases=training)
    print(f"weak dataset: {100 * sidecar['totals']['annotated_fraction']:.1f} % of training voxels annotated")

    plan_and_preprocess(ws, WEAK_ID, processes=1)
    check_dataset_against_plans(str(WEAK_ID), "3d_fullres", "nnUNetPlans", str(ws.raw), str(ws.preprocessed))
    plans = shrink_plans(ws, WEAK_ID)
    write_single_split(ws, WEAK_ID, training, training[:2])
    epochs = 2
    train(ws, WEAK_ID, trainer, plans, epochs=epochs, iterations_per_epoch=max(1, iterations // epochs))

    images = ws.root / "test_images"
    images.mkdir()
    for case in test:
        for f in dense.image_files(case):
            shutil.copyfile(f, images / f.name)
    predictions = ws.root / "predictions"
    predict(ws, WEAK_ID, images, predictions, trainer, plans)
    summary = evaluate_folders(predictions, dense.folder, ws.root / "scores")
    print((ws.root / "scores" / "summary.md").read_text())
    for png in render_cases(dense.folder, test, ws.root / "pngs", dense=dense.folder, predictions=predictions):
        print(f"overview: {png}")
    return summary
