"""``nnunet-weak benchmark``: the protocol file and the cost model by hand, and the whole command at
the smoke schedule on a 2-channel, anisotropic (1 x 1 x 3 mm) dataset made from the bundled sample,
its report checked against the weak datasets' sidecars and the dense truth, then run again
reusing every step, and once more after a simulated kill during a training (continued with --c)."""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from nnunet_weak.benchmark.cost import DEFAULTS, annotator_seconds, load_cost_model
from nnunet_weak.benchmark.protocol import DEFAULT_PROTOCOL, STOCK, read_protocol
from nnunet_weak.benchmark.report import COLUMNS
from nnunet_weak.cli import main
from nnunet_weak.dataset import RawDataset
from nnunet_weak.derive import build_weak_dataset, expanded_points_annotator, points_annotator, scribbles_annotator
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.sample import SAMPLE_DATASET


def _protocol(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "protocol.toml"
    path.write_text(text)
    return path


def test_a_budget_sweep_is_one_line_and_stock_runs_beside_ours(tmp_path):
    arms = read_protocol(_protocol(tmp_path, '[[kind]]\nname = "slices"\ncounts = [1, 3]\norientations = ["axial"]\n'
                                             'presets = ["3d2dct"]\n[[kind]]\nname = "semi"\nlabelled = [2, 4]\n'
                                             '[[kind]]\nname = "full"\n'))
    assert [(a.kind, a.budget) for a in arms] == [("slices", "1 axial"), ("slices", "3 axial"), ("slices", "3d2dct"),
                                                  ("semi", "2 labelled"), ("semi", "4 labelled"), ("full", "all")]
    assert arms[0].trainers == (STOCK, "nnUNetTrainerCrossTeach")
    assert arms[1].options == {"axes": None, "orientations": ["axial"], "count": 3, "same_count": False}
    # semi: stock runs on the labelled cases alone (the runner adds it), not on the all-ignore rest
    assert arms[3].trainers == ("nnUNetTrainerDTML",) and arms[3].options == {"labelled": 2, "first": False}
    assert arms[3].settings == {}
    assert arms[5].trainers == (STOCK,)
    only_stock = read_protocol(_protocol(tmp_path, '[[kind]]\nname = "slices"\ncounts = [2]\ntrainers = []\n'))
    assert only_stock[0].trainers == (STOCK,)
    override = read_protocol(DEFAULT_PROTOCOL, {"slices": ("nnUNetTrainerCrossTeach_AllSlices",)})
    assert {a.trainers for a in override if a.kind == "slices"} == {(STOCK, "nnUNetTrainerCrossTeach_AllSlices")}
    assert {a.kind for a in read_protocol(DEFAULT_PROTOCOL)} == {"full", "slices", "points", "scribbles", "semi"}
    with pytest.raises(WeakDatasetError, match="--trainers-override semi=: trainer X is listed twice; give it once"):
        read_protocol(DEFAULT_PROTOCOL, {"semi": ("X", "X")})
    curve = read_protocol(Path(__file__).resolve().parents[1] / "benchmarks/presets/hippocampus_curve.toml")
    assert [a.key for a in curve][:3] == ["scribbles-1-of-axis0-slices", "scribbles-0p2-of-axis0-slices",
                                          "slices-3d2dct"]  # README's headline arms first
    assert {a.budget for a in curve if a.kind == "semi"} == {"2 labelled", "4 labelled", "17 labelled"}
    presets = Path(__file__).resolve().parents[1] / "benchmarks/presets"
    few = {name: read_protocol(presets / f"{name}_few_labelled.toml") for name in ("left_atrium", "hippocampus")}
    assert [(a.budget, a.trainers, a.repeats) for a in few["left_atrium"]] == [
        (f"first {n} labelled, unlabelled on top", ("nnUNetTrainerFixMatch",), 3) for n in (4, 8)]  # issue 28
    assert [a.budget for a in few["hippocampus"]] == ["2 labelled, unlabelled on top"]
    assert all(read_protocol(preset) for preset in presets.glob("*.toml"))
    repeated = read_protocol(_protocol(tmp_path, '[[kind]]\nname = "scribbles"\nslice_share = [1.0, 0.2]\n'
                                                 'repeats = 3\n[[kind]]\nname = "full"\n'))
    assert [a.repeats for a in repeated] == [3, 3, None]  # None: the command's --repeats
    # the left atrium's protocol: the first cases of train_list labelled; ours sampling 2 + 2 patches
    atrium = read_protocol(_protocol(tmp_path, '[[kind]]\nname = "semi"\nlabelled = [4, 8]\nfirst = true\n'
                                               'unlabelled_on_top = true\ntrainers = ["nnUNetTrainerFixMatch"]\n'))
    assert [a.budget for a in atrium] == ["first 4 labelled, unlabelled on top", "first 8 labelled, unlabelled on top"]
    assert atrium[0].key == "semi-first-4-labelled--unlabelled-on-top"
    assert atrium[0].options == {"labelled": 4, "first": True}
    assert atrium[0].settings == {"nnUNet_weak_unlabelled_on_top": "1"}


@pytest.mark.parametrize(("text", "message"), [
    ('[[kind]]\nname = "slices"\ncountz = [1]\n', r"\[\[kind\]\] number 1 \(slices\): key 'countz' is not known"),
    ('[[kind]]\nname = "full"\n[[kind]]\nname = "slice"\n', r"\[\[kind\]\] number 2: key 'name' is 'slice'"),
    ('[[kind]]\nname = "semi"\nlabelled = [0, 2]\n', r"key 'labelled' must be whole numbers of at least 1"),
    ('[[kind]]\nname = "scribbles"\nslice_share = [1.5]\n', r"key 'slice_share' must be numbers above 0"),
    ('[[kind]]\nname = "slices"\ncounts = [1]\norientations = ["up"]\n', r"key 'orientations' must list"),
    ('[[kind]]\nname = "slices"\n', r"give key 'counts'"),
    ('[[kind]]\nname = "semi"\nlabelled = [2]\ntrainers = ["A", "B", "A"]\n', r"\(semi\): trainer A is listed twice"),
    ('[[kind]]\nname = "semi"\nlabelled = [2]\n[[kind]]\nname = "semi"\nlabelled = [2]\n', r"listed twice"),
    ('[[kinds]]\nname = "full"\n', r"found key 'kinds'"),
    ('[[kind]]\nname = "full"\nrepeats = 0\n', r"\(full\): key 'repeats' must be a whole number of at least 1"),
    ('[[kind]]\nname = "full"\nrepeats = [2, 3]\n', r"key 'repeats' must be a whole number .*got \[2, 3\]"),
    ('[[kind]]\nname = "full"\nrepeat = 2\n', r"key 'repeat' is not known; use trainers, repeats$"),
    ('[[kind]\nname = "full"\n', r"is not valid TOML"),
    ('[[kind]]\nname = "semi"\nlabelled = [2]\nfirst = "yes"\n', r"\(semi\): key 'first' must be true or false"),
    ('[[kind]]\nname = "semi"\nlabelled = [2]\nunlabelled_on_top = true\ntrainers = []\n',
     r"\(semi\): key 'unlabelled_on_top' sets how our trainers sample, and trainers = \[\] runs none"),
    ('[[kind]]\nname = "slices"\ncounts = [1]\nfirst = true\n', r"\(slices\): key 'first' is not known"),
])
def test_a_bad_protocol_names_the_file_and_the_key(tmp_path, text, message):
    path = _protocol(tmp_path, text)
    with pytest.raises(WeakDatasetError, match=message) as error:
        read_protocol(path)
    assert str(path) in str(error.value)


def test_a_bad_protocol_ends_the_command_with_exit_2_and_one_line(tmp_path, capsys):
    path = _protocol(tmp_path, '[[kind]]\nname = "points"\nthreshold = 2\n')
    assert main(["benchmark", "-d", str(SAMPLE_DATASET), "-o", str(tmp_path / "work"), "--protocol", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"protocol {path}" in err and "key 'threshold'" in err
    assert not (tmp_path / "work").exists()  # refused before anything was written


def _sidecar(kind: str, cases: dict) -> dict:
    return {"kind": kind, "cases": cases}


def test_cost_model_by_hand():
    objects = {"a": {"0": [0, 1, 2, 2, 0], "1": [1, 1, 0]}, "b": {"0": [1, 1, 1, 0]}}
    # slices: a has axis-0 slices 0 (empty), 2 (2 classes), axis-1 slice 1 (1 class); b slice 3 (empty)
    slices = _sidecar("sparse_slices", {"a": {"labelled": True, "slices": {"0": [0, 2], "1": [1]}},
                                        "b": {"labelled": True, "slices": {"0": [3]}}})
    cost = annotator_seconds(slices, objects)
    assert cost["contours"] == 3 * 60 and cost["empty_slices"] == 2 * 5 and cost["total"] == 190
    clicks = _sidecar("points_expanded", {"a": {"labelled": True, "clicks": [{}] * 7},
                                          "b": {"labelled": True, "clicks": [{}] * 14}})
    assert annotator_seconds(clicks, objects)["total"] == 21 * 2
    scribbles = _sidecar("scribbles", {"a": {"labelled": True, "scribbles": 10, "scribble_length_mm": 300.0}})
    assert annotator_seconds(scribbles, objects)["total"] == 10 * 5
    # fully labelled: a's axis-0 slices hold 0+1+2+2+0 = 5 class outlines; b is not labelled
    semi = _sidecar("semi_supervised", {"a": {"labelled": True}, "b": {"labelled": False}})
    assert annotator_seconds(semi, objects)["full_cases"] == 5 * 60


def test_cost_model_rates_come_from_a_file_and_bad_ones_name_file_and_key(tmp_path):
    assert {r.status for r in DEFAULTS.values()} <= {"measured", "derived", "assumed"}
    assert all(r.source for r in DEFAULTS.values())
    given = tmp_path / "cost.toml"
    given.write_text("click_seconds = 3\nscribble_mm_seconds = 0.1\nfull_case_seconds = 600\n")
    model = load_cost_model(given)
    assert model["click_seconds"].seconds == 3 and model["click_seconds"].status == "given"
    assert model["contour_seconds"] == DEFAULTS["contour_seconds"]
    scribbles = _sidecar("scribbles", {"a": {"labelled": True, "scribbles": 10, "scribble_length_mm": 300.0}})
    assert annotator_seconds(scribbles, {}, model)["total"] == pytest.approx(10 * 5 + 300 * 0.1)
    semi = _sidecar("semi_supervised", {"a": {"labelled": True}, "b": {"labelled": True}})
    assert annotator_seconds(semi, {}, model)["total"] == 1200  # per case, given: no slice counts needed
    bad = tmp_path / "cost.json"
    bad.write_text(json.dumps({"clik_seconds": 2}))
    with pytest.raises(WeakDatasetError, match=f"cost model {bad}: key 'clik_seconds' is not a rate"):
        load_cost_model(bad)
    bad.write_text(json.dumps({"click_seconds": -1}))
    with pytest.raises(WeakDatasetError, match="key 'click_seconds' must be a number of seconds"):
        load_cost_model(bad)


def _two_channel_anisotropic(folder: Path) -> Path:
    """The sample as a 2-channel dataset (channel 1: 0.5 x channel 0 + 100) with 3 mm along array
    axis 0 (SimpleITK's z), 1 mm in plane."""
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    for label_file in sorted((SAMPLE_DATASET / "labelsTr").glob("*.nii.gz")):
        case = label_file.name.removesuffix(".nii.gz")
        image = sitk.ReadImage(str(SAMPLE_DATASET / "imagesTr" / f"{case}_0000.nii.gz"))
        label = sitk.ReadImage(str(label_file))
        rescaled = sitk.Cast(image, sitk.sitkFloat32) * 0.5 + 100
        for item, path in ((image, f"imagesTr/{case}_0000.nii.gz"), (rescaled, f"imagesTr/{case}_0001.nii.gz"),
                           (label, f"labelsTr/{case}.nii.gz")):
            item.SetSpacing((1.0, 1.0, 3.0))
            sitk.WriteImage(item, str(folder / path))
    dataset = json.loads((SAMPLE_DATASET / "dataset.json").read_text())
    dataset.update(channel_names={"0": "MRI", "1": "MRI rescaled"}, name="TwoChannelAniso")
    (folder / "dataset.json").write_text(json.dumps(dataset))
    return folder


def _expected_seconds(sidecar: dict, dense: Path) -> float:
    """Annotator seconds counted here from the dense labels: per annotated slice, 60 s a class on
    it or 5 s if none; per fully labelled case 60 s per class and axis-0 slice holding it."""
    total = 0.0
    for case, record in sidecar["cases"].items():
        label = sitk.GetArrayFromImage(sitk.ReadImage(str(dense / "labelsTr" / f"{case}.nii.gz")))
        for axis, indices in record.get("slices", {}).items():
            for index in indices:
                present = len(set(np.unique(np.take(label, index, axis=int(axis))).tolist()) - {0})
                total += 60 * present if present else 5
        if sidecar["kind"] == "semi_supervised" and record["labelled"]:
            total += sum(60 * len(set(np.unique(label[z]).tolist()) - {0}) for z in range(label.shape[0]))
    return total


@pytest.mark.slow
def test_benchmark_command_end_to_end_on_two_channels_and_3mm_slices_then_reused(tmp_path, capfd):
    dense = _two_channel_anisotropic(tmp_path / "Dataset980_TwoChannelAniso")
    protocol = _protocol(tmp_path, '[[kind]]\nname = "slices"\ncounts = [2]\naxes = [0]\ntrainers = []\n'
                                   '[[kind]]\nname = "full"\n')
    work = tmp_path / "work"
    command = ["benchmark", "-d", str(dense), "-o", str(work), "--protocol", str(protocol), "--schedule", "smoke",
               "--jobs", "2"]  # both runs at once: rows in the protocol's order all the same
    assert main(command) == 0
    first = capfd.readouterr().out
    assert "training 2 x 5 iterations" in first
    assert "[run 1 of 2] slices 2 axis0, nnUNetTrainerBenchmark, repeat 1: training" in first
    assert "[run 2 of 2] full all, nnUNetTrainerBenchmark, repeat 1: training" in first

    report = work / "report"
    with open(report / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["kind"], r["budget"], r["trainer"]) for r in rows] == [("slices", "2 axis0", STOCK),
                                                                     ("full", "all", STOCK)]
    results = json.loads((report / "results.json").read_text())
    held_out = sorted(p.name.removesuffix(".nii.gz") for p in (dense / "labelsTr").iterdir())[4::5]
    assert held_out == ["hippocampus_011"]
    for row in results:
        assert 0 <= row["dice"] <= 1 and row["seconds_per_iteration"] > 0 and row["test_cases"] == 1
        sidecar = json.loads((work / "nnUNet_raw" / row["dataset"] / "annotation.json").read_text())
        assert row["annotator_hours"] * 3600 == pytest.approx(_expected_seconds(sidecar, dense))
        assert row["voxel_percent"] == pytest.approx(100 * sidecar["totals"]["annotated_fraction"])
        assert row["training_cases"] == 7 and row["labelled_cases"] == 7
        scored = json.loads((work / row["scores"] / "summary.json").read_text())
        assert sorted(scored["per_case"]) == held_out and scored["mean"]["dice"] == pytest.approx(row["dice"])
    assert results[1]["voxel_percent"] == 100
    assert results[0]["annotator_hours"] < results[1]["annotator_hours"]
    for weak in (work / "nnUNet_raw").iterdir():  # the held-out case is in no weak dataset, in any form
        names = [p.name for p in (weak / "imagesTr").iterdir()] + [p.name for p in (weak / "labelsTr").iterdir()]
        assert not any(n.startswith(held_out[0]) for n in names)
        assert held_out[0] not in json.loads((weak / "annotation.json").read_text())["cases"]
        assert len(json.loads((weak / "dataset.json").read_text())["channel_names"]) == 2
    table = (report / "report.md").read_text()
    assert f"| slices | 2 axis0 | {STOCK} | {results[0]['dice']:.4f} |" in table
    assert f"| full | all | {STOCK} | {results[1]['dice']:.4f} |" in table
    assert "No trainer of ours ran beside the stock one." in table and "| contour_seconds | 60 | assumed |" in table
    png = (report / "dice_vs_cost.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000

    start = time.time()
    assert main(command) == 0
    again = capfd.readouterr().out
    assert time.time() - start < 60 and "training" not in again
    assert again.count("reusing the scores") == 2
    assert json.loads((report / "results.json").read_text()) == results

    # a kill during the full-label training: its last checkpoint left, nothing predicted or scored
    results_folder = next((work / "nnUNet_results_smoke").glob("Dataset502_*/nnUNetTrainerBenchmark__*/fold_0"))
    (results_folder / "checkpoint_final.pth").rename(results_folder / "checkpoint_latest.pth")
    shutil.rmtree(work / results[1]["scores"])
    shutil.rmtree(work / "predictions" / Path(results[1]["scores"]).name)
    assert main(command) == 0
    resumed = capfd.readouterr().out
    assert f"continuing the interrupted training in {results_folder} (--c)" in resumed
    assert resumed.count("reusing the scores") == 1  # the slices run, scored already: not even loaded
    assert (results_folder / "checkpoint_final.pth").is_file()
    assert [r["dataset"] for r in json.loads((report / "results.json").read_text())] == \
        [r["dataset"] for r in results]

    # the slices run archived as benchmarks/run.py keeps runs, then gone from the work folder: taken
    # from the archive by the digest of its weak labels, not trained again
    from nnunet_weak.benchmark.reuse import labels_digest

    archive = tmp_path / "archive"
    archive.mkdir()
    summary = json.loads((work / results[0]["scores"] / "summary.json").read_text())
    summary["run"] = {"weak_labels_sha256": labels_digest(RawDataset(work / "nnUNet_raw" / results[0]["dataset"])),
                      "seconds_per_iteration": 0.25, "peak_mib": 123.0}
    (archive / f"my-slices__{STOCK}__smoke__20261202-0000.json").write_text(json.dumps(summary))
    (archive / f"my-slices__{STOCK}__smoke__repeat-2__20261202-0001.json").write_text(json.dumps(summary))
    for name in ("scores", "predictions", "runs"):
        shutil.rmtree(work / name)
    shutil.rmtree(work / "nnUNet_results_smoke")
    assert main([*command, "--reuse-scores", str(archive), "--archive", str(archive)]) == 0
    taken = capfd.readouterr().out
    assert f"taking the archived scores of the same run, {archive / f'my-slices__{STOCK}__smoke__20261202-0000.json'}" \
        in taken and "training 2 x 5" in taken  # the full-label run is in no archive: trained again
    again = json.loads((report / "results.json").read_text())
    assert again[0]["dice"] == results[0]["dice"] and again[0]["seconds_per_iteration"] == 0.25
    assert again[0]["peak_mib"] == 123.0
    # --archive kept the run trained here (not the one taken from the archive) in the archive's form
    kept = sorted(archive.glob("TwoChannelAniso-*.json"))
    assert [f.name.rsplit("__", 1)[0] for f in kept] == [f"TwoChannelAniso-full-all__{STOCK}__smoke"]
    assert len(list(archive.iterdir())) == 3 and f"kept in {kept[0]}" in taken
    record = json.loads(kept[0].read_text())
    full = RawDataset(work / "nnUNet_raw" / again[1]["dataset"])
    assert record["run"]["weak_labels_sha256"] == labels_digest(full) and record["run"]["arm"] == "full-all"
    assert record["run"]["seconds_per_iteration"] == pytest.approx(again[1]["seconds_per_iteration"])
    assert record["per_case"] == json.loads((work / again[1]["scores"] / "summary.json").read_text())["per_case"]
    # a later benchmark (here: the work folder's runs and plans gone) takes both runs, plans and trains nothing
    for name in ("scores", "predictions", "runs", "nnUNet_results_smoke", "nnUNet_preprocessed"):
        shutil.rmtree(work / name)
    assert main([*command, "--reuse-scores", str(archive), "--archive", str(archive)]) == 0
    last = capfd.readouterr().out
    assert last.count("taking the archived scores") == 2 and "kept in" not in last
    assert "training" not in last and "planning" not in last and not (work / "nnUNet_preprocessed").exists()
    assert [r["dice"] for r in json.loads((report / "results.json").read_text())] == [r["dice"] for r in again]


def test_no_train_reports_the_runs_scored_so_far_and_lists_the_rest(tmp_path, capfd):
    """``--no-train``: the slices run taken from an archive is reported, the full-label run (in no
    archive) is listed as not scored yet; nothing is planned, trained or predicted."""
    from nnunet_weak.benchmark.reuse import labels_digest
    from nnunet_weak.evaluation.evaluate import summarise

    dense = _two_channel_anisotropic(tmp_path / "Dataset980_TwoChannelAniso")
    protocol = _protocol(tmp_path, '[[kind]]\nname = "slices"\ncounts = [2]\naxes = [0]\ntrainers = []\n'
                                   '[[kind]]\nname = "full"\n')
    work, archive = tmp_path / "work", tmp_path / "archive"
    archive.mkdir()
    command = ["benchmark", "-d", str(dense), "-o", str(work), "--protocol", str(protocol), "--schedule", "smoke",
               "--no-train", "--reuse-scores", str(archive)]
    assert main(command) == 0  # nothing archived yet: both runs missing, the weak datasets derived
    assert "2 of the protocol's runs are not scored yet" in (work / "report" / "report.md").read_text()
    assert json.loads((work / "report" / "results.json").read_text()) == []
    capfd.readouterr()
    slices = RawDataset(next((work / "nnUNet_raw").glob("*_slices-2-axis0")))
    per_case = {"hippocampus_011": {"anterior": {"dice": 0.6, "hd95": 2.0, "surface_dice": 0.7, "volume_ratio": 1.0},
                                    "posterior": {"dice": 0.8, "hd95": 4.0, "surface_dice": 0.9, "volume_ratio": 1.0}}}
    summary = summarise(per_case, ["anterior", "posterior"], dense.name, "predictions", 1.0)
    summary["run"] = {"weak_labels_sha256": labels_digest(slices), "seconds_per_iteration": 0.5, "peak_mib": None}
    (archive / f"x-slices__{STOCK}__smoke__20261207-0000.json").write_text(json.dumps(summary))

    assert main(command) == 0
    out = capfd.readouterr().out
    assert "taking the archived scores" in out and "full all, nnUNetTrainerBenchmark, repeat 1: not scored yet" in out
    assert "training" not in out and "planning" not in out and "predicting" not in out
    assert not (work / "nnUNet_preprocessed").exists() and not (work / "nnUNet_results_smoke").exists()
    (row,) = json.loads((work / "report" / "results.json").read_text())
    assert (row["kind"], row["dice"], row["seconds_per_iteration"]) == ("slices", pytest.approx(0.7), 0.5)
    text = (work / "report" / "report.md").read_text()
    assert "**Partial report** (`--no-train`): 1 of the protocol's runs are not scored yet" in text
    assert f"| slices | 2 axis0 | {STOCK} | 0.7000 |" in text
    assert text.split("## Not scored yet", 1)[1].split("##")[0].strip().splitlines()[2:] == \
        [f"| full | all | {STOCK} | 1 |"]
    assert "Trained at smoke (10 iterations)" in text
    assert (work / "report" / "dice_vs_cost.png").read_bytes().startswith(b"\x89PNG")


def _scored(work: Path, name: str, dice: dict[str, float]) -> str:
    folder = work / "scores" / name
    folder.mkdir(parents=True)
    per_case = {case: {"anterior": {"dice": d}, "posterior": {"dice": d}} for case, d in dice.items()}
    (folder / "summary.json").write_text(json.dumps({"per_case": per_case}))
    return f"scores/{name}"


def test_report_averages_repeats_and_pairs_ours_with_stock_by_hand(tmp_path):
    from nnunet_weak.benchmark.report import write_report

    def row(trainer, repeat, dice, data="weak"):
        scores = _scored(tmp_path, f"{trainer}{data}{repeat}", dice)
        return {"kind": "slices", "budget": "1 axial", "arm": "slices-1-axial", "data": data, "trainer": trainer,
                "repeat": repeat, "dice": sum(dice.values()) / len(dice), "hd95": 3.0, "surface_dice": 0.5,
                "annotator_hours": 0.5, "voxel_percent": 2.0, "seconds_per_iteration": 1.0,
                "peak_mib": float("nan"), "scores": scores, "schedule": "cpu-2k", "iterations": 2000}

    ours = "nnUNetTrainerCrossTeach"
    rows = [row(STOCK, 1, {"c1": 0.6, "c2": 0.8}),
            row(ours, 1, {"c1": 0.7, "c2": 0.9}), row(ours, 2, {"c1": 0.8, "c2": 0.8})]
    folder = write_report(rows, tmp_path, DEFAULTS)
    text = (folder / "report.md").read_text()
    assert "Trained at cpu-2k (2000 iterations) on nnU-Net's plans shrunk to batch 2 and 16-128 features, one CPU " \
        "thread. Scores against the dense truth of the held-out cases" in text
    # ours: runs 0.8 and 0.8, sd 0; per case over repeats 0.75, 0.85: differences +0.15, +0.05
    assert f"| slices | 1 axial | {ours} | 0.8000 ± 0.0000 | 3.00 | 0.5000 | 0.50 | 2.00 | 1.00 | nan | 2 |" in text
    assert f"| slices | 1 axial | {ours} | {STOCK} | 2 vs 1 | +0.1000 | 0.0500 | 2 of 2 |" in text
    assert "| 0.0000 (beyond) |" in text  # both runs of ours score 0.8: no spread
    assert json.loads((folder / "results.json").read_text())[0]["peak_mib"] is None  # strict JSON
    assert (folder / "dice_vs_cost.png").stat().st_size > 0



def test_what_to_buy_names_the_front_and_the_cheapest_annotation_near_full_labels_by_hand():
    from nnunet_weak.benchmark.report import best_buys, markdown

    def group(kind, budget, trainer, dice, hours, data="weak"):
        return {"kind": kind, "budget": budget, "data": data, "trainer": trainer, "runs": 2, "dice": dice,
                "dice_sd": 0.01, "hd95": 2.0, "surface_dice": 0.9, "annotator_hours": hours, "voxel_percent": 1.0,
                "seconds_per_iteration": 1.0, "peak_mib": 100.0}

    ours = "nnUNetTrainerCrossTeach"
    groups = [group("full", "all", STOCK, 0.85, 40.0),
              group("slices", "1 axial", STOCK, 0.60, 1.0), group("slices", "1 axial", ours, 0.70, 1.0),
              group("slices", "6 axial", STOCK, 0.84, 6.0), group("slices", "6 axial", ours, 0.83, 6.0),
              group("points", "7 clicks", STOCK, 0.65, 2.0),  # dearer than 1 axial, worse: off the front
              group("semi", "4 labelled", STOCK, 0.80, 5.0, data="labelled only")]
    buys = best_buys(groups)
    assert [(b["kind"], b["budget"], b["trainer"], b["efficient"]) for b in buys] == [
        ("slices", "1 axial", ours, True), ("points", "7 clicks", STOCK, False), ("semi", "4 labelled", STOCK, True),
        ("slices", "6 axial", STOCK, True), ("full", "all", STOCK, True)]
    text = markdown(groups, [], DEFAULTS)
    assert f"| 1.00 | 1.00 | slices | 1 axial | {ours} | 0.7000 | 2 | yes |" in text
    assert f"| 2.00 | 1.00 | points | 7 clicks | {STOCK} | 0.6500 | 2 |  |" in text
    assert f"| 5.00 | 1.00 | semi | 4 labelled | {STOCK} (labelled only) | 0.8000 | 2 | yes |" in text
    assert (f"- Within 0.01 Dice of full labels (0.8500, 40.00 h): slices 6 axial with {STOCK}, 0.8400 for 6.00 h "
            "(15 % of full labels' hours).") in text
    assert f"- Within 0.05 Dice of full labels (0.8500, 40.00 h): semi 4 labelled with {STOCK}, 0.8000" in text
    no_full = markdown(groups[1:], [], DEFAULTS)
    assert "No full-label run to compare" in no_full and "Within 0.01" not in no_full


def _noise(folder: Path, channel: int, rng: np.random.Generator) -> None:
    """Replace one channel of every image in ``folder`` with loud noise."""
    for path in folder.glob(f"*_{channel:04d}.nii.gz"):
        image = sitk.ReadImage(str(path))
        noise = sitk.GetImageFromArray(rng.normal(0, 1000, sitk.GetArrayFromImage(image).shape).astype(np.float32))
        noise.CopyInformation(image)
        sitk.WriteImage(noise, str(path))


def _expand(clicks: Path, output: Path) -> None:
    source = RawDataset(clicks)
    build_weak_dataset(source, output, "points_expanded", expanded_points_annotator(source, 0.15, 0.5, 4, False, 0.4),
                       {}, None)


def _label(path: Path) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def test_simulators_on_two_channels_read_labels_and_the_first_channel_only(tmp_path):
    """Clicks and scribbles are placed from the dense labels, the clicks' geodesic expansion follows
    channel 0: noise in channel 1 changes no weak label, noise in channel 0 changes the expansion."""
    clean = _two_channel_anisotropic(tmp_path / "clean" / "Dataset980_TwoChannelAniso")
    noisy = Path(shutil.copytree(clean, tmp_path / "noisy" / clean.name))
    rng = np.random.default_rng(0)
    _noise(noisy / "imagesTr", 1, rng)
    cases = ["hippocampus_003", "hippocampus_006"]
    for name, dense in (("clean", clean), ("noisy", noisy)):
        clicks = build_weak_dataset(RawDataset(dense), tmp_path / name / "Dataset981_Clicks", "points",
                                    points_annotator(), {}, seed=0, cases=cases)
        assert clicks["totals"]["clicks"] == 2 * 2 * 7  # two cases, two classes, seven clicks each
        _expand(tmp_path / name / "Dataset981_Clicks", tmp_path / name / "Dataset982_Expanded")
        build_weak_dataset(RawDataset(dense), tmp_path / name / "Dataset983_Scribbles", "scribbles",
                           scribbles_annotator([0], None, 1.0), {}, seed=0, cases=cases)
    for weak in ("Dataset982_Expanded", "Dataset983_Scribbles"):
        for case in cases:
            np.testing.assert_array_equal(_label(tmp_path / "clean" / weak / "labelsTr" / f"{case}.nii.gz"),
                                          _label(tmp_path / "noisy" / weak / "labelsTr" / f"{case}.nii.gz"))
    _noise(tmp_path / "noisy" / "Dataset981_Clicks" / "imagesTr", 0, rng)
    _expand(tmp_path / "noisy" / "Dataset981_Clicks", tmp_path / "noisy" / "Dataset984_Expanded")
    assert not np.array_equal(_label(tmp_path / "noisy/Dataset984_Expanded/labelsTr" / f"{cases[0]}.nii.gz"),
                              _label(tmp_path / "clean/Dataset982_Expanded/labelsTr" / f"{cases[0]}.nii.gz"))


def test_every_kind_of_the_default_protocol_derives_from_training_cases_only(tmp_path):
    """Each arm's weak dataset holds the training cases alone; a semi arm's baseline its labelled
    cases; the cost of clicks is read from the clicks, not from their expansion."""
    from nnunet_weak.benchmark.runner import _weak_datasets
    from nnunet_weak.pipeline import Workspace

    dense = RawDataset(_two_channel_anisotropic(tmp_path / "Dataset980_TwoChannelAniso"))
    test = ["hippocampus_011"]
    training = [c for c in dense.cases() if c not in test]
    ws, ids = Workspace(tmp_path / "work"), {}
    ws.root.mkdir()
    arms = {a.key: a for a in read_protocol(DEFAULT_PROTOCOL)}
    for key in ("full-all", "slices-3d2dct", "slices-1-axial-coronal", "points-7-clicks",
                "scribbles-0p2-of-axis0-slices", "semi-2-labelled"):
        weak, baseline, bought = _weak_datasets(ws, ids, dense, arms[key], training)
        sidecar = json.loads((weak.folder / "annotation.json").read_text())
        assert sorted(sidecar["cases"]) == training, key
        assert len(weak.channels) == 2 and sorted(p.name for p in (weak.folder / "imagesTr").iterdir()) == \
            sorted(f"{c}_000{k}.nii.gz" for c in training for k in (0, 1))
        labelled = [c for c, r in sidecar["cases"].items() if r["labelled"]]
        if key == "semi-2-labelled":
            assert len(labelled) == 2 and RawDataset(baseline.folder).cases() == sorted(labelled)
        else:
            assert baseline is None and labelled == training
        if key == "points-7-clicks":
            clicks = json.loads((bought.folder / "annotation.json").read_text())
            assert clicks["kind"] == "points" and sorted(clicks["cases"]) == training
            assert clicks["totals"]["annotated_fraction"] < sidecar["totals"]["annotated_fraction"]
        else:
            assert bought == weak
    assert sorted(ids.values()) == list(range(501, 509))  # 6 arms, the clicks and the labelled-only baseline


def test_a_work_folder_serves_one_dataset_and_one_test_split(tmp_path):
    from nnunet_weak.benchmark.runner import claim
    from nnunet_weak.pipeline import Workspace

    ws, sample = Workspace(tmp_path / "work"), RawDataset(SAMPLE_DATASET)
    claim(ws, sample, {"test_cases": ["hippocampus_011"]})
    claim(ws, sample, {"test_cases": ["hippocampus_011"]})  # the same benchmark again: fine
    with pytest.raises(WeakDatasetError, match="holds the held-out cases hippocampus_011, not the held-out cases "
                       "hippocampus_015, hippocampus_017; give those as --test-cases, or another -o"):
        claim(ws, sample, {"test_cases": ["hippocampus_015", "hippocampus_017"]})
    with pytest.raises(WeakDatasetError, match="not nnU-Net's 5-fold cross-validation; give those as --test-cases"):
        claim(ws, sample, {"cross_validation": 5})
    other = _two_channel_anisotropic(tmp_path / "Dataset980_TwoChannelAniso")
    with pytest.raises(WeakDatasetError, match=f"benchmarks {SAMPLE_DATASET.resolve()}; give another -o"):
        claim(ws, RawDataset(other), {"test_cases": ["hippocampus_011"]})
    folds = Workspace(tmp_path / "folds")
    claim(folds, sample, {"cross_validation": 5})
    with pytest.raises(WeakDatasetError, match="holds nnU-Net's 5-fold cross-validation, not the held-out cases "
                       "hippocampus_011; give --folds, or another -o"):
        claim(folds, sample, {"test_cases": ["hippocampus_011"]})
    # plans at another target spacing are another benchmark: its preprocessed data and trainings differ
    with pytest.raises(WeakDatasetError, match="is planned at nnU-Net's own target spacing, not 2 x 2 x 2 mm; "
                       "give no --target-spacing, or another -o"):
        claim(ws, sample, {"test_cases": ["hippocampus_011"]}, [2.0, 2.0, 2.0])
    coarse = Workspace(tmp_path / "coarse")
    claim(coarse, sample, {"test_cases": ["hippocampus_011"]}, [2, 2, 3])
    with pytest.raises(WeakDatasetError, match="is planned at 2 x 2 x 3 mm, not nnU-Net's own target spacing; "
                       "give --target-spacing 2 2 3, or another -o"):
        claim(coarse, sample, {"test_cases": ["hippocampus_011"]})


def _full_scores(work: Path, name: str, scores: dict[str, tuple[float, float]]) -> str:
    """A summary.json as evaluate writes it: per case (Dice, HD95) of both classes (HD95 None: undefined)."""
    folder = work / name
    folder.mkdir(parents=True)
    per_case = {case: {n: {"dice": d, "hd95": h, "surface_dice": d, "volume_ratio": 1.0}
                       for n in ("anterior", "posterior")} for case, (d, h) in scores.items()}
    (folder / "summary.json").write_text(json.dumps({"predictions": str(folder), "surface_tolerance_mm": 1.0,
                                                     "per_case": per_case}))
    return name


def test_folds_pool_into_one_run_that_scores_every_case_once_by_hand(tmp_path):
    from nnunet_weak.benchmark.folds import pool_folds

    def row(fold, repeat, scores, hours, seconds):
        name = _full_scores(tmp_path, f"fold_{fold}/scores/Dataset501_Full__{STOCK}__smoke__{repeat}", scores)
        return {"kind": "full", "budget": "all", "arm": "full-all", "data": "weak", "trainer": STOCK,
                "repeat": repeat, "fold": fold, "dataset": "Dataset501_FullAll", "scores": name,
                "annotator_hours": hours, "voxel_percent": 100.0, "labelled_cases": 4, "training_cases": 4,
                "seconds_per_iteration": seconds, "peak_mib": float("nan") if fold else 300.0,
                "annotator_seconds": {"full_case_seconds": hours * 3600}}

    rows = [row(0, 1, {"a": (0.5, 2.0), "b": (0.7, None)}, 1.0, 0.2), row(1, 1, {"c": (0.9, 4.0)}, 2.0, float("nan")),
            row(0, 2, {"a": (0.6, 1.0), "b": (0.6, 1.0)}, 1.0, 0.2), row(1, 2, {"c": (0.6, 1.0)}, 2.0, 0.4)]
    pooled = pool_folds(rows, tmp_path, ["anterior", "posterior"], "dense")
    assert [(r["repeat"], r["folds"], r["test_cases"]) for r in pooled] == [(1, "0 1", 3), (2, "0 1", 3)]
    first = pooled[0]
    assert first["dice"] == pytest.approx((0.5 + 0.7 + 0.9) / 3)  # per case, not per fold (0.6 and 0.9)
    assert first["hd95"] == pytest.approx((2.0 + 4.0) / 2)  # the undefined one left out
    assert first["annotator_hours"] == 1.5 and first["seconds_per_iteration"] == pytest.approx(0.2)  # NaN left out
    assert first["peak_mib"] == 300.0 and first["annotator_seconds"] == {"full_case_seconds": 5400}
    assert first["dataset"] == "fold_0/Dataset501_FullAll, fold_1/Dataset501_FullAll" and "fold" not in first
    written = json.loads((tmp_path / first["scores"] / "summary.json").read_text())
    assert sorted(written["per_case"]) == ["a", "b", "c"] and written["per_case"]["b"]["anterior"]["hd95"] is None
    assert pooled[1]["dice"] == pytest.approx(0.6)
    # --no-train: a run scored in fold 0 but not yet in fold 1 is one row marked missing, no scores
    named = {"schedule": "smoke", "iterations": 10, "target_spacing": None}
    done = {**row(0, 3, {"a": (0.5, 2.0)}, 1.0, 0.2), **named}
    not_yet = {**{key: done[key] for key in ("kind", "budget", "arm", "data", "trainer", "repeat", "dataset")},
               **named, "fold": 1, "missing": True}
    (third,) = pool_folds([done, not_yet], tmp_path, ["anterior", "posterior"], "dense")
    assert third["missing"] and third["repeat"] == 3 and "dice" not in third and "fold" not in third


@pytest.mark.slow
def test_cross_validation_holds_out_the_folds_cases_and_pools_them(tmp_path, capfd):
    """One of nnU-Net's folds at the smoke schedule (pooling several: by hand above): the fold's weak
    dataset holds its training cases alone, the pooled run scores its validation cases."""
    from nnunet_weak.nnunet_adapter import crossval_validation_cases

    dense = _two_channel_anisotropic(tmp_path / "Dataset980_TwoChannelAniso")
    protocol = _protocol(tmp_path, '[[kind]]\nname = "slices"\ncounts = [2]\naxes = [0]\ntrainers = []\n')
    work = tmp_path / "work"
    assert main(["benchmark", "-d", str(dense), "-o", str(work), "--protocol", str(protocol), "--schedule", "smoke",
                 "--folds", "1", "--archive", str(tmp_path / "archive")]) == 0
    assert "fold 1 of nnU-Net's 5-fold cross-validation: 2 held-out cases" in capfd.readouterr().out
    (kept,) = (tmp_path / "archive").iterdir()  # named with its fold
    assert kept.name.startswith(f"TwoChannelAniso-slices-2-axis0__{STOCK}__smoke__fold-1__")
    cases = RawDataset(dense).cases()
    validation = crossval_validation_cases(cases)[1]
    (weak,) = (work / "fold_1" / "nnUNet_raw").iterdir()
    assert sorted(json.loads((weak / "annotation.json").read_text())["cases"]) == sorted(set(cases) - set(validation))
    assert not any(p.name.startswith(tuple(validation)) for p in (weak / "imagesTr").iterdir())
    assert [p.name for p in work.iterdir() if p.name.startswith("fold_")] == ["fold_1"]
    (row,) = json.loads((work / "report" / "results.json").read_text())
    assert row["folds"] == "1" and row["test_cases"] == 2
    pooled = json.loads((work / row["scores"] / "summary.json").read_text())
    assert sorted(pooled["per_case"]) == validation
    per_case = [sum(c["dice"] for c in classes.values()) / 2 for classes in pooled["per_case"].values()]
    assert row["dice"] == pytest.approx(sum(per_case) / 2)
    assert "nnU-Net's cross-validation folds 1 (2 cases" in (work / "report" / "report.md").read_text()


def test_parallel_runs_keep_their_order_and_a_failure_starts_no_further_run():
    from nnunet_weak.benchmark.runner import run_all

    assert run_all([3, 1, 2], lambda x: 2 * x, 2) == [6, 2, 4]
    begun = []

    def double(x):
        begun.append(x)
        return 2 * x

    for jobs in (1, 2):  # started in the order given, results in the items' order
        begun.clear()
        assert run_all([3, 1, 2], double, jobs, start=[2, 0, 1]) == [6, 2, 4]
        assert begun == [2, 3, 1] if jobs == 1 else sorted(begun) == [1, 2, 3]
    with pytest.raises(ValueError, match="not an order of 3 items"):
        run_all([3, 1, 2], lambda x: x, 1, start=[0, 0, 1])
    started = []

    def one(item):
        started.append(item)
        if item == 0:
            raise ValueError("run 0 failed")
        time.sleep(0.5)
        return item

    with pytest.raises(ValueError, match="run 0 failed"):
        run_all(list(range(6)), one, 2)
    assert 0 in started and set(started) <= {0, 1}  # run 1 at most was in progress; 2-5 never started

    def interrupted(item):
        started.append(item)
        raise KeyboardInterrupt

    started.clear()
    with pytest.raises(KeyboardInterrupt):
        run_all(list(range(6)), interrupted, 2)
    assert len(started) <= 2


def test_our_long_runs_start_before_stock_arm_by_arm():
    from nnunet_weak.benchmark.protocol import Arm
    from nnunet_weak.benchmark.runner import Trained, start_order

    slices = Arm("slices", "3d2dct", {}, (STOCK, "nnUNetTrainerCrossTeach"))
    full = Arm("full", "all", {}, (STOCK,))
    runs = [Trained(arm, "weak", None, 501, trainer) for arm, trainer in
            [(slices, STOCK), (slices, STOCK), (slices, "nnUNetTrainerCrossTeach"), (full, STOCK),
             (slices, "nnUNetTrainerCrossTeach")]]
    # the protocol's arms stay in order; within the slices arm CrossTeach's two repeats start first
    assert start_order(runs) == [2, 4, 0, 1, 3]


def test_reuse_matches_runs_by_their_weak_labels_trainer_schedule_repeat_and_cases(tmp_path):
    from nnunet_weak.benchmark.reuse import find_archived, labels_digest, run_of

    sample = RawDataset(SAMPLE_DATASET)
    copy = Path(shutil.copytree(SAMPLE_DATASET, tmp_path / "Dataset991_Copy"))
    for label_file in (copy / "labelsTr").iterdir():  # written again: other gzip bytes, same voxels
        sitk.WriteImage(sitk.ReadImage(str(label_file)), str(label_file))
    assert labels_digest(RawDataset(copy)) == labels_digest(sample)
    image = sitk.ReadImage(str(copy / "labelsTr/hippocampus_003.nii.gz"))
    array = sitk.GetArrayFromImage(image)
    array[0, 0, 0] = 1 - min(array[0, 0, 0], 1)
    changed = sitk.GetImageFromArray(array)
    changed.CopyInformation(image)
    sitk.WriteImage(changed, str(copy / "labelsTr/hippocampus_003.nii.gz"))
    assert labels_digest(RawDataset(copy)) != labels_digest(sample)

    assert run_of(Path(f"p__{STOCK}__cpu-2k__20261202-0157.json")) == (STOCK, "cpu-2k", 1, "")
    assert run_of(Path(f"p__{STOCK}__cpu-2k__repeat-3__20261202-0157.json")) == (STOCK, "cpu-2k", 3, "")
    assert run_of(Path(f"p__{STOCK}__cpu-1k__initial_weights-x-5cd93cac__20261202-0157.json")) == \
        (STOCK, "cpu-1k", 1, "initial_weights-x-5cd93cac")
    assert run_of(Path("p__F__cpu-4k__repeat-2__unlabelled_on_top-1__20261124-2344.json")) == \
        ("F", "cpu-4k", 2, "unlabelled_on_top-1")  # run.py's name of a run with --env
    assert run_of(Path("p__F__20261124-2344.json")) is None

    digest = labels_digest(sample)
    cases = ["c1", "c2"]
    for name, run_digest, per_case in (("a", "other", cases), ("b", digest, ["c1"]), ("c", digest, cases)):
        (tmp_path / f"{name}__{STOCK}__cpu-2k__20261202-0000.json").write_text(
            json.dumps({"run": {"weak_labels_sha256": run_digest}, "per_case": {c: {} for c in per_case}}))
    assert find_archived(tmp_path, digest, STOCK, "cpu-2k", 1, cases).name.startswith("c__")  # a, b: no
    assert find_archived(tmp_path, digest, STOCK, "cpu-2k", 2, cases) is None
    assert find_archived(tmp_path, digest, "nnUNetTrainerGatedCRF", "cpu-2k", 1, cases) is None
    # planned at another target spacing: another run (run.py's left atrium at 2 mm), not taken at nnU-Net's own
    assert find_archived(tmp_path, digest, STOCK, "cpu-2k", 1, cases, [2.0, 2.0, 2.0]) is None
    (tmp_path / f"d__{STOCK}__cpu-2k__20261202-0000.json").write_text(json.dumps(
        {"run": {"weak_labels_sha256": digest, "target_spacing": [2, 2, 2]}, "per_case": {c: {} for c in cases}}))
    assert find_archived(tmp_path, digest, STOCK, "cpu-2k", 1, cases, [2.0, 2.0, 2.0]).name.startswith("d__")
    assert find_archived(tmp_path, digest, STOCK, "cpu-2k", 1, cases).name.startswith("c__")
    # trainer settings: a run with them is taken only for a run with the same settings, and a warm
    # start (a setting the command never asks for) never
    for name, settings in (("e", "unlabelled_on_top-1"), ("f", "initial_weights-x-5cd93cac")):
        (tmp_path / f"{name}__F__cpu-4k__repeat-2__{settings}__20261124-2344.json").write_text(json.dumps(
            {"run": {"weak_labels_sha256": digest}, "per_case": {c: {} for c in cases}}))
    on_top = {"nnUNet_weak_unlabelled_on_top": "1"}
    assert find_archived(tmp_path, digest, "F", "cpu-4k", 2, cases, settings=on_top).name.startswith("e__")
    assert find_archived(tmp_path, digest, "F", "cpu-4k", 2, cases) is None
    assert find_archived(tmp_path, digest, "F", "cpu-4k", 1, cases, settings=on_top) is None


def test_trainer_settings_reach_our_trainers_folders_and_archive_names_not_stock(tmp_path, monkeypatch):
    """An arm's settings (``unlabelled_on_top``) go to our trainer's training as environment variables
    and name its results folder, score folder and archived file as run.py names a run with ``--env``;
    the stock baseline on the labelled cases alone trains without them."""
    from nnunet_weak.benchmark import runner
    from nnunet_weak.pipeline import Workspace

    arm = read_protocol(_protocol(tmp_path, '[[kind]]\nname = "semi"\nlabelled = [2]\nunlabelled_on_top = true\n'
                                            'trainers = ["nnUNetTrainerFixMatch"]\n'))[0]
    ours = runner.Trained(arm, "weak", RawDataset(SAMPLE_DATASET), 501, "nnUNetTrainerFixMatch")
    stock = runner.Trained(arm, runner.LABELLED_ONLY, RawDataset(SAMPLE_DATASET), 502, STOCK)
    dense = RawDataset(SAMPLE_DATASET)
    assert runner._archive_name(dense, ours, "cpu-4k", 2) == \
        "HippocampusSample-HippocampusSample__nnUNetTrainerFixMatch__cpu-4k__repeat-2__unlabelled_on_top-1"
    assert runner._archive_name(dense, stock, "cpu-4k", 2) == \
        f"HippocampusSample-HippocampusSample__{STOCK}__cpu-4k__repeat-2"
    calls = []

    class Stop(Exception):
        pass

    def fake_train(run_ws, dataset_id, trainer, *args, env, **kwargs):
        calls.append((run_ws.results.name, trainer, env))
        raise Stop

    monkeypatch.setattr(runner, "train", fake_train)
    ws = Workspace(tmp_path / "work")
    for trained in (ours, stock):
        with pytest.raises(Stop):
            runner._run(ws, trained, 2, "cpu-4k", "nnUNetPlans_cpu", tmp_path, dense, ["hippocampus_011"])
    (folder, trainer, env), (stock_folder, _, stock_env) = calls
    assert folder == "nnUNet_results_cpu-4k__repeat-2__unlabelled_on_top-1" and trainer == "nnUNetTrainerFixMatch"
    assert env["nnUNet_weak_unlabelled_on_top"] == "1" and env["nnUNet_weak_repeat"] == "2"
    assert stock_folder == "nnUNet_results_cpu-4k__repeat-2" and "nnUNet_weak_unlabelled_on_top" not in stock_env
    run_name = runner._run_name(ours, "cpu-4k", 2)
    assert run_name.endswith("__nnUNetTrainerFixMatch__cpu-4k__repeat-2__unlabelled_on_top-1")
    # a cross-validation fold's run is archived under its fold, and taken back for that fold only
    from nnunet_weak.benchmark.reuse import find_archived

    name = runner._archive_name(dense, ours, "cpu-4k", 2, fold=3)
    assert name.endswith("__nnUNetTrainerFixMatch__cpu-4k__fold-3__repeat-2__unlabelled_on_top-1")
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / f"{name}__20261207-0600.json").write_text(json.dumps(
        {"run": {"weak_labels_sha256": "d"}, "per_case": {"hippocampus_011": {}}}))
    found = [find_archived(archive, "d", "nnUNetTrainerFixMatch", "cpu-4k", 2, ["hippocampus_011"],
                           settings=runner._archive_settings(ours, fold)) for fold in (3, 2, None)]
    assert found == [archive / f"{name}__20261207-0600.json", None, None]


@pytest.mark.slow
def test_a_target_spacing_plans_there_scores_at_the_images_own_and_is_archived_as_another_run(tmp_path, capfd):
    """``--target-spacing`` (nnU-Net's -overwrite_target_spacing; the left atrium's CPU schedule):
    the CPU plans train at 3 mm isotropic on the 1 x 1 x 3 mm dataset, the held-out case is predicted
    back at its own grid and scored against its dense truth, and the archived run says where it was
    planned, so that a benchmark at nnU-Net's own spacing does not take it."""
    from nnunet_weak.benchmark.reuse import find_archived, labels_digest

    dense = _two_channel_anisotropic(tmp_path / "Dataset980_TwoChannelAniso")
    protocol = _protocol(tmp_path, '[[kind]]\nname = "full"\n')
    work, archive = tmp_path / "work", tmp_path / "archive"
    assert main(["benchmark", "-d", str(dense), "-o", str(work), "--protocol", str(protocol), "--schedule", "smoke",
                 "--target-spacing", "3", "--archive", str(archive)]) == 0
    assert "planning and preprocessing Dataset501_full-all at 3 x 3 x 3 mm" in capfd.readouterr().out
    preprocessed = work / "nnUNet_preprocessed" / "Dataset501_full-all"
    assert not (preprocessed / "nnUNetPlans.json").exists()
    cpu = json.loads((preprocessed / "nnUNetPlans_cpu.json").read_text())["configurations"]["3d_fullres"]
    assert cpu["spacing"] == [3.0, 3.0, 3.0] and cpu["data_identifier"] == "nnUNetPlans_3x3x3mm_3d_fullres"
    (row,) = json.loads((work / "report" / "results.json").read_text())
    predicted = sitk.ReadImage(str(work / "predictions" / Path(row["scores"]).name / "hippocampus_011.nii.gz"))
    truth = sitk.ReadImage(str(dense / "labelsTr" / "hippocampus_011.nii.gz"))
    assert predicted.GetSize() == truth.GetSize() and predicted.GetSpacing() == truth.GetSpacing()
    assert row["test_cases"] == 1 and 0 <= row["dice"] <= 1 and row["target_spacing"] == [3.0, 3.0, 3.0]
    assert "Trained at smoke (10 iterations) on nnU-Net's plans shrunk to batch 2 and 16-128 features, one CPU " \
        "thread, planned at 3 x 3 x 3 mm (--target-spacing)." in (work / "report" / "report.md").read_text()
    (kept,) = archive.iterdir()
    assert json.loads(kept.read_text())["run"]["target_spacing"] == [3.0, 3.0, 3.0]
    digest = labels_digest(RawDataset(work / "nnUNet_raw" / row["dataset"]))
    assert find_archived(archive, digest, STOCK, "smoke", 1, ["hippocampus_011"], [3.0, 3.0, 3.0]) == kept
    assert find_archived(archive, digest, STOCK, "smoke", 1, ["hippocampus_011"]) is None
