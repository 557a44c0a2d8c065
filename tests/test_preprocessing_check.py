"""nnU-Net's resampling would move sparse slices of an anisotropic case: the check says so, and
nnU-Net's own preprocessor confirms it."""

import json
import os
import subprocess

import numpy as np
import pytest
import SimpleITK as sitk

from nnunet_weak.cli import main
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.pipeline import executable
from nnunet_weak.preprocessing_check import moved_sparse_axes


def test_moved_axes_follow_nnunet_rounding_and_transpose():
    # (z, y, x) = 30 slices of 2 mm; target 3 mm along z -> 20 slices
    assert moved_sparse_axes((30, 50, 40), (2.0, 1.0, 1.0), [0], (3.0, 1.0, 1.0), (0, 1, 2)) == [(0, 30, 20)]
    assert moved_sparse_axes((30, 50, 40), (3.0, 1.0, 1.0), [0], (3.0, 1.0, 1.0), (0, 1, 2)) == []
    # in-plane axis 2 sparse, plans transposed so raw axis 2 comes first
    assert moved_sparse_axes((30, 50, 40), (3.0, 1.0, 1.0), [2], (0.8, 3.0, 1.0), (2, 0, 1)) == [(2, 40, 50)]
    # 2d configuration: first transposed axis is never resampled
    assert moved_sparse_axes((30, 50, 40), (2.0, 1.0, 1.0), [0], (1.0, 1.0), (0, 1, 2)) == []
    # a tiny spacing difference that rounds to the same length is harmless
    assert moved_sparse_axes((30, 50, 40), (3.01, 1.0, 1.0), [0], (3.0, 1.0, 1.0), (0, 1, 2)) == []


def full_planes(seg: np.ndarray, ignore: int) -> int:
    return int(np.sum(~(seg == ignore).any(axis=(1, 2))))


def test_scribbled_axis_is_checked_like_a_sparse_slice_axis(sample, tmp_path):
    """Strokes lie in slices: resampling across them smears them into their neighbours too."""
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.dataset.sidecar import read_sidecar
    from nnunet_weak.preprocessing_check import check_cases

    odd = sample.cases()[0]
    for path in (sample.image_files(odd)[0], sample.label_file(odd)):
        image = sitk.ReadImage(str(path))
        image.SetSpacing((1.0, 1.0, 2.0))
        sitk.WriteImage(image, str(path))
    for axes, flagged in ((["0"], True), (["2"], False)):
        out = tmp_path / f"Dataset14{axes[0]}_Scribbles"
        assert main(["scribbles", "-i", str(sample.folder), "-o", str(out), "--axes", *axes,
                     "--slice-share", "0.3"]) == 0
        weak = RawDataset(out)
        if flagged:
            with pytest.raises(WeakDatasetError, match=rf"{odd}: axis 0 has \d+ slices of 2 mm"):
                check_cases(weak, read_sidecar(out), [1.0, 1.0, 1.0], [0, 1, 2], "3d_fullres")
        else:  # in-plane resampling of a stroke keeps it in its slice
            check_cases(weak, read_sidecar(out), [1.0, 1.0, 1.0], [0, 1, 2], "3d_fullres")


@pytest.mark.slow
def test_anisotropic_case_is_flagged_and_really_corrupted(sample, tmp_path, capsys):
    cases = sample.cases()[:5]
    for extra in sample.cases()[5:]:
        sample.label_file(extra).unlink()
        sample.image_files(extra)[0].unlink()
    z_spacing = dict(zip(cases, [3.0, 3.0, 3.0, 2.0, 2.0], strict=True))  # median 3 mm: the 2 mm cases get resampled
    for case in cases:
        for path in (sample.image_files(case)[0], sample.label_file(case)):
            image = sitk.ReadImage(str(path))
            image.SetSpacing((1.0, 1.0, z_spacing[case]))
            sitk.WriteImage(image, str(path))
    raw = sample.folder.parent
    assert main(["slices", "-i", str(sample.folder), "-o", str(raw / "Dataset140_Aniso"), "--axes", "0",
                 "--count", "4"]) == 0
    env = {**os.environ, "nnUNet_raw": str(raw), "nnUNet_preprocessed": str(tmp_path / "pre"),
           "nnUNet_results": str(tmp_path / "res"), "nnUNet_n_proc_DA": "1"}
    subprocess.run([executable("nnUNetv2_extract_fingerprint"), "-d", "140", "-np", "1"], env=env, check=True,
                   capture_output=True)
    subprocess.run([executable("nnUNetv2_plan_experiment"), "-d", "140"], env=env, check=True, capture_output=True)
    os.environ.update({k: env[k] for k in ("nnUNet_raw", "nnUNet_preprocessed")})
    try:
        assert main(["check", "-d", "140", "-c", "3d_fullres"]) == 2
    finally:
        for k in ("nnUNet_raw", "nnUNet_preprocessed"):
            os.environ.pop(k)
    err = capsys.readouterr().err
    flagged = [c for c in cases if c in err]
    assert flagged == [c for c in cases if z_spacing[c] == 2.0]
    assert "overwrite_target_spacing" in err

    # nnU-Net's own preprocessor: flagged cases lose their slice structure, others keep it exactly
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    weak = raw / "Dataset140_Aniso"
    plans = PlansManager(str(tmp_path / "pre" / "Dataset140_Aniso" / "nnUNetPlans.json"))
    dataset_json = json.loads((weak / "dataset.json").read_text())
    for case in cases:
        seg_file = weak / "labelsTr" / f"{case}.nii.gz"
        _, seg, _ = DefaultPreprocessor(verbose=False).run_case(
            [str(weak / "imagesTr" / f"{case}_0000.nii.gz")], str(seg_file), plans,
            plans.get_configuration("3d_fullres"), dataset_json)
        original = sitk.GetArrayFromImage(sitk.ReadImage(str(seg_file)))
        if case in flagged:
            assert full_planes(seg[0], 3) != full_planes(original, 3)
        else:
            assert full_planes(seg[0], 3) == full_planes(original, 3) == 4
