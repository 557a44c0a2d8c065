"""Weak datasets made from the real hippocampus sample through the nnunet-weak command."""

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from nnunet_weak.cli import main
from nnunet_weak.dataset import RawDataset, read_image


def derive(*args: str) -> int:
    return main([str(a) for a in args])


def labels_of(ds: RawDataset, case: str) -> np.ndarray:
    return read_image(ds.label_file(case))[0]


def test_sparse_slices_keep_dense_labels_on_slices_and_ignore_elsewhere(sample, tmp_path):
    out = tmp_path / "raw" / "Dataset101_Slices"
    assert derive("slices", "-i", sample.folder, "-o", out, "--axes", "0", "1", "--count", "3") == 0
    weak = RawDataset(out)
    assert weak.dataset_json["labels"] == {"background": 0, "anterior": 1, "posterior": 2, "ignore": 3}
    sidecar = json.loads((out / "annotation.json").read_text())
    assert sidecar["kind"] == "sparse_slices" and sidecar["seed"] == 0
    for case in sample.cases():
        dense, w = labels_of(sample, case), labels_of(weak, case)
        slices = {int(a): s for a, s in sidecar["cases"][case]["slices"].items()}
        assert set(slices) == {0, 1} and all(len(s) == 3 for s in slices.values())
        on = np.zeros(dense.shape, bool)
        on[slices[0]] = True
        on[:, slices[1]] = True
        assert np.array_equal(w[on], dense[on]) and np.all(w[~on] == 3)
        assert sidecar["cases"][case]["annotated_voxels"] == on.sum()
        copied = weak.folder / "imagesTr" / f"{case}_0000.nii.gz"
        assert copied.read_bytes() == sample.image_files(case)[0].read_bytes()
    assert sidecar["totals"]["slices"] == 6 * len(sample.cases())


def test_same_seed_reproduces_dataset_and_other_seed_differs(sample, tmp_path):
    runs = {}
    for name, seed in (("Dataset102_A", 5), ("Dataset103_B", 5), ("Dataset104_C", 6)):
        derive("slices", "-i", sample.folder, "-o", tmp_path / name, "--preset", "3d2dct", "--seed", seed)
        runs[name] = json.loads((tmp_path / name / "annotation.json").read_text())["cases"]
    assert runs["Dataset102_A"] == runs["Dataset103_B"]
    assert runs["Dataset102_A"] != runs["Dataset104_C"]


def test_preset_3d2dct_uses_axial_every_12th_and_as_many_coronal(sample, tmp_path):
    derive("slices", "-i", sample.folder, "-o", tmp_path / "Dataset105_P", "--preset", "3d2dct")
    for _case, rec in json.loads((tmp_path / "Dataset105_P" / "annotation.json").read_text())["cases"].items():
        axial, coronal = rec["slices"]["0"], rec["slices"]["1"]  # hippocampus: z is axial, y coronal
        assert np.all(np.diff(axial) == 12) and len(coronal) == len(axial)


def test_semi_supervised_labels_n_cases_and_blanks_the_rest(sample, tmp_path):
    out = tmp_path / "Dataset106_Semi"
    derive("semi", "-i", sample.folder, "-o", out, "--labelled", "2")
    weak, sidecar = RawDataset(out), json.loads((out / "annotation.json").read_text())
    labelled = sidecar["parameters"]["labelled_cases"]
    assert len(labelled) == 2 and sidecar["totals"]["labelled_cases"] == 2
    for case in sample.cases():
        w = labels_of(weak, case)
        if case in labelled:
            assert np.array_equal(w, labels_of(sample, case))
        else:
            assert np.all(w == 3) and not sidecar["cases"][case]["labelled"]


def test_points_dataset_records_seven_clicks_per_object(sample, tmp_path):
    out = tmp_path / "Dataset107_Points"
    derive("points", "-i", sample.folder, "-o", out)
    weak, sidecar = RawDataset(out), json.loads((out / "annotation.json").read_text())
    for case, rec in sidecar["cases"].items():
        w, dense = labels_of(weak, case), labels_of(sample, case)
        clicked = {tuple(c["index"]) for c in rec["clicks"]}
        assert np.count_nonzero(w != 3) == len(clicked)
        for c in rec["clicks"]:
            assert w[tuple(c["index"])] == dense[tuple(c["index"])] == c["label"]


def test_exclude_cases_leaves_them_out(sample, tmp_path):
    held = sample.cases()[:2]
    derive("slices", "-i", sample.folder, "-o", tmp_path / "Dataset108_X", "--count", "2", "--exclude-cases", *held)
    assert set(RawDataset(tmp_path / "Dataset108_X").cases()) == set(sample.cases()) - set(held)


