"""``nnunet-weak convert``: public downloads -> dense raw datasets, all or nothing, errors that name
the file. Fast: each test converts a source folder of two or three cases (the bundled sample laid
out as the MSD download, or cases of ../shared/data where present)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from nnunet_weak.cli import build_parser, main
from nnunet_weak.dataset import RawDataset
from nnunet_weak.dataset.convert import PUBLIC_DATASETS, hippocampus_cases
from nnunet_weak.sample import SAMPLE_DATASET

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _msd_source(folder: Path, cases: list[str]) -> Path:
    """The sample's cases laid out as the MSD download: imagesTr/<case>.nii.gz, labelsTr/<case>.nii.gz."""
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    for case in cases:
        (folder / "imagesTr" / f"{case}.nii.gz").symlink_to(SAMPLE_DATASET / "imagesTr" / f"{case}_0000.nii.gz")
        (folder / "labelsTr" / f"{case}.nii.gz").symlink_to(SAMPLE_DATASET / "labelsTr" / f"{case}.nii.gz")
    return folder


def _atrium_source(folder: Path, cases: list[str]) -> Path:
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    for case in cases:
        for sub in ("imagesTr", "labelsTr"):
            (folder / sub / f"{case}.nii.gz").symlink_to(SHARED / "left_atrium" / sub / f"{case}.nii.gz")
    (folder / "train.list").write_text("\n".join(cases) + "\n")
    return folder


def _nothing_left(parent: Path, name: str) -> bool:
    return not (parent / name).exists() and not any(p.name.startswith(f".{name}") for p in parent.iterdir())


def test_command_offers_every_public_dataset():
    convert = build_parser()._subparsers._group_actions[0].choices["convert"]
    kind = next(a for a in convert._actions if a.dest == "kind")
    assert sorted(kind.choices) == sorted(PUBLIC_DATASETS)


def test_hippocampus_conversion_keeps_images_and_geometry(tmp_path, monkeypatch):
    cases = ["hippocampus_003", "hippocampus_006"]
    source = _msd_source(tmp_path / "Task04_Hippocampus", cases)
    monkeypatch.setenv("nnUNet_raw", str(tmp_path / "raw"))
    assert main(["convert", "hippocampus", "-i", str(source)]) == 0  # default -o, under $nnUNet_raw
    ds = RawDataset(tmp_path / "raw" / "Dataset004_Hippocampus")
    assert ds.cases() == cases and ds.labels == {"background": 0, "anterior": 1, "posterior": 2}
    assert json.loads((ds.folder / "dataset.json").read_text())["licence"] == "CC-BY-SA 4.0"
    for case in cases:
        assert ds.image_files(case)[0].read_bytes() == (source / "imagesTr" / f"{case}.nii.gz").read_bytes()
        original, converted = (sitk.ReadImage(str(p)) for p in (source / "labelsTr" / f"{case}.nii.gz",
                                                                 ds.label_file(case)))
        assert np.array_equal(sitk.GetArrayFromImage(original), sitk.GetArrayFromImage(converted))
        assert converted.GetSpacing() == original.GetSpacing() and converted.GetDirection() == original.GetDirection()


@pytest.mark.skipif(not (SHARED / "hippocampus").is_dir(), reason="../shared/data/hippocampus not present")
def test_float_label_files_of_the_download_become_integer(tmp_path):
    assert len(hippocampus_cases(SHARED / "hippocampus")) == 208
    case = "hippocampus_003"  # stored as float32 in the download
    source = tmp_path / "src"
    for sub in ("imagesTr", "labelsTr"):
        (source / sub).mkdir(parents=True)
        (source / sub / f"{case}.nii.gz").symlink_to(SHARED / "hippocampus" / sub / f"{case}.nii.gz")
    assert main(["convert", "hippocampus", "-i", str(source), "-o", str(tmp_path / "Dataset004_H")]) == 0
    original = sitk.ReadImage(str(source / "labelsTr" / f"{case}.nii.gz"))
    converted = sitk.ReadImage(str(tmp_path / "Dataset004_H" / "labelsTr" / f"{case}.nii.gz"))
    assert original.GetPixelID() == sitk.sitkFloat32 and converted.GetPixelID() == sitk.sitkUInt8
    assert np.array_equal(sitk.GetArrayFromImage(original), sitk.GetArrayFromImage(converted))


@pytest.mark.skipif(not (SHARED / "left_atrium").is_dir(), reason="../shared/data/left_atrium not present")
def test_left_atrium_conversion_keeps_train_list_order(tmp_path):
    order = [line.strip() for line in (SHARED / "left_atrium" / "train.list").read_text().split() if line.strip()]
    assert len(order) == 80
    picked = [order[1], order[0]]  # not sorted: the order must come from train.list
    source = _atrium_source(tmp_path / "LA2018", picked)
    out = tmp_path / "Dataset005_LeftAtrium"
    assert main(["convert", "left-atrium", "-i", str(source), "-o", str(out)]) == 0
    dataset_json = json.loads((out / "dataset.json").read_text())
    assert dataset_json["train_list"] == picked and dataset_json["labels"] == {"background": 0, "left_atrium": 1}
    assert sorted(RawDataset(out).cases()) == sorted(picked)


def test_missing_source_files_are_named_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "Dataset004_Hippocampus"
    assert main(["convert", "hippocampus", "-i", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
    assert f"source folder {tmp_path / 'nowhere'} not found" in capsys.readouterr().err
    source = _msd_source(tmp_path / "Task04", ["hippocampus_003", "hippocampus_006"])
    (source / "imagesTr" / "hippocampus_006.nii.gz").unlink()
    assert main(["convert", "hippocampus", "-i", str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"case hippocampus_006: {source / 'imagesTr' / 'hippocampus_006.nii.gz'} is missing" in err, err
    assert "Traceback" not in err and _nothing_left(tmp_path, out.name)
    atrium = tmp_path / "LA2018"
    (atrium / "imagesTr").mkdir(parents=True)
    assert main(["convert", "left-atrium", "-i", str(atrium), "-o", str(out)]) == 2
    assert f"{atrium / 'train.list'} not found" in capsys.readouterr().err


def test_unreadable_file_stops_the_conversion_leaving_nothing(tmp_path, capsys):
    """The second case is broken: the first, already converted, must not stay behind."""
    source = _msd_source(tmp_path / "Task04", ["hippocampus_003", "hippocampus_006"])
    broken = source / "labelsTr" / "hippocampus_006.nii.gz"
    broken.unlink()
    broken.write_bytes(b"not a nifti file")
    out = tmp_path / "Dataset004_Hippocampus"
    assert main(["convert", "hippocampus", "-i", str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"case hippocampus_006: {broken} is truncated or corrupt" in err and "Traceback" not in err, err
    assert _nothing_left(tmp_path, out.name)


def test_existing_output_needs_overwrite(tmp_path, capsys):
    source = _msd_source(tmp_path / "Task04", ["hippocampus_003"])
    out = tmp_path / "Dataset004_Hippocampus"
    out.mkdir()
    assert main(["convert", "hippocampus", "-i", str(source), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and not os.listdir(out)
    assert main(["convert", "hippocampus", "-i", str(source), "-o", str(out), "--overwrite"]) == 0
    assert RawDataset(out).cases() == ["hippocampus_003"]
