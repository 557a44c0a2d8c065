"""Bad input, sub-command by sub-command: one line naming the file or case, exit status 2, no traceback,
the inputs byte-identical afterwards and nothing new on disk (hidden folders included).

Each row of ``ROWS`` makes one fault in a copy of a small world built from the bundled sample (a dense
dataset of three real hippocampus cases, a sparse-slice and a click dataset made from it, perfect
predictions) and runs one command on it. A new sub-command joins by adding rows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from nnunet_weak.cli import build_parser, main
from nnunet_weak.sample import SAMPLE_DATASET

DENSE = "Dataset990_HippocampusSample"
CASES = ["hippocampus_003", "hippocampus_006", "hippocampus_011"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    raw = root / "raw"
    dense = raw / DENSE
    for sub in ("imagesTr", "labelsTr"):
        (dense / sub).mkdir(parents=True)
    for case in CASES:
        shutil.copyfile(SAMPLE_DATASET / "imagesTr" / f"{case}_0000.nii.gz", dense / "imagesTr" / f"{case}_0000.nii.gz")
        shutil.copyfile(SAMPLE_DATASET / "labelsTr" / f"{case}.nii.gz", dense / "labelsTr" / f"{case}.nii.gz")
    shutil.copyfile(SAMPLE_DATASET / "dataset.json", dense / "dataset.json")
    assert main(["slices", "-i", str(dense), "-o", str(raw / "Dataset991_Slices"), "--count", "2"]) == 0
    assert main(["points", "-i", str(dense), "-o", str(raw / "Dataset992_Points")]) == 0
    (root / "pred").mkdir()
    for case in CASES:
        shutil.copyfile(dense / "labelsTr" / f"{case}.nii.gz", root / "pred" / f"{case}.nii.gz")
    (root / "clicks").mkdir()
    (root / "a_file").write_text("not a folder\n")
    return root


@pytest.fixture()
def world(template, tmp_path, monkeypatch) -> Path:
    root = shutil.copytree(template, tmp_path / "w")
    monkeypatch.setenv("nnUNet_raw", str(root / "raw"))
    monkeypatch.setenv("nnUNet_preprocessed", str(root / "preprocessed"))
    (root / "preprocessed" / "Dataset991_Slices").mkdir(parents=True)  # as after a failed planning
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file's hash and every folder under ``root``, hidden ones included."""
    state = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        state[key] = "folder" if path.is_dir() else hashlib.sha1(path.read_bytes()).hexdigest()
    return state


# ---- faults -------------------------------------------------------------------------------------------

def _dense(w: Path) -> Path:
    return w / "raw" / DENSE