def test_import_sparse_converts_unannotated_value_to_ignore(sample, tmp_path):
    case = sample.cases()[0]
    dense, geometry = sample.read_label(case)
    drawn = np.full(dense.shape, 255, np.uint8)
    drawn[10] = dense[10]
    sitk.WriteImage(geometry.to_image(drawn), str(sample.label_file(case)))
    out = tmp_path / "Dataset109_Imported"
    derive("import-sparse", "-i", sample.folder, "-o", out, "--unannotated-value", "255")
    weak = RawDataset(out)
    w = labels_of(weak, case)
    assert np.array_equal(w[10], dense[10]) and np.all(np.delete(w, 10, axis=0) == 3)
    assert json.loads((out / "annotation.json").read_text())["cases"][case]["slices"] == {"0": [10]}


def test_import_points_reads_point_maps_and_slicer_markups(sample, tmp_path):
    points = tmp_path / "clicks"
    points.mkdir()
    cases = sample.cases()[:2]
    _, geometry = sample.read_label(cases[0])
    pm = np.zeros(geometry.shape, np.uint8)
    pm[17, 25, 17], pm[2, 2, 2] = 1, 255
    sitk.WriteImage(geometry.to_image(pm), str(points / f"{cases[0]}.nii.gz"))
    _, g1 = sample.read_label(cases[1])
    world = sitk.ReadImage(str(sample.image_files(cases[1])[0])).TransformIndexToPhysicalPoint((5, 6, 7))
    (points / f"{cases[1]}.mrk.json").write_text(json.dumps({"markups": [{"coordinateSystem": "LPS",
        "controlPoints": [{"label": "posterior", "position": list(world)}]}]}))
    for case in sample.cases()[2:]:
        sample.image_files(case)[0].unlink()
    out = tmp_path / "Dataset110_MyClicks"
    assert derive("import-points", "-i", sample.folder, "-o", out, "--points", points) == 0
    weak = RawDataset(out)
    a, b = labels_of(weak, cases[0]), labels_of(weak, cases[1])
    assert a[17, 25, 17] == 1 and a[2, 2, 2] == 0 and np.count_nonzero(a != 3) == 2
    assert b[7, 6, 5] == 2 and np.count_nonzero(b != 3) == 1


# ---- bad input: a clear message naming the case and the fix, and no output left behind ----

def assert_refused(capsys, out: Path, *args, match: str):
    assert derive(*args) == 2
    err = capsys.readouterr().err
    assert match in err, err
    assert not out.exists() and not any(p.name.startswith(f".{out.name}") for p in out.parent.iterdir())
    return err


def test_existing_output_refused_unless_overwrite(sample, tmp_path, capsys):
    out = tmp_path / "Dataset111_Exists"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert derive("slices", "-i", sample.folder, "-o", out, "--count", "1") == 2
    assert "--overwrite" in capsys.readouterr().err and (out / "keep.txt").exists()
    assert derive("slices", "-i", sample.folder, "-o", out, "--count", "1", "--overwrite") == 0
    assert not (out / "keep.txt").exists() and (out / "annotation.json").exists()


def test_too_many_slices_names_case(sample, tmp_path, capsys):
    out = tmp_path / "Dataset112_Bad"
    err = assert_refused(capsys, out, "slices", "-i", sample.folder, "-o", out, "--axes", "0", "--count", "500",
                         match="500 slices requested")
    assert sample.cases()[0] in err


def test_undeclared_label_value_names_case_and_fix(sample, tmp_path, capsys):
    case = sample.cases()[3]
    dense, geometry = sample.read_label(case)
    dense[0, 0, 0] = 7
    sitk.WriteImage(geometry.to_image(dense.astype(np.uint8)), str(sample.label_file(case)))
    out = tmp_path / "Dataset113_Bad"
    err = assert_refused(capsys, out, "semi", "-i", sample.folder, "-o", out, "--labelled", "2", match="[7]")
    assert case in err and "dataset.json" in err


def test_non_integer_labels_refused_but_whole_floats_accepted(sample, tmp_path, capsys):
    case = sample.cases()[1]
    dense, geometry = sample.read_label(case)
    sitk.WriteImage(geometry.to_image(dense.astype(np.float32)), str(sample.label_file(case)))
    assert derive("slices", "-i", sample.folder, "-o", tmp_path / "Dataset114_Ok", "--count", "2") == 0
    frac = dense.astype(np.float32)
    frac[1, 1, 1] = 0.5
    sitk.WriteImage(geometry.to_image(frac), str(sample.label_file(case)))
    out = tmp_path / "Dataset115_Bad"
    err = assert_refused(capsys, out, "slices", "-i", sample.folder, "-o", out, "--count", "2", match="non-integer")
    assert case in err


@pytest.mark.parametrize("change", ["shape", "spacing", "direction"])
def test_image_label_geometry_mismatch_names_case(sample, tmp_path, capsys, change):
    case = sample.cases()[2]
    image = sitk.ReadImage(str(sample.image_files(case)[0]))
    if change == "shape":
        image = image[:-1, :, :]
    elif change == "spacing":
        image.SetSpacing((1.0, 1.0, 1.5))
    else:
        image.SetDirection((1, 0, 0, 0, 0, 1, 0, 1, 0))
    sitk.WriteImage(image, str(sample.image_files(case)[0]))
    out = tmp_path / "Dataset116_Bad"
    expected = {"shape": "shape", "spacing": "spacing", "direction": "orientation"}[change]
    err = assert_refused(capsys, out, "slices", "-i", sample.folder, "-o", out, "--count", "2", match=expected)
    assert case in err and "Resample" in err


