"""benchmarks/run.py refuses malformed settings before it touches any data; benchmarks/paired.py
compares scored runs case by case, repeats averaged, from score folders or archive.py's copies;
label_quality.py and band_fill.py count and fill weak labels."""

import importlib.util
import json
from pathlib import Path

import pytest


def _runner(name: str = "run"):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_items_without_a_value_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _runner().main(["--protocol", "hippo-full", "--work", str(tmp_path), "--env", "nnUNet_weak_unlabelled_on_top"])
    assert exit_info.value.code == 2
    assert "--env takes NAME=VALUE items, got ['nnUNet_weak_unlabelled_on_top']" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize("arguments", [["--protocol", "la-semi-4-pseudo"],
                                       ["--protocol", "la-semi-4", "--teacher", "teacher.pth"]])
def test_a_teacher_goes_with_the_pseudo_label_protocols_only(tmp_path, capsys, arguments):
    with pytest.raises(SystemExit) as exit_info:
        _runner().main([*arguments, "--work", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "--teacher CHECKPOINT goes with the *-pseudo protocols, and only with them" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def _summary(folder: Path, dice: dict[str, tuple[float, float]]) -> Path:
    folder.mkdir()
    per_case = {case: {"anterior": {"dice": a}, "posterior": {"dice": p}} for case, (a, p) in dice.items()}
    (folder / "summary.json").write_text(json.dumps({"per_case": per_case}))
    return folder


def test_paired_comparison_by_hand(tmp_path, capsys):
    paired = _runner("paired")
    a = _summary(tmp_path / "a", {"c1": (0.8, 0.6), "c2": (0.9, 0.9), "c3": (0.5, 0.7), "c4": (0.6, 0.6)})
    b = _summary(tmp_path / "b", {"c1": (0.6, 0.6), "c2": (0.8, 0.8), "c3": (0.6, 0.6), "c4": (0.5, 0.5)})
    result = paired.compare(paired.case_dice(a), paired.case_dice(b))
    # per-case differences 0.1, 0.1, 0.0, 0.1: mean 0.075, sample sd 0.05, SE 0.05 / 2
    assert result["difference"] == pytest.approx(0.075)
    assert result["standard_error"] == pytest.approx(0.025)
    assert (result["a_better"], result["cases"]) == (3, 4)
    assert result["mean_a"] == pytest.approx(0.7) and result["mean_b"] == pytest.approx(0.625)
    paired.main([str(a), str(b)])
    assert "A better on 3 of 4 cases" in capsys.readouterr().out


def test_paired_comparison_averages_repeats_and_sets_the_difference_beside_their_spread(tmp_path, capsys):
    paired = _runner("paired")
    a = _summary(tmp_path / "a", {"c1": (0.8, 0.6), "c2": (0.9, 0.9), "c3": (0.5, 0.7), "c4": (0.6, 0.6)})
    b1 = _summary(tmp_path / "b1", {"c1": (0.6, 0.6), "c2": (0.8, 0.8), "c3": (0.6, 0.6), "c4": (0.5, 0.5)})
    b2 = _summary(tmp_path / "b2", {"c1": (0.8, 0.8), "c2": (0.8, 0.8), "c3": (0.7, 0.7), "c4": (0.6, 0.6)})
    # per-case means over B's runs: 0.7, 0.8, 0.65, 0.55 (mean 0.675); B's runs score 0.625 and 0.725
    mean_b = paired.mean_over_runs([paired.case_dice(b1), paired.case_dice(b2)])
    assert mean_b == pytest.approx({"c1": 0.7, "c2": 0.8, "c3": 0.65, "c4": 0.55})
    assert paired.run_spread([paired.case_dice(b1), paired.case_dice(b2)]) == pytest.approx(0.1)
    paired.main([str(a), "--vs", str(b1), str(b2)])
    out = capsys.readouterr().out
    assert "B mean of 2 runs 0.6750" in out and "A - B = +0.0250" in out  # A scores 0.7
    assert "differ by up to 0.1000: the difference is within that spread" in out
    b3 = _summary(tmp_path / "b3", {"c1": (0.6, 0.6), "c2": (0.8, 0.8), "c3": (0.6, 0.6), "c4": (0.4, 0.4)})
    paired.main([str(a), "--vs", str(b1), str(b3)])  # B's runs 0.625 and 0.6: 0.0875 below A, spread 0.025
    assert "differ by up to 0.0250: the difference is larger than that spread" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        paired.main([str(a)])  # one run and no --vs: nothing to compare
    assert "give two runs, A and B, or A's runs then --vs and B's runs" in capsys.readouterr().err
    b4 = _summary(tmp_path / "b4", {"c1": (0.6, 0.6), "c2": (0.8, 0.8)})
    with pytest.raises(SystemExit, match=r"different cases: only in A \['c3', 'c4'\], only in B \[\]"):
        paired.main([str(a), "--vs", str(b1), str(b4)])  # a repeat that scored fewer cases


def test_paired_comparison_refuses_runs_on_different_cases(tmp_path):
    paired = _runner("paired")
    a = _summary(tmp_path / "a", {"c1": (0.8, 0.6), "c2": (0.9, 0.9)})
    b = _summary(tmp_path / "b", {"c1": (0.6, 0.6), "c3": (0.8, 0.8)})
    with pytest.raises(SystemExit, match=r"different cases: only in A \['c2'\], only in B \['c3'\]"):
        paired.main([str(a), str(b)])


def test_paired_comparison_names_a_folder_without_scores(tmp_path):
    paired = _runner("paired")
    a = _summary(tmp_path / "a", {"c1": (0.8, 0.6)})
    (tmp_path / "b").mkdir()
    with pytest.raises(SystemExit, match="paired.py: .*b/summary.json"):
        paired.main([str(a), str(tmp_path / "b")])


def test_archived_scores_pair_like_their_folder_and_a_rescored_run_gets_its_own_file(tmp_path, capsys):
    import calendar
    import os

    archive, paired = _runner("archive"), _runner("paired")
    a = _summary(tmp_path / "run_a", {"c1": (0.8, 0.6), "c2": (0.9, 0.9), "c3": (0.5, 0.7), "c4": (0.6, 0.6)})
    b = _summary(tmp_path / "run_b", {"c1": (0.6, 0.6), "c2": (0.8, 0.8), "c3": (0.6, 0.6), "c4": (0.5, 0.5)})
    summary = json.loads((a / "summary.json").read_text())
    summary.update(reference="/machine/x/Dataset004_Hippocampus", predictions="/machine/x/predictions/run_a")
    (a / "summary.json").write_text(json.dumps(summary))
    scored = calendar.timegm((2026, 11, 24, 20, 12, 0))
    os.utime(a / "summary.json", (scored, scored))
    kept = archive.archive(a, tmp_path / "scores", about={"training_logs": ["training_log_2026_11_24_19_22.txt"]})
    assert kept == tmp_path / "scores" / "run_a__20261124-2012.json"
    stored = json.loads(kept.read_text())
    assert stored["reference"] == "Dataset004_Hippocampus"  # no machine paths
    assert stored["run"] == {"training_logs": ["training_log_2026_11_24_19_22.txt"]}
    assert paired.case_dice(kept) == paired.case_dice(a)
    paired.main([str(kept), str(b)])
    assert "run_a__20261124-2012.json 0.7000" in capsys.readouterr().out
    os.utime(a / "summary.json", (scored + 86400, scored + 86400))  # the same command, scored again a day later
    again = archive.archive(a, tmp_path / "scores")
    assert again.name == "run_a__20261125-2012.json" and kept.is_file()
    assert sorted(f.name for f in (tmp_path / "scores").iterdir()) == [kept.name, again.name]  # nothing partial
    twin = archive.archive(a, tmp_path / "scores", about={"fold": 1})  # the same name, the same minute
    assert twin.name == "run_a__20261125-2012-2.json" and "fold" not in json.loads(again.read_text()).get("run", {})
    with pytest.raises(SystemExit, match="no summary.json in .*unscored"):
        archive.main([str(b), str(tmp_path / "unscored"), "--to", str(tmp_path / "other")])
    assert not (tmp_path / "other").exists()  # refused before archiving anything


def test_a_digest_recorded_later_lets_the_command_take_an_old_run_at_its_spacing(tmp_path, capsys):
    """archive.py --weak: runs archived before run.py recorded the digest of their weak labels (and
    the 2 mm the left atrium was planned at) get both, and find_archived then takes them."""
    from nnunet_weak.benchmark.reuse import find_archived, labels_digest
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.sample import SAMPLE_DATASET

    archive = _runner("archive")
    old = tmp_path / "la-semi-4-labelled-only__nnUNetTrainerBenchmark__cpu-4k__20261124-2259.json"
    old.write_text(json.dumps({"run": {"command": "python benchmarks/run.py"}, "per_case": {"c1": {}, "c2": {}}}))
    digest = labels_digest(RawDataset(SAMPLE_DATASET))
    assert find_archived(tmp_path, digest, "nnUNetTrainerBenchmark", "cpu-4k", 1, ["c1", "c2"], [2.0, 2.0, 2.0]) is None
    with pytest.raises(SystemExit):
        archive.main([str(old), "--target-spacing", "2", "2", "2"])  # a spacing without --weak means nothing
    assert "--target-spacing goes with --weak" in capsys.readouterr().err
    archive.main([str(old), "--weak", str(SAMPLE_DATASET), "--target-spacing", "2", "2", "2"])
    run = json.loads(old.read_text())["run"]
    assert run == {"command": "python benchmarks/run.py", "weak_labels_sha256": digest,
                   "target_spacing": [2.0, 2.0, 2.0]}
    assert find_archived(tmp_path, digest, "nnUNetTrainerBenchmark", "cpu-4k", 1, ["c1", "c2"], [2.0, 2.0, 2.0]) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [old.name]  # rewritten in place, nothing partial


def test_settings_tag_names_checkpoint_paths_without_nesting_folders():
    tag = _runner().settings_tag
    assert tag({"nnUNet_weak_unlabelled_on_top": "1"}) == "__unlabelled_on_top-1"
    a = tag({"nnUNet_weak_primary_weights": "/w/cpu-2k/PointSeg/fold_0/checkpoint_final.pth"})
    b = tag({"nnUNet_weak_primary_weights": "/w/cpu-1k/PointSeg/fold_0/checkpoint_final.pth"})
    assert "/" not in a and a.startswith("__primary_weights-checkpoint_final-")
    assert a != b  # two stage-1 runs with the same file name stay two results folders


def test_an_interrupted_training_is_continued_not_restarted(tmp_path):
    resume = _runner().resume_arguments
    assert resume(tmp_path) == []  # nothing trained yet
    (tmp_path / "checkpoint_latest.pth").write_bytes(b"")
    assert resume(tmp_path) == ["--c"]
    (tmp_path / "checkpoint_final.pth").write_bytes(b"")
    assert resume(tmp_path) == []  # finished: run.py reuses it and trains nothing


def test_a_training_takes_the_cpu_defaults_unless_the_user_exported_nnunets_variables(tmp_path, monkeypatch):
    """What ``nnUNetv2_train`` is given: one thread and augmentation in process on the CPU, the
    user's own ``nnUNet_n_proc_DA`` where exported (one run overlapping augmentation with its steps),
    nnU-Net's own augmentation workers on a GPU."""
    from nnunet_weak import pipeline

    given = []
    monkeypatch.setattr(pipeline, "run", lambda cmd, env, log=None: given.append((cmd, env)) or 0.0)
    for name in pipeline.CPU_TRAINING_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    ws = pipeline.Workspace(tmp_path)

    pipeline.train(ws, 7, "nnUNetTrainerBenchmark", "nnUNetPlans_cpu", epochs=3, iterations_per_epoch=4)
    cmd, env = given[-1]
    assert cmd[:5] == ["nnUNetv2_train", "7", "3d_fullres", "0", "-tr"] and cmd[-2:] == ["-device", "cpu"]
    assert (env["nnUNet_n_proc_DA"], env["nnUNet_weak_threads"], env["OMP_NUM_THREADS"]) == ("0", "1", "1")
    assert (env["nnUNet_weak_epochs"], env["nnUNet_weak_iterations_per_epoch"]) == ("3", "4")

    monkeypatch.setenv("nnUNet_n_proc_DA", "1")
    pipeline.train(ws, 7, "nnUNetTrainerBenchmark", "nnUNetPlans_cpu", epochs=3, iterations_per_epoch=4)
    assert (given[-1][1]["nnUNet_n_proc_DA"], given[-1][1]["nnUNet_weak_threads"]) == ("1", "1")

    monkeypatch.delenv("nnUNet_n_proc_DA")
    pipeline.train(ws, 7, "nnUNetTrainerBenchmark", "nnUNetPlans", epochs=3, iterations_per_epoch=4, device="cuda")
    assert not {"nnUNet_n_proc_DA", "nnUNet_weak_threads", "OMP_NUM_THREADS"} & set(given[-1][1])

    pipeline.train(ws, 7, "nnUNetTrainerBenchmark", "nnUNetPlans_cpu", epochs=3, iterations_per_epoch=4,
                   env={"nnUNet_n_proc_DA": "2"})  # the caller's own settings win over both
    assert given[-1][1]["nnUNet_n_proc_DA"] == "2"


def test_error_sources_split_a_networks_errors_by_the_weak_label_under_them(tmp_path, sample_readonly):
    """Real sample cases as 3D2DCT sparse slices; a 'prediction' made from the dense label by
    moving known voxels, so every count is known by construction."""
    import numpy as np

    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.dataset.raw import write_label
    from nnunet_weak.derive import build_weak_dataset, preset_annotator

    quality = _runner("label_quality")
    cases = sample_readonly.cases()[:2]
    annotate, parameters = preset_annotator("3d2dct")
    build_weak_dataset(sample_readonly, tmp_path / "Dataset995_Slices", "sparse_slices", annotate, parameters, seed=0,
                       cases=cases)
    weak = RawDataset(tmp_path / "Dataset995_Slices")
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    expected = {c: {"false_positive": dict.fromkeys(quality.WEAK_LABEL_KINDS, 0),
                    "false_negative": dict.fromkeys(quality.WEAK_LABEL_KINDS, 0)} for c in (1, 2)}
    for case in cases:
        dense, geometry = sample_readonly.read_label(case)
        w, _ = weak.read_label(case)
        prediction = dense.copy()
        # background voxels called class 1: the first 30 left ignore and the first 20 labelled background
        for kind, where in (("ignore", w == weak.ignore_label), ("background", w == 0)):
            voxels = np.argwhere(where & (dense == 0))[: {"ignore": 30, "background": 20}[kind]]
            prediction[tuple(voxels.T)] = 1
            expected[1]["false_positive"][kind] += len(voxels)
        # labelled posterior voxels called anterior: a false negative of 2 and a false positive of 1,
        # both under "this class" of 2 and "other class" of 1
        voxels = np.argwhere((w == 2) & (dense == 2))[:10]
        prediction[tuple(voxels.T)] = 1
        expected[1]["false_positive"]["other class"] += len(voxels)
        expected[2]["false_negative"]["this class"] += len(voxels)
        write_label(prediction, geometry, predictions / f"{case}{weak.file_ending}")
    (predictions / "not_a_case.nii.gz").write_bytes(b"")  # ignored: no such case in the weak dataset

    sources = quality.error_sources(weak, sample_readonly, predictions)
    assert sources["cases"] == 2
    for c in (1, 2):
        for error in ("false_positive", "false_negative"):
            assert sources["classes"][c][error] == expected[c][error]
    assert sources["classes"][1]["false_positive"]["ignore"] == 60
    assert sources["classes"][2]["predicted"] == sources["classes"][2]["true"] - 20
    with pytest.raises(SystemExit, match="no prediction named like a case"):
        quality.error_sources(weak, sample_readonly, tmp_path)


def test_error_sources_refuse_a_prediction_of_another_shape(tmp_path, sample_readonly):
    import numpy as np

    from nnunet_weak.dataset.raw import write_label

    quality = _runner("label_quality")
    case = sample_readonly.cases()[0]
    dense, geometry = sample_readonly.read_label(case)
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    write_label(np.zeros(tuple(n + 1 for n in dense.shape), np.uint8), geometry,
                predictions / f"{case}{sample_readonly.file_ending}")
    with pytest.raises(SystemExit, match=f"prediction of {case} has shape"):
        quality.error_sources(sample_readonly, sample_readonly, predictions)


def test_wrong_label_distances_match_a_brute_force_search_on_anisotropic_voxels(tmp_path, sample_readonly):
    """Two real sample cases re-written at an anisotropic spacing; wrong labels placed by hand and
    binned by brute-force distances to every true voxel; the second case's dense label loses class 2,
    so its wrong class-2 labels have no true voxel and land in the last bin."""
    import numpy as np

    from nnunet_weak.dataset import RawDataset, read_image
    from nnunet_weak.dataset.raw import Geometry, write_label

    quality = _runner("label_quality")
    rng = np.random.default_rng(0)
    roots = {name: tmp_path / name for name in ("Dataset996_Dense", "Dataset997_Weak")}
    for name, root in roots.items():
        (root / "imagesTr").mkdir(parents=True)
        (root / "labelsTr").mkdir()
        meta = dict(sample_readonly.dataset_json)
        if name.endswith("Weak"):
            meta["labels"] = {**sample_readonly.dataset_json["labels"], "ignore": 3}
        (root / "dataset.json").write_text(json.dumps(meta))
    expected = {1: [0, 0, 0, 0], 2: [0, 0, 0, 0]}
    for n, case in enumerate(sample_readonly.cases()[:2]):
        dense, geometry = sample_readonly.read_label(case)
        image, _ = read_image(sample_readonly.image_files(case)[0])
        geometry = Geometry((0.8, 1.0, 2.5), geometry.origin, geometry.direction, geometry.shape)
        if n == 1:
            dense[dense == 2] = 0
        weak = np.full_like(dense, 3)
        for c in (1, 2):
            truth = np.argwhere(dense == c) * np.array([2.5, 1.0, 0.8])
            outside = np.argwhere(dense != c)
            # half of the picks next to the class, so that every bin gets some
            near = outside[np.abs(outside - np.argwhere(dense == 1).mean(0)).max(1) < 12]
            picks = np.unique(np.concatenate([near[rng.choice(len(near), 40, replace=False)],
                                              outside[rng.choice(len(outside), 40, replace=False)]]), axis=0)
            picks = picks[weak[tuple(picks.T)] == 3]  # not already a wrong label of the other class
            weak[tuple(picks.T)] = c
            for voxel in picks:
                d = np.sqrt(((truth - voxel * np.array([2.5, 1.0, 0.8])) ** 2).sum(1)).min() if len(truth) else np.inf
                expected[c][sum(d > edge for edge in quality.DISTANCE_BINS_MM)] += 1
            right = np.argwhere((dense == c) & (weak == 3))[:5]  # right labels are not counted
            weak[tuple(right.T)] = c
        for root, array in ((roots["Dataset996_Dense"], dense), (roots["Dataset997_Weak"], weak)):
            write_label(array, geometry, root / "labelsTr" / f"{case}.nii.gz")
            write_label(image, geometry, root / "imagesTr" / f"{case}_0000.nii.gz")

    counts = quality.wrong_label_distances(RawDataset(roots["Dataset997_Weak"]), RawDataset(roots["Dataset996_Dense"]))
    assert counts == expected
    assert all(k > 0 for k in expected[1]) and expected[2][-1] >= 40  # every bin used; no true class 2 in case 2


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED / "left_atrium").is_dir(), reason="../shared/data/left_atrium not present")
def test_left_atrium_protocol_labels_the_first_cases_of_train_list_outside_the_test_split(tmp_path):
    from nnunet_weak.dataset.sidecar import read_sidecar
    from nnunet_weak.pipeline import Workspace

    run = _runner()
    ws = Workspace(tmp_path)
    ws.raw.mkdir(parents=True)
    dense = run.ensure_dense(ws, "left_atrium", SHARED / "left_atrium")
    test = run.test_split(dense.cases())
    weak = run.ensure_weak(ws, "la-semi-4", dense, test)
    order = [line.strip() for line in (SHARED / "left_atrium" / "train.list").read_text().split() if line.strip()]
    expected = [c for c in (f"la_{o}" if not o.startswith("la_") else o for o in order) if c not in test][:4]
    cases = read_sidecar(weak.folder)["cases"]
    assert len(test) == 16 and not set(test) & set(cases) and len(cases) == 64
    assert sorted(c for c, r in cases.items() if r["labelled"]) == sorted(expected)
    only = run.ensure_weak(ws, "la-semi-4-labelled-only", dense, test)
    assert sorted(read_sidecar(only.folder)["cases"]) == sorted(expected)
    # nnunet-weak benchmark's `first = true` derives the same labels voxel for voxel, so that it takes
    # run.py's archived la-semi-4 runs (matched by this digest) instead of training them again
    from nnunet_weak.benchmark.protocol import Arm
    from nnunet_weak.benchmark.reuse import labels_digest
    from nnunet_weak.benchmark.runner import _weak_datasets

    arm = Arm("semi", "first 4 labelled", {"labelled": 4, "first": True}, ())
    command = Workspace(tmp_path / "command")
    command.root.mkdir()
    weak_c, only_c, _ = _weak_datasets(command, {}, dense, arm, [c for c in dense.cases() if c not in test])
    assert labels_digest(weak_c) == labels_digest(weak) and labels_digest(only_c) == labels_digest(only)