def _cut_gzip(path: Path) -> None:
    """A download cut off half way."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _short_nifti_in_valid_gzip(path: Path) -> None:
    """A complete gzip stream of a NIfTI file that lost its last voxels before compression."""
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-500]))


def _flip_crc(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the gzip trailer's CRC32
    path.write_bytes(bytes(data))


def _dataset_json(text: str):
    def fault(w: Path) -> None:
        (_dense(w) / "dataset.json").write_text(text)
    return fault


def _edit_dataset_json(**changes):
    def fault(w: Path) -> None:
        path = _dense(w) / "dataset.json"
        content = json.loads(path.read_text())
        for key, value in changes.items():
            if value is None:
                content.pop(key)
            else:
                content[key] = value
        path.write_text(json.dumps(content))
    return fault


def _uncompressed(w: Path) -> None:
    """The dense dataset as .nii files, the first label cut short."""
    dense = _dense(w)
    for path in [*dense.glob("*/*.nii.gz")]:
        sitk.WriteImage(sitk.ReadImage(str(path)), str(path.with_suffix("")), useCompression=False)
        path.unlink()
    _edit_dataset_json(file_ending=".nii")(w)
    label = dense / "labelsTr" / f"{CASES[0]}.nii"
    label.write_bytes(label.read_bytes()[:-300])


def _markups(content):
    """Each case's .mrk.json: ``content`` as text, as JSON, or made by a function of the case's image origin."""
    def fault(w: Path) -> None:
        for case in CASES:
            origin = sitk.ReadImage(str(_dense(w) / "imagesTr" / f"{case}_0000.nii.gz")).GetOrigin()
            made = content(origin) if callable(content) else content
            (w / "clicks" / f"{case}.mrk.json").write_text(made if isinstance(made, str) else json.dumps(made))
    return fault


def _point(label="anterior", offset=(0.0, 0.0, 0.0), **markup):
    """A one-click markup at the image origin (the first voxel) plus ``offset`` mm, in LPS."""
    return lambda origin: {"markups": [{"type": "Fiducial", "coordinateSystem": "LPS", **markup, "controlPoints": [
        {"label": label, "position": [o + d for o, d in zip(origin, offset, strict=True)]}]}]}


def _point_map_on_other_grid(w: Path) -> None:
    for case in CASES:
        image = sitk.ReadImage(str(_dense(w) / "labelsTr" / f"{case}.nii.gz"))
        image.SetOrigin((3.0, 0.0, 0.0))
        sitk.WriteImage(image, str(w / "clicks" / f"{case}.nii.gz"))


def _prediction(w: Path, change) -> None:
    path = w / "pred" / f"{CASES[0]}.nii.gz"
    image = sitk.ReadImage(str(path))
    array = change(sitk.GetArrayFromImage(image))
    out = sitk.GetImageFromArray(array)
    out.CopyInformation(image) if array.shape == sitk.GetArrayFromImage(image).shape else None
    sitk.WriteImage(out, str(path))


def _npz(w: Path, data: bytes) -> None:
    (w / "npz").mkdir()
    for case in CASES:
        (w / "npz" / f"{case}.npz").write_bytes(data)


def _leftover_output_is_a_file(w: Path) -> None:
    (w / "raw" / "Dataset993_Out").write_text("someone's notes\n")


def _remove(relative: str):
    def fault(w: Path) -> None:
        target = w / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return fault


def _images_only(w: Path) -> None:
    shutil.rmtree(_dense(w) / "labelsTr")


def _no_fault(w: Path) -> None:
    return None


def _task04(w: Path) -> Path:
    """The dense cases in the MSD download's layout (imagesTr/<case>.nii.gz), which convert reads."""
    source = shutil.copytree(_dense(w), w / "Task04")
    for image in (source / "imagesTr").iterdir():
        image.rename(image.with_name(image.name.replace("_0000", "")))
    return source


def _input_inside_output(w: Path) -> None:
    (w / "Dataset995_Root").mkdir()
    shutil.copytree(_dense(w), w / "Dataset995_Root" / DENSE)


