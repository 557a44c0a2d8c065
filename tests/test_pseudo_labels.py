"""Pseudo labels (self-training): a trained network's confident predictions fill the ignore voxels."""

import json
import subprocess

import numpy as np
import pytest
from training_helpers import fold_folder, train_cmd, train_env

from benchmarks.runner_steps import predict_from_checkpoint
from nnunet_weak.annotations.pseudo_labels import fill_ignore_with_predictions
from nnunet_weak.cli import main
from nnunet_weak.dataset import RawDataset, read_image


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=0))
    return e / e.sum(axis=0)


def test_fill_keeps_people_labels_and_fills_only_confident_ignore_voxels():
    rng = np.random.default_rng(0)
    weak = rng.integers(0, 3, (4, 5, 6)).astype(np.int16)
    weak[rng.random(weak.shape) < 0.6] = 3
    probabilities = softmax(rng.normal(0, 2, (3, *weak.shape))).astype(np.float32)
    filled, count = fill_ignore_with_predictions(weak, probabilities, ignore_label=3, confidence=0.7)
    annotated = weak != 3
    confident = probabilities.max(axis=0) >= 0.7
    assert np.array_equal(filled[annotated], weak[annotated])
    assert np.array_equal(filled[~annotated & confident], probabilities.argmax(axis=0)[~annotated & confident])
    assert np.all(filled[~annotated & ~confident] == 3)
    assert count == np.count_nonzero(~annotated & confident) and 0 < count < np.count_nonzero(~annotated)
    # every voxel's largest probability of three classes is at least 1/3: all ignore voxels filled
    assert fill_ignore_with_predictions(weak, probabilities, 3, 1 / 3 - 1e-6)[1] == np.count_nonzero(~annotated)


@pytest.mark.parametrize("change, match", [
    ("shape", "do not fit the label map"),
    ("sum", "do not sum to 1"),
    ("classes", "predicts 4 classes but the ignore label is 3"),
    ("confidence", "confidence must lie in"),
])
def test_fill_refuses_predictions_that_do_not_fit(change, match):
    weak = np.full((3, 4, 5), 3, dtype=np.int16)
    probabilities = np.full((3, 3, 4, 5), 1 / 3, dtype=np.float32)
    confidence = 0.9
    if change == "shape":
        probabilities = probabilities[:, :, :, :4]
    elif change == "sum":
        probabilities = probabilities * 0.5
    elif change == "classes":
        probabilities = np.full((4, 3, 4, 5), 0.25, dtype=np.float32)
    else:
        confidence = 1.5
    with pytest.raises(ValueError, match=match):
        fill_ignore_with_predictions(weak, probabilities, 3, confidence)