def test_plans_for_another_target_spacing_leave_the_stock_plans_alone(tmp_path, sample):
    """What the left atrium's CPU schedule does: nnU-Net plans and preprocesses at 2 mm under its
    own plans name, and the CPU plans are shrunk from those."""
    import shutil

    import numpy as np

    from nnunet_weak.pipeline import Workspace, plan_at_spacing, shrink_plans

    ws = Workspace(tmp_path / "ws")
    ws.raw.mkdir(parents=True)
    shutil.copytree(sample.folder, ws.raw / "Dataset990_HippocampusSample")
    name = plan_at_spacing(ws, 990, (2.0, 2.0, 2.0), processes=1, log=tmp_path / "plan.log")
    assert name == "nnUNetPlans_2x2x2mm"
    folder = ws.dataset_folder(990)
    assert not (folder / "nnUNetPlans.json").exists()
    config = json.loads((folder / f"{name}.json").read_text())["configurations"]["3d_fullres"]
    assert config["spacing"] == [2.0, 2.0, 2.0]
    cpu = json.loads((folder / f"{shrink_plans(ws, 990, source=name)}.json").read_text())["configurations"]
    assert cpu["3d_fullres"]["spacing"] == [2.0, 2.0, 2.0] and cpu["3d_fullres"]["batch_size"] == 2
    case = sample.cases()[0]
    stored = folder / config["data_identifier"]
    voxels = np.prod(sample.read_label(case)[0].shape)
    preprocessed = np.prod(_preprocessed_shape(stored / f"{case}.b2nd"))
    # 1 mm -> 2 mm: an eighth of the voxels (nnU-Net rounds each axis and may crop zero borders)
    assert voxels / 12 < preprocessed < voxels / 6