# (id, fault, command with {w} for the world's root, text the error line must hold)
ROWS = [
    # never lose data: no command writes over, or inside, what it reads
    ("slices-over-own-input", _no_fault, f"slices -i {{w}}/raw/{DENSE} -o {{w}}/raw/{DENSE} --count 2 --overwrite",
     "would overwrite or nest in the input"),
    ("semi-output-named-as-input", _no_fault, f"semi -i 990 -o {DENSE} --labelled 1 --overwrite",
     "would overwrite or nest in the input"),
    ("slices-output-inside-input", _no_fault, f"slices -i 990 -o {{w}}/raw/{DENSE}/Dataset993_In --count 2",
     "would overwrite or nest in the input"),
    ("slices-output-holds-input", _input_inside_output,
     f"slices -i {{w}}/Dataset995_Root/{DENSE} -o {{w}}/Dataset995_Root --count 2 --overwrite",
     "would overwrite or nest in the input"),
    ("points-output-reuses-input-id", _no_fault, "points -i 990 -o {w}/elsewhere/Dataset990_Clicks",
     "has the dataset id 990 of its input"),
    ("expand-points-over-input", _no_fault, "expand-points -i 992 -o {w}/raw/Dataset992_Points --overwrite",
     "would overwrite or nest in the input"),
    ("convert-into-its-source", _task04, "convert hippocampus -i {w}/Task04 -o {w}/Task04/Dataset004_Hippocampus",
     "would overwrite or nest in the input"),
    ("import-points-into-clicks", _no_fault, "import-points -i 990 -o {w}/clicks/Dataset993_C --points {w}/clicks",
     "would overwrite or nest in the input"),
    ("evaluate-into-reference", _no_fault, f"evaluate -pred {{w}}/pred -ref 990 -o {{w}}/raw/{DENSE}/scores",
     "would overwrite or nest in the input"),
    ("show-into-dataset", _no_fault, "show -i 991 -o {w}/raw/Dataset991_Slices/pngs", "would overwrite or nest"),
    ("slices-output-is-a-file", _leftover_output_is_a_file, "slices -i 990 -o Dataset993_Out --count 2",
     "is an existing file"),
    ("evaluate-output-is-a-file", _no_fault, "evaluate -pred {w}/pred -ref 990 -o {w}/a_file", "is an existing file"),
    ("show-output-is-a-file", _no_fault, "show -i 991 -o {w}/a_file", "is an existing file"),
    ("demo-overwrite-foreign-folder", _no_fault, "demo -o {w}/clicks --overwrite", "is not a demo work folder"),
    # never read corrupt data silently
    ("slices-truncated-label", lambda w: _cut_gzip(_dense(w) / "labelsTr" / f"{CASES[1]}.nii.gz"),
     "slices -i 990 -o Dataset993_S --count 2", f"labelsTr/{CASES[1]}.nii.gz is truncated or corrupt"),
    ("points-truncated-image", lambda w: _cut_gzip(_dense(w) / "imagesTr" / f"{CASES[2]}_0000.nii.gz"),
     "points -i 990 -o Dataset993_P", f"{CASES[2]}_0000.nii.gz is truncated or corrupt"),
    ("scribbles-short-nifti-in-valid-gzip",
     lambda w: _short_nifti_in_valid_gzip(_dense(w) / "labelsTr" / f"{CASES[0]}.nii.gz"),
     "scribbles -i 990 -o Dataset993_S", "truncated: its header promises"),
    ("semi-gzip-crc", lambda w: _flip_crc(_dense(w) / "labelsTr" / f"{CASES[0]}.nii.gz"),
     "semi -i 990 -o Dataset993_S --labelled 1", f"{CASES[0]}.nii.gz is truncated or corrupt"),
    ("slices-truncated-uncompressed-nii", _uncompressed, "slices -i 990 -o Dataset993_S --count 2",
     f"{CASES[0]}.nii is truncated: its header promises"),
    ("expand-points-truncated-image",
     lambda w: _cut_gzip(w / "raw" / "Dataset992_Points" / "imagesTr" / f"{CASES[0]}_0000.nii.gz"),
     "expand-points -i 992 -o Dataset993_E", f"{CASES[0]}_0000.nii.gz is truncated or corrupt"),
    ("evaluate-truncated-prediction", lambda w: _cut_gzip(w / "pred" / f"{CASES[0]}.nii.gz"),
     "evaluate -pred {w}/pred -ref 990 -o {w}/scores", f"pred/{CASES[0]}.nii.gz is truncated or corrupt"),
    ("show-truncated-prediction", lambda w: _cut_gzip(w / "pred" / f"{CASES[0]}.nii.gz"),
     "show -i 990 -o {w}/pngs --pred {w}/pred", f"pred/{CASES[0]}.nii.gz is truncated or corrupt"),
    ("convert-truncated-image", lambda w: _cut_gzip(_task04(w) / "imagesTr" / f"{CASES[1]}.nii.gz"),
     "convert hippocampus -i {w}/Task04 -o {w}/Dataset004_Hippocampus",
     f"case {CASES[1]}: {{w}}/Task04/imagesTr/{CASES[1]}.nii.gz is truncated or corrupt"),
    ("import-sparse-value-is-a-class", _no_fault, "import-sparse -i 990 -o Dataset993_U --unannotated-value 0",
     "--unannotated-value 0 is the class 'background'"),
    ("import-sparse-value-is-foreground", _no_fault, "import-sparse -i 990 -o Dataset993_U --unannotated-value 2",
     "is the class 'posterior'"),
    ("points-on-slices", _no_fault, "points -i 991 -o Dataset993_P", "is a weak dataset (sparse_slices)"),
    ("slices-of-slices", _no_fault, "slices -i 991 -o Dataset993_S --count 1", "needs DENSE labels"),
    ("scribbles-on-clicks", _no_fault, "scribbles -i 992 -o Dataset993_S", "is a weak dataset (points)"),
    ("points-on-unreadable-sidecar", lambda w: (w / "raw" / "Dataset991_Slices" / "annotation.json").write_text("{"),
     "points -i 991 -o Dataset993_P", "is a weak dataset (annotation.json)"),
    ("semi-on-slices", _no_fault, "semi -i 991 -o Dataset993_S --labelled 1", "needs DENSE labels"),
    ("show-dense-is-weak", _no_fault, "show -i 992 --dense 991 -o {w}/pngs", "show --dense needs DENSE labels"),
    ("evaluate-weak-reference", _no_fault, "evaluate -pred {w}/pred -ref 991 -o {w}/scores", "needs DENSE labels"),
    ("import-points-markups-bad-json", _markups("{not json"), "import-points -i 990 -o Dataset993_C --points "
     "{w}/clicks", f"{CASES[0]}.mrk.json: Expecting property name"),
    ("import-points-markups-curve", _markups(_point(type="ClosedCurve")),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "markup of type 'ClosedCurve' is not supported"),
    ("import-points-markups-ijk", _markups(_point(coordinateSystem="IJK")),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "coordinateSystem 'IJK' is not supported"),
    ("import-points-markups-no-position", _markups({"markups": [{"controlPoints": [{"label": "anterior"}]}]}),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "has no position [x, y, z]"),
    ("import-points-markups-not-markups", _markups([1, 2]),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "not a 3D Slicer markups file"),
    ("import-points-markups-outside", _markups(_point(offset=(1e4, 0, 0))),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "lies outside the image"),
    ("import-points-markups-unknown-class", _markups(_point(label="liver")),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "names no class"),
    ("import-points-point-map-grid", _point_map_on_other_grid,
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "point map and image differ in origin"),
    ("import-points-no-clicks-folder", _no_fault, "import-points -i 990 -o Dataset993_C --points {w}/none",
     "is not a folder"),
    ("pseudo-label-corrupt-npz", lambda w: _npz(w, b"PK\x03\x04 broken"),
     "pseudo-label -i 991 -p {w}/npz -o Dataset993_P", ".npz is corrupt or not an .npz file"),
    # every user error is one clear message
    ("dataset-json-not-json", _dataset_json("{labels: 1"), "slices -i 990 -o Dataset993_S --count 2",
     "dataset.json is not valid JSON"),
    ("dataset-json-not-object", _dataset_json("[]"), "points -i 990 -o Dataset993_P",
     "dataset.json must hold a JSON object"),
    ("dataset-json-no-file-ending", _edit_dataset_json(file_ending=None), "slices -i 990 -o Dataset993_S --count 2",
     "dataset.json lacks file_ending"),
    ("dataset-json-text-label", _edit_dataset_json(labels={"background": 0, "anterior": "one"}),
     "semi -i 990 -o Dataset993_S --labelled 1", "label 'anterior' has value 'one'"),
    ("dataset-json-region-label", _edit_dataset_json(labels={"background": 0, "whole": [1, 2], "posterior": 2}),
     "evaluate -pred {w}/pred -ref 990 -o {w}/scores", "label 'whole' is a region"),
    ("dataset-json-bad-channels", _edit_dataset_json(channel_names=["MRI"]), "show -i 990 -o {w}/pngs",
     "channel_names must map channel numbers"),
    ("unreadable-image", lambda w: (_dense(w) / "imagesTr" / f"{CASES[0]}_0000.nii.gz").write_bytes(b"\0" * 400),
     "slices -i 990 -o Dataset993_S --count 2", f"{CASES[0]}_0000.nii.gz is truncated or corrupt"),
    ("missing-channel-file", _remove(f"raw/{DENSE}/imagesTr/{CASES[1]}_0000.nii.gz"),
     "scribbles -i 990 -o Dataset993_S", f"case {CASES[1]} of {DENSE}: image {CASES[1]}_0000.nii.gz is missing"),
    ("images-only-where-labels-needed", _images_only, "slices -i 990 -o Dataset993_S --count 2",
     "has no labelsTr folder"),
    ("import-points-without-images", _remove(f"raw/{DENSE}/imagesTr"),
     "import-points -i 990 -o Dataset993_C --points {w}/clicks", "holds no image named <case>_0000.nii.gz"),
    ("show-unknown-case", _no_fault, "show -i 991 -o {w}/pngs --cases hippocampus_999",
     "case hippocampus_999 is not in"),
    ("show-prediction-missing", _remove(f"pred/{CASES[1]}.nii.gz"), "show -i 990 -o {w}/pngs --pred {w}/pred",
     f"case {CASES[1]}: prediction 'prediction' has no"),
    ("show-prediction-other-grid", lambda w: _prediction(w, lambda a: a[:, :-2]),
     "show -i 991 -o {w}/pngs --pred {w}/pred", "the image of Dataset991_Slices differ in shape"),
    ("evaluate-undeclared-label", lambda w: _prediction(w, lambda a: np.where(a == 2, 7, a).astype(np.uint8)),
     "evaluate -pred {w}/pred -ref 990 -o {w}/scores", "label values [7] are not classes"),
    ("evaluate-missing-case", _remove(f"pred/{CASES[2]}.nii.gz"), "evaluate -pred {w}/pred -ref 990 -o {w}/scores",
     f"1 reference cases have no prediction in {{w}}/pred (e.g. {CASES[2]})"),
    ("evaluate-unknown-case", lambda w: shutil.copyfile(w / "pred" / f"{CASES[0]}.nii.gz", w / "pred" / "x.nii.gz"),
     "evaluate -pred {w}/pred -ref 990 -o {w}/scores", "prediction x.nii.gz has no reference"),
    ("exclude-unknown-case", _no_fault, "slices -i 990 -o Dataset993_S --count 2 --exclude-cases nope",
     "--exclude-cases names cases not in"),
    ("unknown-dataset", _no_fault, "points -i 555 -o Dataset993_P", "dataset 555 not found"),
    ("check-without-plans", _no_fault, "check -d 991", "run nnUNetv2_plan_and_preprocess -d 991 first"),
    # options outside their range, refused before any work
    ("preset-with-count", _no_fault, "slices -i 990 -o Dataset993_S --preset 3d2dct --count 3",
     "--preset 3d2dct fixes the slices; drop --count"),
    ("count-and-every", _no_fault, "slices -i 990 -o Dataset993_S --count 3 --every 2", "give one of --count"),
    ("repeated-axes", _no_fault, "slices -i 990 -o Dataset993_S --axes 0 0 --count 2", "--axes names [0] twice"),
    ("repeated-orientations", _no_fault, "scribbles -i 990 -o Dataset993_S --orientations axial axial",
     "--orientations names ['axial'] twice"),
    ("axis-beyond-image", _no_fault, "slices -i 990 -o Dataset993_S --axes 3 --count 2",
     "axis 3 does not exist in a 3D image"),
    ("count-zero", _no_fault, "slices -i 990 -o Dataset993_S --count 0", "argument --count: 0 is out of range"),
    ("count-not-a-number", _no_fault, "slices -i 990 -o Dataset993_S --count two",
     "argument --count: 'two' is not a whole number"),
    ("margin-negative", _no_fault, "points -i 990 -o Dataset993_P --margin -1", "argument --margin: -1 is out"),
    ("first-zero", _no_fault, "semi -i 990 -o Dataset993_S --first 0", "argument --first: 0 is out of range"),
    ("fraction-above-one", _no_fault, "semi -i 990 -o Dataset993_S --fraction 1.5", "argument --fraction: 1.5"),
    ("slice-share-zero", _no_fault, "scribbles -i 990 -o Dataset993_S --slice-share 0", "--slice-share: 0 is out"),
    ("thickness-even", _no_fault, "scribbles -i 990 -o Dataset993_S --thickness 2", "thickness"),
    ("np-zero", _no_fault, "expand-points -i 992 -o Dataset993_E -np 0", "argument -np: 0 is out of range"),
    ("iterations-zero", _no_fault, "expand-points -i 992 -o Dataset993_E --iterations 0", "--iterations: 0 is out"),
    ("lambda-above-one", _no_fault, "expand-points -i 992 -o Dataset993_E --lam 2", "argument --lam: 2 is out"),
    ("threshold-above-one", _no_fault, "expand-points -i 992 -o Dataset993_E --threshold 1.5",
     "threshold must lie in (0, 1)"),
    ("confidence-zero", _no_fault, "pseudo-label -i 991 -p {w}/pred -o Dataset993_P --confidence 0",
     "argument --confidence: 0 is out"),
    ("tolerance-zero", _no_fault, "evaluate -pred {w}/pred -ref 990 -o {w}/scores --tolerance 0",
     "argument --tolerance: 0 is out of range"),
    ("tolerance-nan", _no_fault, "evaluate -pred {w}/pred -ref 990 -o {w}/scores --tolerance nan",
     "argument --tolerance: nan is out of range"),
    ("benchmark-weak-dataset", _no_fault, "benchmark -d 991 -o {w}/bench",
     "Dataset991_Slices is a weak dataset (sparse_slices), but nnunet-weak benchmark (-d) needs DENSE labels"),
    ("benchmark-protocol-not-toml", _no_fault, "benchmark -d 990 -o {w}/bench --protocol {w}/a_file",
     "protocol {w}/a_file is not valid TOML"),
    ("benchmark-cost-model-not-toml", _no_fault, "benchmark -d 990 -o {w}/bench --cost-model {w}/a_file",
     "cost model {w}/a_file is not valid TOML"),
    ("benchmark-trainers-override", _no_fault, "benchmark -d 990 -o {w}/bench --trainers-override clicks=X",
     "--trainers-override takes KIND=TRAINER[,TRAINER] with KIND one of"),
    ("benchmark-test-case-unknown", _no_fault, "benchmark -d 990 -o {w}/bench --test-cases hippocampus_999",
     "--test-cases names cases not in Dataset990_HippocampusSample: ['hippocampus_999']"),
    ("benchmark-no-test-case", _no_fault, "benchmark -d 990 -o {w}/bench",
     "Dataset990_HippocampusSample: 3 cases leave no test cases; give --test-cases"),
    ("benchmark-folds-too-few-cases", _no_fault, "benchmark -d 990 -o {w}/bench --folds 0",
     "Dataset990_HippocampusSample: 3 cases are too few for nnU-Net's 5-fold cross-validation; give --test-cases"),
    ("benchmark-reuse-scores-missing", _no_fault, "benchmark -d 990 -o {w}/bench --reuse-scores {w}/no_archive",
     "--reuse-scores {w}/no_archive: no such folder; give a folder of archived scores"),
    ("benchmark-archive-is-a-file", _no_fault, "benchmark -d 990 -o {w}/bench --archive {w}/a_file",
     "--archive {w}/a_file is a file; give a folder (made if missing)"),
    ("benchmark-target-spacing-two-values", _no_fault, "benchmark -d 990 -o {w}/bench --target-spacing 2 2",
     "--target-spacing takes one or three positive spacings in mm (nnU-Net's axis order), got 2 2"),
    ("benchmark-target-spacing-zero", _no_fault, "benchmark -d 990 -o {w}/bench --target-spacing 0",
     "--target-spacing takes one or three positive spacings in mm (nnU-Net's axis order), got 0"),
    ("benchmark-fold-out-of-range", _no_fault, "benchmark -d 990 -o {w}/bench --folds 5",
     "argument --folds: invalid choice: 5 (choose from 0, 1, 2, 3, 4)"),
    ("demo-iterations-zero", _no_fault, "demo -o {w}/demo --iterations 0", "argument --iterations: 0 is out"),
    ("seed-negative", _no_fault, "points -i 990 -o Dataset993_P --seed -3", "argument --seed: -3 is out of range"),
    ("unknown-option", _no_fault, "slices -i 990 -o Dataset993_S --count 2 --colour red",
     "unrecognized arguments: --colour red"),
]


