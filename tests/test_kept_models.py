"""The networks kept in benchmarks/models (benchmarks/keep_model.py): weights only, loaded by stock
nnU-Net's predictor (what ``nnUNetv2_predict_from_modelfolder`` runs), and predicting the bundled
cases that were held out by their benchmark run exactly as that run scored them (its archived
per-case Dice in benchmarks/scores)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from nnunet_weak.dataset import read_image
from nnunet_weak.evaluation.metrics import case_metrics
from nnunet_weak.nnunet_adapter import PREDICTION_KEYS, read_checkpoint
from nnunet_weak.sample import SAMPLE_DATASET

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted(p for p in (ROOT / "benchmarks" / "models").iterdir() if p.is_dir() and not p.name.startswith("."))
BUNDLED = [SAMPLE_DATASET, SAMPLE_DATASET.parent / "demo_cases"]  # hippocampus cases, dense labels


def test_models_are_kept():
    assert MODELS, "benchmarks/models holds no model"


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_a_kept_model_predicts_with_stock_nnunet_as_its_run_scored(model, tmp_path):
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

    about = json.loads((model / "about.json").read_text())
    folder = model / about["model"]
    assert set(read_checkpoint(folder / "fold_0" / "checkpoint_final.pth")) == set(PREDICTION_KEYS)
    archived = json.loads((ROOT / about["scores"]).read_text())["per_case"]
    images, labels = tmp_path / "images", {}
    images.mkdir()
    for dataset in BUNDLED:
        for image in (dataset / "imagesTr").glob("*_0000.nii.gz"):
            case = image.name.removesuffix("_0000.nii.gz")
            if case in archived:  # held out by the run: scored there
                (images / image.name).symlink_to(image)
                labels[case] = dataset / "labelsTr" / f"{case}.nii.gz"
    assert len(labels) >= 2, sorted(archived)[:5]

    predictor = nnUNetPredictor(use_mirroring=False, device=torch.device("cpu"), allow_tqdm=False)
    predictor.initialize_from_trained_model_folder(str(folder), use_folds=(0,), checkpoint_name="checkpoint_final.pth")
    predictor.predict_from_files(str(images), str(tmp_path / "out"), save_probabilities=False, overwrite=True,
                                 num_processes_preprocessing=1, num_processes_segmentation_export=1)
    names = {int(v): k for k, v in json.loads((folder / "dataset.json").read_text())["labels"].items()}
    for case, label_file in labels.items():
        prediction, _ = read_image(tmp_path / "out" / f"{case}.nii.gz")
        truth, geometry = read_image(label_file)
        scores = case_metrics(np.asarray(prediction), np.asarray(truth), [1, 2], geometry.spacing_zyx, 1.0)
        for value, s in scores.items():
            assert s["dice"] == pytest.approx(archived[case][names[value]]["dice"], abs=2e-3), (case, names[value])


def test_keeping_a_model_refuses_scores_of_another_trainer_or_outside_the_repository(tmp_path):
    """benchmarks/keep_model.py stops with one line before writing anything."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("keep_model", ROOT / "benchmarks" / "keep_model.py")
    keep = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = keep
    spec.loader.exec_module(keep)
    about = json.loads((MODELS[0] / "about.json").read_text())
    folder = MODELS[0] / about["model"]  # a kept model has the files a results folder needs
    other = "nnUNetTrainerGatedCRF" if "Benchmark" in folder.name else "nnUNetTrainerBenchmark"
    wrong = next((ROOT / "benchmarks" / "scores").glob(f"*__{other}__*.json"))
    for scores, message in ((wrong, "scores another trainer than"),
                            (tmp_path / "run__x__cpu-2k__1.json", "is not a run's file in the repository"),
                            (ROOT / about["scores"], "not found; give the <trainer>__<plans>")):
        results = tmp_path / "empty" if "not found" in message else folder
        with pytest.raises(SystemExit, match=message):
            keep.keep_model(results, scores, tmp_path / "models")
    assert not (tmp_path / "models").exists()
