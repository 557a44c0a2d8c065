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


@pytest.fixture(scope="session")
def planned_sparse_sample(tmp_path_factory):
    """The sample as a 3D2DCT sparse-slice dataset (id 992, 6 training cases, 2 held out),
    planned and preprocessed by the stock command, with the CPU plans and a one-fold split."""
    from nnunet_weak.derive import build_weak_dataset, preset_annotator
    from nnunet_weak.pipeline import Workspace, plan_and_preprocess, shrink_plans, write_single_split

    ws = Workspace(tmp_path_factory.mktemp("sparse_sample"))
    dense = RawDataset(shutil.copytree(SAMPLE_DATASET, ws.raw / SAMPLE_DATASET.name))
    cases = dense.cases()
    annotate, parameters = preset_annotator("3d2dct")
    build_weak_dataset(dense, ws.raw / "Dataset992_SampleSlices", "sparse_slices", annotate, parameters, seed=0,
                       cases=cases[:-2])
    plan_and_preprocess(ws, 992, processes=1, log=ws.root / "plan.log")
    plans = shrink_plans(ws, 992)
    write_single_split(ws, 992, cases[:-2], cases[:2])
    return ws, dense, plans, cases[-2:]


@pytest.fixture(scope="session")
def planned_semi_sample(tmp_path_factory):
    """The sample as a semi-supervised dataset (id 993): of 6 training cases 3 labelled, 3 all-ignore
    (2 held out), planned and preprocessed, CPU plans, fold 0 validating on one labelled and one
    unlabelled case (the trainer must drop the unlabelled one from validation)."""
    from nnunet_weak.derive import build_weak_dataset, semi_supervised_annotator
    from nnunet_weak.pipeline import Workspace, plan_and_preprocess, shrink_plans, write_single_split

    ws = Workspace(tmp_path_factory.mktemp("semi_sample"))
    dense = RawDataset(shutil.copytree(SAMPLE_DATASET, ws.raw / SAMPLE_DATASET.name))
    cases = dense.cases()
    training, labelled = cases[:-2], cases[:3]
    build_weak_dataset(dense, ws.raw / "Dataset993_SampleSemi", "semi_supervised",
                       semi_supervised_annotator(labelled), {"labelled_cases": labelled}, seed=0, cases=training)
    plan_and_preprocess(ws, 993, processes=1, log=ws.root / "plan.log")
    plans = shrink_plans(ws, 993)
    write_single_split(ws, 993, training, [labelled[0], training[-1]])
    return ws, dense, plans, labelled, cases[-2:]


@pytest.fixture(scope="session")
def planned_points_sample(tmp_path_factory):
    """The sample as PA-Seg clicks expanded by geodesic distance (id 995, 6 training cases, 2 held
    out), planned and preprocessed, CPU plans, one fold."""
    from nnunet_weak.derive import build_weak_dataset, expanded_points_annotator, points_annotator
    from nnunet_weak.pipeline import Workspace, plan_and_preprocess, shrink_plans, write_single_split

    ws = Workspace(tmp_path_factory.mktemp("points_sample"))
    dense = RawDataset(shutil.copytree(SAMPLE_DATASET, ws.raw / SAMPLE_DATASET.name))
    cases = dense.cases()
    points = tmp_path_factory.mktemp("clicks") / "Dataset994_SampleClicks"
    build_weak_dataset(dense, points, "points", points_annotator(), {}, seed=0, cases=cases[:-2])
    clicks = RawDataset(points)
    build_weak_dataset(clicks, ws.raw / "Dataset995_SamplePoints", "points_expanded",
                       expanded_points_annotator(clicks), {}, seed=None)
    plan_and_preprocess(ws, 995, processes=1, log=ws.root / "plan.log")
    plans = shrink_plans(ws, 995)
    write_single_split(ws, 995, cases[:-2], cases[:2])
    return ws, dense, plans, cases[-2:]
