"""Find a dataset folder by name or id, as nnU-Net's ``-d`` does: the one resolver of the package."""

from __future__ import annotations

import re
from pathlib import Path

from nnunet_weak.errors import WeakDatasetError

_DATASET_NAME = re.compile(r"^Dataset(\d{3})_[A-Za-z0-9_\-]+$")


def dataset_id(name: str) -> str | None:
    """The 3-digit id of an nnU-Net dataset folder name (``Dataset004_Hippocampus`` -> ``"004"``), or None."""
    match = _DATASET_NAME.match(name)
    return match.group(1) if match else None


def find_dataset(root: str | Path | None, dataset: str | int) -> Path:
    """The folder of ``dataset`` under ``root`` (``$nnUNet_raw``, ``$nnUNet_preprocessed``, ...).

    Args:
        root: the folder that holds ``DatasetXXX_Name`` folders; None when its variable is unset.
        dataset: a folder name (``Dataset004_Hippocampus``) or an id (``4``, ``"004"``), which must
            match exactly one ``DatasetXXX_*`` folder.

    Raises:
        WeakDatasetError: naming the root, when nothing or more than one folder matches.
    """
    if root is None:
        raise WeakDatasetError(f"dataset {dataset}: its nnU-Net folder variable (nnUNet_raw or nnUNet_preprocessed) "
                               "is not set")
    root, name = Path(root), str(dataset)
    if (root / name).is_dir():
        return root / name
    if name.isdigit():
        found = sorted(root.glob(f"Dataset{int(name):03d}_*"))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise WeakDatasetError(f"dataset id {dataset} matches {[p.name for p in found]} in {root}; give the name")
    raise WeakDatasetError(f"dataset {dataset} not found in {root}: give a DatasetXXX_Name folder there or its id")
