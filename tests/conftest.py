"""Shared fixtures: the bundled real hippocampus sample and small helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nnunet_weak.dataset import RawDataset
from nnunet_weak.sample import SAMPLE_DATASET


@pytest.fixture()
def sample(tmp_path: Path) -> RawDataset:
    """A writable copy of the bundled sample (8 real hippocampus cases with dense labels)."""
    return RawDataset(shutil.copytree(SAMPLE_DATASET, tmp_path / "raw" / SAMPLE_DATASET.name))


@pytest.fixture()
def sample_readonly() -> RawDataset:
    return RawDataset(SAMPLE_DATASET)
