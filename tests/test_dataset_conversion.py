"""The conversion scripts on the real data in ../shared/data (skipped where it is absent)."""

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from dataset_conversion import hippocampus, left_atrium
from nnunet_weak.dataset import RawDataset

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "hippocampus").is_dir(), reason="../shared/data/hippocampus not present")
def test_hippocampus_conversion_keeps_geometry_and_makes_labels_integer(tmp_path):
    out = tmp_path / "Dataset004_Hippocampus"
    hippocampus.main([str(SHARED / "hippocampus"), str(out)])
    ds = RawDataset(out)
    assert len(ds.cases()) == 208 and ds.labels == {"background": 0, "anterior": 1, "posterior": 2}
    case = "hippocampus_003"  # stored as float32 in the source
    source = sitk.ReadImage(str(SHARED / "hippocampus" / "labelsTr" / f"{case}.nii.gz"))
    converted = sitk.ReadImage(str(ds.label_file(case)))
    assert source.GetPixelID() == sitk.sitkFloat32 and converted.GetPixelID() == sitk.sitkUInt8
    assert np.array_equal(sitk.GetArrayFromImage(source), sitk.GetArrayFromImage(converted))
    assert converted.GetSpacing() == source.GetSpacing() and converted.GetDirection() == source.GetDirection()


@pytest.mark.skipif(not (SHARED / "left_atrium").is_dir(), reason="../shared/data/left_atrium not present")
def test_left_atrium_conversion_keeps_train_list_order(tmp_path):
    out = tmp_path / "Dataset005_LeftAtrium"
    left_atrium.main([str(SHARED / "left_atrium"), str(out)])
    order = [line.strip() for line in (SHARED / "left_atrium" / "train.list").read_text().split() if line.strip()]
    dataset_json = json.loads((out / "dataset.json").read_text())
    assert dataset_json["train_list"] == order and len(order) == 80
    assert dataset_json["labels"] == {"background": 0, "left_atrium": 1}
    assert sorted(RawDataset(out).cases()) == sorted(order)
