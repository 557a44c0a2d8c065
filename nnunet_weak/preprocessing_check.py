"""Will nnU-Net's preprocessing keep sparse slices where they are?

nnU-Net transposes, crops and then resamples every case to the configuration's spacing. Along
an axis that carries sparse annotated slices (or slices holding scribbles), resampling moves
those slices off voxel planes and interpolates the label map (with ``ignore`` as just another
value), so annotated labels bleed into unannotated voxels and slices thin out or vanish. Preprocessing leaves an axis
alone exactly when its length does not change, so the check compares the resampled length
(nnU-Net's ``compute_new_shape``) with the original one for every sparse axis of every case.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from nnunet_weak.dataset import RawDataset
from nnunet_weak.dataset.folders import find_dataset
from nnunet_weak.dataset.raw import Geometry
from nnunet_weak.dataset.sidecar import read_sidecar
from nnunet_weak.errors import WeakDatasetError


def resampled_length(length: int, spacing: float, target_spacing: float) -> int:
    """nnU-Net's rule (``compute_new_shape``): round(length * spacing / target)."""
    return int(round(length * spacing / target_spacing))


def moved_sparse_axes(shape: Sequence[int], spacing: Sequence[float], sparse_axes: Sequence[int],
                      target_spacing: Sequence[float], transpose_forward: Sequence[int]) -> list[tuple[int, int, int]]:
    """Sparse axes (array order) that preprocessing would resample, as (axis, old, new length).

    ``shape``/``spacing`` in the raw array order (z, y, x); ``target_spacing`` as in the plans,
    i.e. after ``transpose_forward``. A 2D configuration's target has one entry fewer: its first
    (transposed) axis is never resampled.
    """
    target = list(target_spacing)
    if len(target) < len(shape):
        target = [None] * (len(shape) - len(target)) + target
    moved = []
    for axis in sparse_axes:
        position = list(transpose_forward).index(axis)
        if target[position] is None:
            continue
        new = resampled_length(shape[axis], spacing[axis], target[position])
        if new != shape[axis]:
            moved.append((axis, shape[axis], new))
    return moved


def check_dataset_against_plans(dataset: str, configuration: str = "3d_fullres", plans_identifier: str = "nnUNetPlans",
                                raw_root: str | None = None, preprocessed_root: str | None = None) -> None:
    """Raise :class:`WeakDatasetError` naming every case whose sparse slices preprocessing would move."""
    raw_root = raw_root or os.environ.get("nnUNet_raw")
    preprocessed_root = preprocessed_root or os.environ.get("nnUNet_preprocessed")
    if not raw_root or not preprocessed_root:
        raise WeakDatasetError("set nnUNet_raw and nnUNet_preprocessed (as for nnUNetv2_plan_and_preprocess)")
    raw = find_dataset(raw_root, dataset)
    plans_file = find_dataset(preprocessed_root, dataset) / f"{plans_identifier}.json"
    if not plans_file.is_file():
        raise WeakDatasetError(f"{plans_file} not found: run nnUNetv2_plan_and_preprocess -d {dataset} first")
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    plans = PlansManager(json.loads(plans_file.read_text()))
    if configuration not in plans.available_configurations:
        raise WeakDatasetError(f"configuration {configuration} not in {plans_file.name}: "
                               f"{plans.available_configurations}")
    spacing = plans.get_configuration(configuration).spacing
    check_cases(RawDataset(raw), read_sidecar(raw), spacing, plans.transpose_forward, configuration)


def check_cases(dataset: RawDataset, sidecar: dict, target_spacing: Sequence[float],
                transpose_forward: Sequence[int], configuration: str) -> None:
    problems = []
    for case, record in sidecar["cases"].items():
        # planes people annotated: fully (sparse slices) or with strokes (scribbles); both smear when resampled across
        axes = sorted({int(a) for key in ("slices", "scribble_slices") for a in record.get(key, {})})
        if not axes:
            continue
        geometry = Geometry.from_header(dataset.image_files(case)[0])
        for axis, old, new in moved_sparse_axes(geometry.shape, geometry.spacing_zyx, axes, target_spacing,
                                               transpose_forward):
            problems.append(f"{case}: axis {axis} has {old} slices of {geometry.spacing_zyx[axis]:g} mm, "
                            f"resampled to {new}")
    if problems:
        target = [float(s) for s in target_spacing]
        raise WeakDatasetError(
            f"nnU-Net's {configuration} preprocessing (target spacing {target} mm after transpose "
            f"{list(transpose_forward)}) would resample the annotated axis (sparse slices or scribbled slices) of "
            f"{len(problems)} case(s), moving and blurring the annotated slices:\n  " + "\n  ".join(problems[:10])
            + ("\n  ..." if len(problems) > 10 else "")
            + "\nFix: plan so that sparse axes keep their spacing, e.g. "
            f"'nnUNetv2_plan_experiment -d {dataset.name.split('_')[0][7:]} -overwrite_target_spacing Z Y X "
            "-overwrite_plans_name nnUNetPlans_sparse' with the cases' own spacing along the sparse axes, "
            "or resample images and dense labels to one common spacing before making the weak dataset."
        )