def _preprocessed_shape(path: Path) -> tuple[int, ...]:
    import blosc2

    return tuple(blosc2.open(urlpath=str(path), mode="r").shape[1:])


def test_band_fill_gives_each_band_voxel_to_the_nearer_labels():
    """A constant image makes the geodesic distance Euclidean: along the x line through the click,
    class labels end at x 12, the box's faces (background: the outside clicks bound the object) lie
    at x 20 and 4 voxels to each side, so x 15 (3 voxels from the class, 4 from a face) joins the
    class and x 17 (5 vs 3) becomes background; nothing stays ``ignore``."""
    import numpy as np

    from nnunet_weak.annotations.points import Click

    fill = _runner("band_fill")
    ignore = 2
    labels = np.full((9, 9, 21), ignore, np.int16)
    labels[2:7, 2:7, 8:13] = 1
    clicks = [Click((4, 4, 10), 1, 1, 0, "inside")] + [
        Click(index, 0, 1, 0, "outside") for index in
        [(0, 4, 10), (8, 4, 10), (4, 0, 10), (4, 8, 10), (4, 4, 0), (4, 4, 20)]
    ]
    filled = fill.fill_band(np.ones(labels.shape, np.float32), labels, clicks, ignore, (1.0, 1.0, 1.0))
    assert ignore not in filled
    assert (filled[labels == 1] == 1).all()
    assert filled[4, 4, 15] == 1 and filled[4, 4, 17] == 0
    assert filled[4, 4, 5] == 1 and filled[4, 4, 3] == 0
    assert filled[0, 0, 0] == 0


def test_a_run_row_joins_the_table_of_every_run_not_a_later_table(tmp_path):
    """RESULTS.md ends with a table of other columns (the curve's runs): run.py's row goes under the
    last row of its own table, the file's other lines kept in order."""
    from benchmarks.run import append_row

    row = "| 2026-12-02 | p | T | cpu-2k (2000 it) | v | 0.8 | 1 | 0.9 | 16 | 1.7 | 2211 | 60.3 |"
    old = row.replace("0.8 |", "0.7 |")
    results = tmp_path / "RESULTS.md"
    text = ["# Results", "", "| date | protocol | ... |", old, "", "## Curve", "", "| scored | run | Dice |",
            "| 2026-12-02 14:10 | `x` | 0.85 |", ""]
    results.write_text("\n".join(text))
    append_row(results, row)
    assert results.read_text().splitlines() == [*text[:4], row, *text[4:-1]]
    empty = tmp_path / "NEW.md"
    append_row(empty, row)
    assert empty.read_text() == row + "\n"
