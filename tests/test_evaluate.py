"""Evaluation against dense truth on the real sample."""

import json
import shutil

import numpy as np
import pytest
import SimpleITK as sitk

from nnunet_weak.cli import main
from nnunet_weak.evaluation.evaluate import evaluate_folders


def test_perfect_and_damaged_predictions_score_as_expected(sample, tmp_path):
    pred = tmp_path / "pred"
    pred.mkdir()
    for case in sample.cases()[:3]:
        shutil.copyfile(sample.label_file(case), pred / sample.label_file(case).name)
    summary = evaluate_folders(pred, sample.folder, tmp_path / "scores", allow_missing=True)
    assert summary["cases"] == 3 and summary["mean"]["dice"] == 1.0 and summary["mean"]["hd95"] == 0.0
    assert summary["mean"]["volume_ratio"] == 1.0
    # remove the posterior class from one prediction: its Dice is 0 for that class
    case = sample.cases()[0]
    labels, geometry = sample.read_label(case)
    damaged = np.where(labels == 2, 0, labels).astype(np.uint8)
    sitk.WriteImage(geometry.to_image(damaged), str(pred / f"{case}.nii.gz"))
    summary = evaluate_folders(pred, sample.folder, tmp_path / "scores", allow_missing=True)
    assert summary["per_case"][case]["posterior"]["dice"] == 0.0
    assert summary["per_class"]["posterior"]["dice"] == pytest.approx(2 / 3)
    assert summary["per_case"][case]["posterior"]["volume_ratio"] == 0.0
    assert summary["per_class"]["posterior"]["volume_ratio"] == pytest.approx(2 / 3)
    assert summary["hd95_undefined"] == 1
    table = (tmp_path / "scores" / "summary.md").read_text()
    assert "| posterior | 0.6667 |" in table and "| 0.67 |" in table
    assert json.loads((tmp_path / "scores" / "summary.json").read_text())["cases"] == 3


def test_geometry_mismatch_is_refused_with_case_name(sample, tmp_path, capsys):
    pred = tmp_path / "pred"
    pred.mkdir()
    case = sample.cases()[0]
    image = sitk.ReadImage(str(sample.label_file(case)))
    image.SetOrigin((5.0, 0.0, 0.0))
    sitk.WriteImage(image, str(pred / f"{case}.nii.gz"))
    assert main(["evaluate", "-pred", str(pred), "-ref", str(sample.folder), "-o", str(tmp_path / "s"),
                 "--allow-missing"]) == 2
    err = capsys.readouterr().err
    assert case in err and "origin" in err


def test_weak_reference_is_refused(sample, tmp_path, capsys):
    weak = tmp_path / "Dataset130_W"
    main(["slices", "-i", str(sample.folder), "-o", str(weak), "--count", "2"])
    pred = tmp_path / "pred"
    pred.mkdir()
    shutil.copyfile(sample.label_file(sample.cases()[0]), pred / sample.label_file(sample.cases()[0]).name)
    assert main(["evaluate", "-pred", str(pred), "-ref", str(weak), "-o", str(tmp_path / "s")]) == 2
    assert "DENSE" in capsys.readouterr().err


def test_empty_prediction_folder_is_refused_and_writes_nothing(sample, tmp_path, capsys):
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / "notes.txt").write_text("predictions were written elsewhere")
    scores = tmp_path / "scores"
    assert main(["evaluate", "-pred", str(pred), "-ref", str(sample.folder), "-o", str(scores)]) == 2
    err = capsys.readouterr().err
    assert "no predictions ending in .nii.gz" in err and str(pred) in err
    assert not scores.exists()
