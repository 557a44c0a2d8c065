"""Drop-in for every configuration a user picks: each recommended trainer x {3d_fullres, 2d,
3d_lowres where the sample yields it} x {nnU-Net's default plans, its residual-encoder M preset}
trains one iteration on the bundled sample and predicts with nnU-Net's own predictor; a combination
a method cannot support is refused at start-up with one sentence that names what to use instead."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnunet_weak.dataset import RawDataset
from nnunet_weak.derive import build_weak_dataset, preset_annotator
from nnunet_weak.pipeline import Workspace, run, shrink_plans, write_single_split
from nnunet_weak.sample import SAMPLE_DATASET
from nnunet_weak.trainers import RECOMMENDED_TRAINERS

pytestmark = pytest.mark.slow

DATASET_ID = 997
PLANNERS = {"nnUNetPlans": "ExperimentPlanner", "nnUNetResEncUNetMPlans": "nnUNetPlannerResEncM"}
# (trainer, configuration) pairs that must be refused, and a word the refusal must contain: cross-
# teaching slices 3D patches, the gated CRF (ours and PA-Seg's) is 3D
REFUSED = {(trainer, "2d"): "3d_fullres" for trainer in ("nnUNetTrainerCrossTeach", "nnUNetTrainerGatedCRF",
                                                         "nnUNetTrainerPointSeg", "nnUNetTrainerPointSegResEnc",
                                                         "nnUNetTrainerPointSegSCM")}


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The sample as a 3D2DCT sparse-slice dataset planned by both planners for every configuration,
    shrunk for the CPU (batch 2, features 8-32)."""
    ws = Workspace(tmp_path_factory.mktemp("matrix"))
    dense = RawDataset(shutil.copytree(SAMPLE_DATASET, ws.raw / SAMPLE_DATASET.name))
    cases = dense.cases()
    annotate, parameters = preset_annotator("3d2dct")
    build_weak_dataset(dense, ws.raw / f"Dataset{DATASET_ID}_SampleMatrix", "sparse_slices", annotate, parameters,
                       seed=0, cases=cases[:-1])
    plans = {}
    for name, planner in PLANNERS.items():
        run(["nnUNetv2_plan_and_preprocess", "-d", str(DATASET_ID), "-c", "2d", "3d_fullres", "3d_lowres",
             "-pl", planner, "-np", "1"], ws.env(nnUNet_n_proc_DA="1"), ws.root / "plan.log")
        configurations = json.loads((ws.dataset_folder(DATASET_ID) / f"{name}.json").read_text())["configurations"]
        small = f"{name}_matrix"
        source = name
        for configuration in ("3d_fullres", "2d", "3d_lowres"):
            if configuration in configurations:
                source = shrink_plans(ws, DATASET_ID, batch_size=2, base_features=8, max_features=32,
                                      configuration=configuration, name=small, source=source)
        plans[small] = [c for c in ("3d_fullres", "2d", "3d_lowres") if c in configurations]
    write_single_split(ws, DATASET_ID, cases[:-1], cases[:1])
    images = ws.root / "images"
    images.mkdir()
    shutil.copyfile(dense.image_files(cases[-1])[0], images / dense.image_files(cases[-1])[0].name)
    return ws, plans, cases[-1]


def test_every_recommended_trainer_trains_and_predicts_in_every_configuration(planned, tmp_path):
    ws, plans, test_case = planned
    assert set(plans["nnUNetPlans_matrix"]) >= {"3d_fullres", "2d"}
    results = []
    for plans_name, configurations in plans.items():
        spec = {"dataset": str(DATASET_ID), "plans": [plans_name], "configurations": configurations,
                "trainers": list(RECOMMENDED_TRAINERS), "images": str(ws.root / "images"),
                "output": str(tmp_path / "predictions")}
        (tmp_path / "spec.json").write_text(json.dumps(spec))
        env = ws.env(nnUNet_n_proc_DA="0", nnUNet_def_n_proc="1", nnUNet_weak_epochs="1",
                     nnUNet_weak_iterations_per_epoch="1", nnUNet_weak_val_iterations="1", nnUNet_weak_threads="1",
                     OMP_NUM_THREADS="1")
        driver = Path(__file__).with_name("compatibility_matrix_driver.py")
        done = subprocess.run([sys.executable, str(driver), str(tmp_path / "spec.json"), str(tmp_path / "r.json")],
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        results += json.loads((tmp_path / "r.json").read_text())

    expected = len(RECOMMENDED_TRAINERS) * sum(len(c) for c in plans.values())
    assert len(results) == expected
    problems = []
    for r in results:
        where = f"{r['trainer']} on {r['configuration']} with {r['plans']}"
        word = REFUSED.get((r["trainer"], r["configuration"]))
        if word is None and r["status"] != "ok":
            problems.append(f"{where}: {r.get('traceback', r)}")
        elif word is None and r["predictions"] != [f"{test_case}.nii.gz"]:
            problems.append(f"{where}: predicted {r['predictions']}")
        elif word is not None and r["status"] != "raised":
            problems.append(f"{where} should be refused at start-up")
        elif word is not None and not (word in r["message"] and "\n" not in r["message"]
                                       and r["message"].count(". ") <= 1):
            problems.append(f"{where}: the refusal is not one sentence naming {word}: {r['message']}")
    assert not problems, "\n\n".join(problems)
