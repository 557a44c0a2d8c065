"""Our trainers through nnU-Net's own entry points, in fresh processes, as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import SimpleITK as sitk

from nnunet_weak.ext_trainer import OPT_OUT_VAR, SHIM_FOLDER
from nnunet_weak.pipeline import executable

LOOKUP = ("from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name as find; "
          "import nnunet_weak.trainers as ours; "
          "print('SAME' if find('nnUNetTrainerBenchmark') is ours.nnUNetTrainerBenchmark else 'OTHER')")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "nnUNet_extTrainer" and k != OPT_OUT_VAR}
    env.update(extra)
    return env


def test_stock_lookup_finds_our_trainer_with_no_setup():
    out = subprocess.run([sys.executable, "-c", LOOKUP], env=clean_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("SAME")


def test_without_the_start_up_hook_the_stock_lookup_fails():
    out = subprocess.run([sys.executable, "-c", LOOKUP], env=clean_env(**{OPT_OUT_VAR: "1"}),
                         capture_output=True, text=True)
    assert out.returncode != 0 and "Could not find requested nnunet trainer" in out.stderr


def test_ext_trainer_path_prints_a_folder_holding_only_the_shim():
    out = subprocess.run([executable("nnunet-weak"), "ext-trainer-path"], capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert folder == SHIM_FOLDER
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".py") == ["nnunet_weak_trainers.py"]


def test_help_shows_an_example():
    out = subprocess.run([executable("nnunet-weak"), "slices", "--help"], capture_output=True, text=True, check=True)
    assert "example:" in out.stdout and "nnunet-weak slices -i" in out.stdout


@pytest.mark.slow
def test_demo_trains_with_stock_train_and_predict(tmp_path):
    """The README's main job, as README runs it (the stock trainer; our trainers go through the stock
    commands in their own tests): bundled cases -> sparse slices -> nnUNetv2_plan_and_preprocess ->
    nnUNetv2_train -> nnUNetv2_predict -> Dice on held-out cases -> PNGs; nnU-Net's output goes to
    logs, not the console."""
    work = tmp_path / "demo"
    out = subprocess.run([executable("nnunet-weak"), "demo", "-o", str(work), "--iterations", "4"],
                         env=clean_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "$ nnUNetv2_train 991 3d_fullres 0 -tr nnUNetTrainerBenchmark" in out.stdout
    assert "Epoch 0" not in out.stdout and "plans.json settings" not in out.stdout  # nnU-Net's dump is in logs/
    assert "Epoch 0" in (work / "logs" / "train_nnUNetTrainerBenchmark.log").read_text()
    held_out = ["hippocampus_042", "hippocampus_044", "hippocampus_045", "hippocampus_046"]
    trainer = "nnUNetTrainerBenchmark"
    fold = work / "nnUNet_results" / "Dataset991_HippocampusDemoSlices" / \
        f"{trainer}__nnUNetPlans_cpu__3d_fullres" / "fold_0"
    debug = json.loads((fold / "debug.json").read_text())
    assert (debug["num_epochs"], debug["num_iterations_per_epoch"]) == ("4", "1")
    predictions = sorted((work / "predictions" / trainer).glob("*.nii.gz"))
    assert [p.name for p in predictions] == [f"{c}.nii.gz" for c in held_out]
    for p in predictions:
        pred, image = sitk.ReadImage(str(p)), sitk.ReadImage(str(work / "test_images" / p.name.replace(
            ".nii.gz", "_0000.nii.gz")))
        assert pred.GetSize() == image.GetSize() and pred.GetSpacing() == image.GetSpacing()
    summary = json.loads((work / "scores" / trainer / "summary.json").read_text())
    assert summary["cases"] == 4 and set(summary["per_class"]) == {"anterior", "posterior"}
    # the printed table carries the scored mean Dice
    assert f"{summary['mean']['dice']:>8.3f}" in out.stdout.split(trainer)[-1].splitlines()[0]
    # the held-out cases were never part of the weak (training) dataset
    weak_labels = work / "nnUNet_raw" / "Dataset991_HippocampusDemoSlices" / "labelsTr"
    weak_cases = sorted(p.name for p in weak_labels.iterdir())
    assert len(weak_cases) == 20 and not set(weak_cases) & {f"{c}.nii.gz" for c in held_out}
    assert sorted(p.stem for p in (work / "pngs").glob("*.png")) == sorted([*held_out, "hippocampus_003"])
    assert "total time" in out.stdout
