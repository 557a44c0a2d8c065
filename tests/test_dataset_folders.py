"""Finding a dataset folder by name or id under an nnU-Net root."""

import pytest

from nnunet_weak.dataset.folders import find_dataset
from nnunet_weak.errors import WeakDatasetError


def test_name_or_id_finds_the_one_matching_folder(tmp_path):
    (tmp_path / "Dataset004_Hippocampus").mkdir()
    (tmp_path / "Dataset104_HippoSlices").mkdir()
    assert find_dataset(tmp_path, "Dataset104_HippoSlices") == tmp_path / "Dataset104_HippoSlices"
    assert find_dataset(tmp_path, 4) == find_dataset(tmp_path, "004") == tmp_path / "Dataset004_Hippocampus"


def test_missing_ambiguous_or_unset_roots_raise_naming_the_fix(tmp_path):
    (tmp_path / "Dataset005_A").mkdir()
    (tmp_path / "Dataset005_B").mkdir()
    with pytest.raises(WeakDatasetError, match="matches .*Dataset005_A.*give the name"):
        find_dataset(tmp_path, 5)
    with pytest.raises(WeakDatasetError, match="not found in"):
        find_dataset(tmp_path, 6)
    with pytest.raises(WeakDatasetError, match="not set"):
        find_dataset(None, 6)