def test_points_on_case_without_foreground_names_case(sample, tmp_path, capsys):
    case = sample.cases()[4]
    dense, geometry = sample.read_label(case)
    sitk.WriteImage(geometry.to_image(np.zeros_like(dense, np.uint8)), str(sample.label_file(case)))
    out = tmp_path / "Dataset117_Bad"
    err = assert_refused(capsys, out, "points", "-i", sample.folder, "-o", out, match="no foreground")
    assert case in err and "--exclude-cases" in err


def test_point_map_with_unknown_value_names_case(sample, tmp_path, capsys):
    points = tmp_path / "clicks"
    points.mkdir()
    case = sample.cases()[0]
    _, geometry = sample.read_label(case)
    pm = np.zeros(geometry.shape, np.uint8)
    pm[5, 5, 5], pm[6, 6, 6] = 1, 9
    sitk.WriteImage(geometry.to_image(pm), str(points / f"{case}.nii.gz"))
    out = tmp_path / "Dataset118_Bad"
    err = assert_refused(capsys, out, "import-points", "-i", sample.folder, "-o", out, "--points", points,
                         match="[9]")
    assert case in err


def test_bad_output_name_and_id_clash_refused(sample, tmp_path, capsys):
    assert derive("slices", "-i", sample.folder, "-o", tmp_path / "NotADataset", "--count", "1") == 2
    assert "DatasetXXX_Name" in capsys.readouterr().err
    (tmp_path / "Dataset120_Other").mkdir()
    assert derive("slices", "-i", sample.folder, "-o", tmp_path / "Dataset120_Mine", "--count", "1") == 2
    assert "already used by Dataset120_Other" in capsys.readouterr().err


def test_expand_points_grows_clicks_in_parallel_and_keeps_them(sample, tmp_path):
    points = tmp_path / "Dataset121_Points"
    derive("points", "-i", sample.folder, "-o", points)
    out = tmp_path / "Dataset122_Expanded"
    assert derive("expand-points", "-i", points, "-o", out, "-np", "2") == 0
    expanded, sidecar = RawDataset(out), json.loads((out / "annotation.json").read_text())
    clicks = json.loads((points / "annotation.json").read_text())["cases"]
    assert sidecar["kind"] == "points_expanded" and sidecar["parameters"]["threshold"] == 0.2
    for case in sample.cases():
        weak, dense = labels_of(expanded, case), labels_of(sample, case)
        assert sidecar["cases"][case]["clicks"] == clicks[case]["clicks"]
        assert sidecar["cases"][case]["annotated_voxels"] > 20 * len(clicks[case]["clicks"])
        known = weak != 3
        assert (weak[known] == dense[known]).mean() > 0.9
    # in-box background: recorded in the sidecar, more voxels annotated in every case
    boxed = tmp_path / "Dataset123_ExpandedBg"
    assert derive("expand-points", "-i", points, "-o", boxed, "--background-threshold", "0.4") == 0
    boxed_sidecar = json.loads((boxed / "annotation.json").read_text())
    assert boxed_sidecar["parameters"]["background_threshold"] == 0.4
    assert sidecar["parameters"]["background_threshold"] is None
    for case in sample.cases():
        assert boxed_sidecar["cases"][case]["annotated_voxels"] > sidecar["cases"][case]["annotated_voxels"]


def test_expand_points_refuses_a_dataset_without_clicks(sample, tmp_path, capsys):
    slices = tmp_path / "Dataset123_Slices"
    derive("slices", "-i", sample.folder, "-o", slices, "--count", "1")
    out = tmp_path / "Dataset124_Bad"
    assert_refused(capsys, out, "expand-points", "-i", slices, "-o", out, match="not clicks")
    points = tmp_path / "Dataset125_Points"
    derive("points", "-i", sample.folder, "-o", points)
    assert_refused(capsys, out, "expand-points", "-i", points, "-o", out, "--background-threshold", "0.1",
                   match="background_threshold must lie in")
    assert_refused(capsys, out, "expand-points", "-i", points, "-o", out, "--threshold", "1.5",
                   match="error: threshold must lie in (0, 1), got 1.5")


def test_slices_without_count_or_every_and_unknown_dataset_are_refused(sample, tmp_path, capsys):
    out = tmp_path / "Dataset125_Bad"
    assert_refused(capsys, out, "slices", "-i", sample.folder, "-o", out, "--axes", "0", match="--count N or --every K")
    assert derive("slices", "-i", tmp_path / "nowhere", "-o", out, "--count", "1") == 2
    assert "not found" in capsys.readouterr().err and not out.exists()
    assert derive("slices", "-i", sample.folder, "-o", out, "--preset", "nope") == 2
    assert "unknown preset" in capsys.readouterr().err
