"""A tiny nnU-Net dataset written by hand (plans, dataset.json, preprocessed cases, split), so that
trainers can be constructed and their loaders run in a fast test without planning or preprocessing."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import torch

NAME = "Dataset997_Tiny"  # semi-supervised: 3 dense cases, 3 all ignore
SPARSE_NAME = "Dataset998_TinySparse"  # every case annotated on a few planes along axes 0 and 1
IGNORE = 2
SHAPE = (20, 20, 20)


def _configuration(patch: list[int], conv: str, norm: str, batch_dice: bool) -> dict:
    dims = len(patch)
    resampling = {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None}
    return {
        "data_identifier": f"nnUNetPlans_{dims}d" + ("_fullres" if dims == 3 else ""),
        "preprocessor_name": "DefaultPreprocessor", "batch_size": 4, "patch_size": patch,
        "median_image_size_in_voxels": list(SHAPE[:dims]), "spacing": [1.0] * dims,
        "normalization_schemes": ["ZScoreNormalization"], "use_mask_for_norm": [False],
        "resampling_fn_data": "resample_data_or_seg_to_shape", "resampling_fn_seg": "resample_data_or_seg_to_shape",
        "resampling_fn_data_kwargs": resampling, "resampling_fn_seg_kwargs": {**resampling, "is_seg": True},
        "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
        "resampling_fn_probabilities_kwargs": resampling,
        "architecture": {
            "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
            "arch_kwargs": {"n_stages": 3, "features_per_stage": [4, 8, 16], "conv_op": conv,
                            "kernel_sizes": [[3] * dims] * 3, "strides": [[1] * dims, [2] * dims, [2] * dims],
                            "n_conv_per_stage": [1, 1, 1], "n_conv_per_stage_decoder": [1, 1], "conv_bias": True,
                            "norm_op": norm, "norm_op_kwargs": {"eps": 1e-5, "affine": True}, "dropout_op": None,
                            "dropout_op_kwargs": None, "nonlin": "torch.nn.LeakyReLU",
                            "nonlin_kwargs": {"inplace": True}},
            "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"]},
        "batch_dice": batch_dice,
    }


PLANS = {
    "dataset_name": NAME, "plans_name": "nnUNetPlans",
    "original_median_spacing_after_transp": [1.0, 1.0, 1.0], "original_median_shape_after_transp": list(SHAPE),
    "image_reader_writer": "SimpleITKIO", "transpose_forward": [0, 1, 2], "transpose_backward": [0, 1, 2],
    "configurations": {
        "2d": _configuration([16, 16], "torch.nn.modules.conv.Conv2d",
                             "torch.nn.modules.instancenorm.InstanceNorm2d", True),
        "3d_fullres": _configuration([16, 16, 16], "torch.nn.modules.conv.Conv3d",
                                     "torch.nn.modules.instancenorm.InstanceNorm3d", False),
    },
    "experiment_planner_used": "ExperimentPlanner", "label_manager": "LabelManager",
    "foreground_intensity_properties_per_channel": {"0": {"max": 1.0, "mean": 0.0, "median": 0.0, "min": -1.0,
                                                          "percentile_00_5": -1.0, "percentile_99_5": 1.0,
                                                          "std": 1.0}},
}
DATASET_JSON = {"channel_names": {"0": "MRI"}, "labels": {"background": 0, "object": 1, "ignore": IGNORE},
                "numTraining": 6, "file_ending": ".nii.gz"}
LABELLED = ["case_0", "case_1", "case_2"]
UNLABELLED = ["case_3", "case_4", "case_5"]


def write_tiny_dataset(root: Path, name: str = NAME) -> Path:
    """``root``/``name`` (a preprocessed root) with 6 cases, one fold validating on case_0 and
    case_5: for NAME 3 dense and 3 all-ignore cases, for SPARSE_NAME sparse planes in every case."""
    from batchgenerators.utilities.file_and_folder_operations import write_pickle

    base = root / name
    folder = base / "nnUNetPlans_3d_fullres"
    folder.mkdir(parents=True)
    (base / "nnUNetPlans.json").write_text(json.dumps({**PLANS, "dataset_name": name}))
    (base / "dataset.json").write_text(json.dumps(DATASET_JSON))
    (base / "splits_final.json").write_text(json.dumps(
        [{"train": ["case_1", "case_2", "case_3", "case_4"], "val": ["case_0", "case_5"]}]))
    rng = np.random.default_rng(0)
    for case in LABELLED + UNLABELLED:
        data = rng.standard_normal((1, *SHAPE)).astype(np.float32)
        seg = np.zeros((1, *SHAPE), np.int8)
        seg[0, 6:14, 6:14, 6:14] = 1
        locations = np.argwhere(seg == 1)
        annotated = np.argwhere(seg >= 0)[::50]
        if name == SPARSE_NAME:
            planes = np.zeros(SHAPE, bool)
            planes[[3, 9, 15]] = True
            planes[:, [5, 12]] = True
            seg[0][~planes] = IGNORE
            locations, annotated = np.argwhere(seg == 1), np.argwhere(seg != IGNORE)[::20]
        elif case in UNLABELLED:
            seg[:] = IGNORE
            locations = annotated = np.zeros((0, 4), np.int64)
        np.savez_compressed(folder / f"{case}.npz", data=data, seg=seg)
        write_pickle({"class_locations": {1: locations, (-1, 0, 1): annotated}, "spacing": [1.0, 1.0, 1.0],
                      "shape_before_cropping": SHAPE, "shape_after_cropping_and_before_resampling": SHAPE,
                      "bbox_used_for_cropping": [[0, s] for s in SHAPE]}, str(folder / f"{case}.pkl"))
    shutil.copytree(folder, base / "nnUNetPlans_2d")  # nnU-Net's 2d loader reads the same volumes
    return root


def make_trainer(trainer_class, root: Path, monkeypatch, configuration: str = "3d_fullres", name: str = NAME):
    """``trainer_class`` for a tiny dataset on the CPU, as nnUNetv2_train constructs it."""
    if not (root / "preprocessed" / name).is_dir():
        write_tiny_dataset(root / "preprocessed", name)
    monkeypatch.setenv("nnUNet_preprocessed", str(root / "preprocessed"))
    monkeypatch.setenv("nnUNet_results", str(root / "results"))
    monkeypatch.setenv("nnUNet_raw", str(root / "raw"))
    monkeypatch.setenv("nnUNet_n_proc_DA", "0")  # loaders in this process, so tests can look inside them
    plans = {**copy.deepcopy(PLANS), "dataset_name": name, "continue_training": False}
    return trainer_class(plans, configuration, 0, copy.deepcopy(DATASET_JSON), device=torch.device("cpu"))