@pytest.mark.parametrize(("fault", "command", "expected"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_input_is_one_line_exit_2_inputs_untouched_nothing_left(world, capsys, fault, command, expected):
    fault(world)
    before = snapshot(world)
    code = main(shlex.split(command.format(w=world)))
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "it/s]" not in line
             and "case/s]" not in line and "s/case]" not in line and "?case/s" not in line]
    assert code == 2, err
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("nnunet-weak") and " error: " in lines[0], err
    assert expected.format(w=world) in lines[0], lines[0]
    assert snapshot(world) == before, "the command changed or left files"


def test_the_table_covers_every_sub_command():
    commands = {row[2].split()[0] for row in ROWS}
    sub_actions = [a for a in build_parser()._actions if a.dest == "command"][0]
    assert set(sub_actions.choices) - {"ext-trainer-path"} <= commands, set(sub_actions.choices) - commands


def test_leftovers_of_a_killed_run_are_cleaned_and_reported(world, capsys):
    """A crash between moving the old dataset aside and renaming the new one must not lose it."""
    raw = world / "raw"
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    (raw / f".Dataset993_S.partial-{dead}" / "labelsTr").mkdir(parents=True)
    shutil.copytree(raw / "Dataset991_Slices", raw / f".Dataset994_T.old-{dead}")  # the only copy of 994
    assert main(["slices", "-i", "990", "-o", "Dataset993_S", "--count", "2"]) == 0
    assert main(["slices", "-i", "990", "-o", "Dataset994_T", "--count", "2"]) == 2  # restored, so it exists
    err = capsys.readouterr().err
    assert f"removed {raw / f'.Dataset993_S.partial-{dead}'}" in err
    assert f"restored {raw / 'Dataset994_T'} from .Dataset994_T.old-{dead}" in err
    assert (raw / "Dataset994_T" / "annotation.json").is_file()
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]