def test_pseudo_label_command_fills_unlabelled_cases_with_a_trained_networks_predictions(planned_semi_sample,
                                                                                       tmp_path, capsys):
    """End to end on real data: nnU-Net trained on the sample's labelled cases, its probabilities
    saved by nnUNetv2_predict for the unlabelled ones, then ``nnunet-weak pseudo-label``."""
    ws, _, plans, labelled, _ = planned_semi_sample
    weak = RawDataset(ws.raw / "Dataset993_SampleSemi")
    teacher = ws.root / "teacher_results"
    env = {**train_env(ws, epochs=2), "nnUNet_results": str(teacher)}
    trained = subprocess.run(train_cmd(993, "nnUNetTrainerBenchmark", plans), env=env, capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr[-3000:]
    checkpoint = teacher / fold_folder(ws, weak.name, "nnUNetTrainerBenchmark", plans).relative_to(ws.results)
    checkpoint = checkpoint / "checkpoint_final.pth"
    unlabelled = [c for c in weak.cases() if c not in labelled]
    images = tmp_path / "images"
    images.mkdir()
    for case in unlabelled:
        (images / f"{case}_0000.nii.gz").symlink_to(weak.image_files(case)[0])
    predictions = tmp_path / "predictions"
    predict_from_checkpoint(checkpoint, images, predictions)

    # a threshold that this briefly trained network meets on about half of the voxels
    confidence = round(float(np.median(np.load(predictions / f"{unlabelled[0]}.npz")["probabilities"].max(0))), 3)
    out = tmp_path / "Dataset996_SamplePseudo"
    assert main(["pseudo-label", "-i", str(weak.folder), "-p", str(predictions), "-o", str(out),
                 "--confidence", str(confidence)]) == 0
    pseudo, sidecar = RawDataset(out), json.loads((out / "annotation.json").read_text())
    assert sidecar["kind"] == "pseudo_labels" and sidecar["parameters"]["confidence"] == confidence
    assert sidecar["totals"]["labelled_cases"] == len(labelled)  # people's labels only count as cost
    for case in weak.cases():
        before, after = read_image(weak.label_file(case))[0], read_image(pseudo.label_file(case))[0]
        record = sidecar["cases"][case]
        if case in labelled:
            assert np.array_equal(before, after) and record["pseudo_labelled_voxels"] == 0
            continue
        p = np.load(predictions / f"{case}.npz")["probabilities"]
        confident = p.max(axis=0) >= confidence
        assert np.all(before == 3) and not record["labelled"] and record["annotated_voxels"] == 0
        assert np.array_equal(after[confident], p.argmax(axis=0)[confident]) and np.all(after[~confident] == 3)
        assert record["pseudo_labelled_voxels"] == confident.sum() and 0 < confident.mean() < 1
        # the pseudo labels lie on the image grid where nnU-Net's own segmentation of the case does
        segmentation = read_image(predictions / f"{case}.nii.gz")[0]
        assert np.array_equal(after[confident], segmentation[confident])

    # a second round starts from the people's labels, not from the first round's pseudo labels
    refused = tmp_path / "Dataset997_Refused"
    assert main(["pseudo-label", "-i", str(out), "-p", str(predictions), "-o", str(refused)]) == 2
    assert f"already holds pseudo labels; fill the dataset they were made from ({weak.folder.resolve()}" in \
        capsys.readouterr().err and not refused.exists()
    assert main(["pseudo-label", "-i", str(weak.folder), "-p", str(predictions), "-o", str(refused),
                 "--confidence", "0"]) == 2
    assert "argument --confidence: 0 is out of range: must be above 0 and at most 1" in capsys.readouterr().err \
        and not refused.exists()

    # a case without its prediction is named, and nothing is left behind
    (predictions / f"{unlabelled[0]}.npz").unlink()
    assert main(["pseudo-label", "-i", str(weak.folder), "-p", str(predictions), "-o", str(refused)]) == 2
    err = capsys.readouterr().err
    assert f"case {unlabelled[0]}: no {unlabelled[0]}.npz" in err and "--save_probabilities" in err, err
    assert not refused.exists() and not any(p.name.startswith(".Dataset997") for p in tmp_path.iterdir())


def test_missing_predictions_folder_and_checkpoint_are_named(sample, tmp_path, capsys):
    semi = tmp_path / "Dataset998_Semi"
    assert main(["semi", "-i", str(sample.folder), "-o", str(semi), "--labelled", "2"]) == 0
    out = tmp_path / "Dataset999_Pseudo"
    assert main(["pseudo-label", "-i", str(semi), "-p", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"predictions folder {tmp_path / 'nowhere'} not found" in err and "--save_probabilities" in err, err
    assert not out.exists()
    with pytest.raises(FileNotFoundError, match="expected an nnU-Net checkpoint at <model folder>/fold_<f>/"):
        predict_from_checkpoint(tmp_path / "model" / "checkpoint_final.pth", tmp_path, tmp_path / "predictions")


@pytest.mark.parametrize("content, match", [
    ({"softmax": None}, "holds no 'probabilities'"),
    ({"probabilities": "wrong shape"}, "do not fit the label map"),
])
def test_prediction_files_that_do_not_fit_are_named_by_case(sample, tmp_path, capsys, content, match):
    semi = tmp_path / "Dataset998_Semi"
    assert main(["semi", "-i", str(sample.folder), "-o", str(semi), "--labelled", "2"]) == 0
    labelled = json.loads((semi / "annotation.json").read_text())["parameters"]["labelled_cases"]
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    for case in sample.cases():
        shape = read_image(sample.label_file(case))[0].shape
        probabilities = np.full((3, shape[0], shape[1], shape[2] + 1), 1 / 3, dtype=np.float32)
        np.savez(predictions / f"{case}.npz", **{name: probabilities for name in content})
    out = tmp_path / "Dataset999_Pseudo"
    assert main(["pseudo-label", "-i", str(semi), "-p", str(predictions), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    first_unlabelled = next(c for c in sorted(sample.cases()) if c not in labelled)
    assert f"case {first_unlabelled}" in err and match in err, err
    assert not out.exists()