def test_import_sparse_with_a_class_value_needs_the_flag_and_reports_the_voxels(world, capsys):
    labels = sitk.GetArrayFromImage(sitk.ReadImage(str(_dense(world) / "labelsTr" / f"{CASES[0]}.nii.gz")))
    expected = sum(int((sitk.GetArrayFromImage(sitk.ReadImage(str(p))) == 2).sum())
                   for p in (_dense(world) / "labelsTr").iterdir())
    assert main(["import-sparse", "-i", "990", "-o", "Dataset993_U", "--unannotated-value", "2",
                 "--unannotated-value-is-a-class"]) == 0
    assert f"{expected} voxels of class 'posterior' (2) became ignore" in capsys.readouterr().out
    written = world / "raw" / "Dataset993_U" / "labelsTr" / f"{CASES[0]}.nii.gz"
    weak = sitk.GetArrayFromImage(sitk.ReadImage(str(written)))
    assert np.array_equal(weak == 3, labels == 2) and expected > 0


def test_evaluate_scores_a_held_out_subset_with_chill(world):
    """nnU-Net's --chill (alias --allow-missing) scores the predictions present."""
    (world / "pred" / f"{CASES[2]}.nii.gz").unlink()
    assert main(["evaluate", "-pred", str(world / "pred"), "-ref", "990", "-o", str(world / "scores"), "--chill"]) == 0
    assert json.loads((world / "scores" / "summary.json").read_text())["cases"] == 2


def test_evaluate_writes_strict_json(world):
    _prediction(world, lambda a: np.where(a == 2, 0, a).astype(np.uint8))  # posterior empty: HD95 undefined
    assert main(["evaluate", "-pred", str(world / "pred"), "-ref", "990", "-o", str(world / "scores")]) == 0
    text = (world / "scores" / "summary.json").read_text()

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")
    summary = json.loads(text, parse_constant=refuse)
    assert summary["per_case"][CASES[0]]["posterior"]["hd95"] is None


def test_ctrl_c_ends_with_one_line_and_leaves_nothing(world):
    """Ctrl-C reaches the whole process group (parent and workers): one line, no worker tracebacks."""
    env = {**os.environ, "nnUNet_raw": str(world / "raw")}
    before = snapshot(world)
    process = subprocess.Popen([sys.executable, "-m", "nnunet_weak.cli", "expand-points", "-i", "992", "-o",
                                # 8000 rounds, about a minute: Ctrl-C lands mid-run however slow this process
                                "Dataset993_E", "-np", "2", "--iterations", "8000"], env=env, start_new_session=True,
                               # Ctrl-C as in a terminal, also when this suite runs as a shell's background
                               # job, whose children inherit SIGINT ignored (and Python then never raises)
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                               stderr=subprocess.PIPE, text=True)
    partial = world / "raw" / f".Dataset993_E.partial-{process.pid}"
    deadline = time.monotonic() + 60
    while not partial.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert partial.exists(), "the command did not start writing"
    time.sleep(0.5)  # the workers are expanding
    os.killpg(process.pid, signal.SIGINT)
    err = process.communicate(timeout=60)[1]
    assert process.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == (
        "nnunet-weak expand-points: interrupted; nothing half-written was kept"), err
    assert snapshot(world) == before


@pytest.mark.parametrize("order", ["<", ">"])
def test_nifti_data_end_reads_nifti1_and_nifti2_headers_in_either_byte_order(order):
    from nnunet_weak.dataset.integrity import nifti_data_end

    one = bytearray(352)
    one[0:4] = struct.pack(f"{order}i", 348)
    one[40:56] = struct.pack(f"{order}8h", 3, 10, 20, 30, 1, 1, 1, 1)
    one[72:74] = struct.pack(f"{order}h", 16)
    one[108:112] = struct.pack(f"{order}f", 352.0)
    assert nifti_data_end(bytes(one)) == 352 + 10 * 20 * 30 * 2
    two = bytearray(544)
    two[0:4] = struct.pack(f"{order}i", 540)
    two[14:16] = struct.pack(f"{order}h", 32)
    two[16:80] = struct.pack(f"{order}8q", 4, 5, 6, 7, 2, 1, 1, 1)
    two[168:176] = struct.pack(f"{order}q", 544)
    assert nifti_data_end(bytes(two)) == 544 + 5 * 6 * 7 * 2 * 4
    assert nifti_data_end(b"\0" * 540) is None
