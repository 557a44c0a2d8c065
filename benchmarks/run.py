"""Benchmark runner: dataset x weak annotation x trainer x schedule -> one row of RESULTS.md.

    python benchmarks/run.py --protocol hippo-slices-3d2dct --trainer nnUNetTrainerBenchmark --schedule cpu-1k

For a protocol it converts the dense source (../shared/data by default), holds out a fixed test
split, derives the weak dataset with the ``nnunet-weak`` command, plans and preprocesses, trains
with the stock ``nnUNetv2_train -tr TRAINER``, predicts the test split with ``nnUNetv2_predict``,
scores it against the DENSE labels with ``nnunet-weak evaluate``, keeps the per-case scores in
benchmarks/scores/ (committed, see archive.py) and appends a row (Dice, HD95,
surface Dice, annotation cost, seconds per iteration, peak memory) to benchmarks/RESULTS.md.
Work files go to --work (default benchmarks/work, not committed); finished steps are reused.

``--env NAME=VALUE`` passes a trainer setting (e.g. ``nnUNet_weak_unlabelled_on_top=1``); the run
then gets its own results folder and the setting is named in the row. PA-Seg stage 2
(``--trainer nnUNetTrainerPointSegSCM``) starts from the stage-1 runs of nnUNetTrainerPointSeg and
nnUNetTrainerPointSegResEnc on the same protocol and schedule, which must have run first; its row
counts the stage-1 iterations too. ``--env nnUNet_weak_primary_weights=PATH
nnUNet_weak_secondary_weights=PATH`` starts it from other stage-1 checkpoints instead (e.g. a longer
stage 1); the row then names them and counts only stage 2. ``--env nnUNet_weak_initial_weights=PATH`` starts any
other trainer of ours from a complete checkpoint (a warm start, e.g. DTML after the labelled-only
run); the row counts only the iterations after it.

A finished training (``checkpoint_final.pth`` present) is not run again; an interrupted one
(``checkpoint_latest.pth``, written every 250 iterations) is continued with nnU-Net's ``--c``. ``--checkpoint
checkpoint_final_ensemble.pth`` predicts with the dual-task trainers' ensemble of both outputs
(written by the trainer; for runs trained before it existed, written here from their checkpoint).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from nnunet_weak.benchmark.reuse import labels_digest
from nnunet_weak.benchmark.runs import (
    SCHEDULES,
    resume_arguments,
    settings_tag,
    test_split,
    training_log_seconds_per_iteration,
)
from nnunet_weak.dataset import RawDataset
from nnunet_weak.dataset.convert import convert_public_dataset
from nnunet_weak.dataset.sidecar import read_sidecar
from nnunet_weak.pipeline import (
    CPU_PLANS,
    Workspace,
    executable,
    plan_at_spacing,
    plans_name_for,
    predict,
    shrink_plans,
    train,
    write_single_split,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from benchmarks.archive import ARCHIVE, archive  # noqa: E402
from benchmarks.runner_steps import predict_from_checkpoint  # noqa: E402

DATASETS = {
    # name: (dense id, folder name, `nnunet-weak convert` kind, default source, target spacing of the CPU schedules)
    "hippocampus": (4, "Dataset004_Hippocampus", "hippocampus", ROOT.parent / "shared/data/hippocampus", None),
    # at 0.625 mm nnU-Net plans a 96x128x192 patch, 27x the voxels of its 28x48x64 patch at 2 mm (the
    # size of hippocampus's), too much for one CPU thread. Predictions are scored at 0.625 mm.
    "left_atrium": (5, "Dataset005_LeftAtrium", "left-atrium", ROOT.parent / "shared/data/left_atrium",
                    (2.0, 2.0, 2.0)),
}

# protocol: dataset, weak dataset id/name, nnunet-weak arguments ("labelled-only-of" derives from another)
PROTOCOLS = {
    "hippo-full": ("hippocampus", 110, "HippoFull", ["semi", "--fraction", "1.0"]),
    "hippo-slices-3d2dct": ("hippocampus", 111, "HippoSlices3d2dct", ["slices", "--preset", "3d2dct"]),
    "hippo-slices-1+1": ("hippocampus", 117, "HippoSlices1p1",
                         ["slices", "--orientations", "axial", "coronal", "--count", "1"]),
    "hippo-semi-10pct": ("hippocampus", 112, "HippoSemi10", ["semi", "--fraction", "0.1"]),
    "hippo-semi-10pct-labelled-only": ("hippocampus", 113, "HippoSemi10LabelledOnly", ["labelled-only-of", "112"]),
    "hippo-semi-4": ("hippocampus", 114, "HippoSemi4", ["semi", "--labelled", "4"]),
    "hippo-semi-4-labelled-only": ("hippocampus", 115, "HippoSemi4LabelledOnly", ["labelled-only-of", "114"]),
    "hippo-semi-2": ("hippocampus", 120, "HippoSemi2", ["semi", "--labelled", "2"]),
    "hippo-semi-2-labelled-only": ("hippocampus", 121, "HippoSemi2LabelledOnly", ["labelled-only-of", "120"]),
    # self-training: the semi-supervised dataset named, its ignore voxels filled by a --teacher checkpoint
    "hippo-semi-2-pseudo": ("hippocampus", 127, "HippoSemi2Pseudo", ["pseudo-of", "120"]),
    "hippo-points": ("hippocampus", 116, "HippoPoints", ["points"]),
    "hippo-points-expanded": ("hippocampus", 118, "HippoPointsExpanded", ["expand-of", "116"]),
    "hippo-points-expanded-outside": ("hippocampus", 119, "HippoPointsExpandedOutside",
                                      ["expand-of", "116", "--outside-seeds"]),
    "hippo-points-expanded-bg": ("hippocampus", 122, "HippoPointsExpandedBg",
                                 ["expand-of", "116", "--background-threshold", "0.4"]),
    "hippo-points-expanded-bg-tight": ("hippocampus", 123, "HippoPointsExpandedBgTight",
                                       ["expand-of", "116", "--threshold", "0.15", "--background-threshold", "0.4"]),
    "hippo-points-expanded-bg-narrow": ("hippocampus", 124, "HippoPointsExpandedBgNarrow",
                                        ["expand-of", "116", "--threshold", "0.1", "--background-threshold", "0.3"]),
    "hippo-points-expanded-bg03-tight": ("hippocampus", 126, "HippoPointsExpandedBg03Tight",
                                         ["expand-of", "116", "--threshold", "0.15", "--background-threshold", "0.3"]),
    # self-training on clicks: the tight expansion's ignore band filled by a --teacher checkpoint
    "hippo-points-expanded-bg-tight-pseudo": ("hippocampus", 128, "HippoPointsBgTightPseudo", ["pseudo-of", "123"]),
    "hippo-points-expanded-bg-tight-outside": ("hippocampus", 125, "HippoPointsExpandedBgTightOutside",
                                               ["expand-of", "116", "--threshold", "0.15", "--background-threshold",
                                                "0.4", "--outside-seeds"]),
    # scribbles (ScribbleBench's protocol): every slice along axis 0, and a fifth of them
    "hippo-scribbles": ("hippocampus", 140, "HippoScribbles", ["scribbles"]),
    "hippo-scribbles-fifth": ("hippocampus", 141, "HippoScribblesFifth", ["scribbles", "--slice-share", "0.2"]),
    # left atrium: the first N cases of train.list (after the held-out fifth) labelled, the rest unlabelled
    "la-semi-4": ("left_atrium", 130, "LASemi4", ["semi", "--first", "4"]),
    "la-semi-4-labelled-only": ("left_atrium", 131, "LASemi4LabelledOnly", ["labelled-only-of", "130"]),
    "la-semi-4-pseudo": ("left_atrium", 139, "LASemi4Pseudo", ["pseudo-of", "130"]),
    "la-semi-8": ("left_atrium", 132, "LASemi8", ["semi", "--first", "8"]),
    "la-semi-8-labelled-only": ("left_atrium", 133, "LASemi8LabelledOnly", ["labelled-only-of", "132"]),
    "la-full": ("left_atrium", 134, "LAFull", ["semi", "--fraction", "1.0"]),
    "la-points": ("left_atrium", 135, "LAPoints", ["points"]),
    "la-points-expanded": ("left_atrium", 136, "LAPointsExpanded", ["expand-of", "135"]),
    "la-points-expanded-bg-tight": ("left_atrium", 137, "LAPointsExpandedBgTight",
                                    ["expand-of", "135", "--threshold", "0.15", "--background-threshold", "0.4"]),
    "la-points-expanded-bg-tight-outside": ("left_atrium", 138, "LAPointsExpandedBgTightOutside",
                                            ["expand-of", "135", "--threshold", "0.15", "--background-threshold",
                                             "0.4", "--outside-seeds"]),
    "la-scribbles": ("left_atrium", 142, "LAScribbles", ["scribbles"]),
    "la-scribbles-fifth": ("left_atrium", 143, "LAScribblesFifth", ["scribbles", "--slice-share", "0.2"]),
}

def ensure_dense(ws: Workspace, dataset: str, source: Path) -> RawDataset:
    _, name, kind, _, _ = DATASETS[dataset]
    folder = ws.raw / name
    if not folder.is_dir():
        convert_public_dataset(kind, source, folder)
    return RawDataset(folder)


def ensure_weak(ws: Workspace, protocol: str, dense: RawDataset, test: list[str]) -> RawDataset:
    _, weak_id, weak_name, args = PROTOCOLS[protocol]
    folder = ws.raw / f"Dataset{weak_id:03d}_{weak_name}"
    if folder.is_dir():
        return RawDataset(folder)
    exclude = ws.root / f"test_cases_{dense.name}.txt"
    exclude.write_text("\n".join(test) + "\n")
    if args[0] == "expand-of":
        other = next(p for p, v in PROTOCOLS.items() if v[1] == int(args[1]))
        clicks = ensure_weak(ws, other, dense, test)
        subprocess.run([executable("nnunet-weak"), "expand-points", "-i", str(clicks.folder), "-o", str(folder),
                        "-np", "2", *args[2:]], check=True, env=ws.env())
        return RawDataset(folder)
    if args[0] == "labelled-only-of":
        other = next(p for p, v in PROTOCOLS.items() if v[1] == int(args[1]))
        labelled = read_sidecar(ensure_weak(ws, other, dense, test).folder)["parameters"]["labelled_cases"]
        unlabelled = ws.root / f"unlabelled_of_{args[1]}.txt"
        unlabelled.write_text("\n".join(c for c in dense.cases() if c not in labelled and c not in test) + "\n")
        args = ["semi", "--fraction", "1.0", "--exclude-cases", str(exclude), str(unlabelled)]
    else:
        args = [*args, "--exclude-cases", str(exclude)]
    subprocess.run([executable("nnunet-weak"), args[0], "-i", str(dense.folder), "-o", str(folder), *args[1:]],
                   check=True, env=ws.env())
    return RawDataset(folder)


def ensure_pseudo(ws: Workspace, data_ws: Workspace, protocol: str, dense: RawDataset, test: list[str],
                  teacher: Path, device: str) -> RawDataset:
    """A pseudo-label protocol's dataset: the weak dataset it names (made in ``data_ws``), its ``ignore``
    voxels filled with the confident predictions of the ``teacher`` checkpoint (``nnunet-weak
    pseudo-label``). ``ws`` is the teacher's own workspace: one dataset id, one teacher."""
    _, weak_id, weak_name, args = PROTOCOLS[protocol]
    folder = ws.raw / f"Dataset{weak_id:03d}_{weak_name}"
    if folder.is_dir():
        return RawDataset(folder)
    base = ensure_weak(data_ws, next(p for p, v in PROTOCOLS.items() if v[1] == int(args[1])), dense, test)
    images, predictions = ws.root / "teacher_images", ws.root / "teacher_predictions"
    images.mkdir(parents=True, exist_ok=True)
    for case, record in read_sidecar(base.folder)["cases"].items():
        if record["annotated_voxels"] < record["total_voxels"]:
            for f in base.image_files(case):
                if not (images / f.name).exists():
                    (images / f.name).symlink_to(f.resolve())
    predict_from_checkpoint(teacher, images, predictions, device=device, log=ws.root / "logs" / "predict_teacher.log")
    subprocess.run([executable("nnunet-weak"), "pseudo-label", "-i", str(base.folder), "-p", str(predictions),
                    "-o", str(folder), "-np", "2"], check=True, env=ws.env())
    return RawDataset(folder)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", required=True, choices=sorted(PROTOCOLS))
    parser.add_argument("--trainer", default="nnUNetTrainerBenchmark")
    parser.add_argument("--schedule", default="cpu-1k", choices=sorted(SCHEDULES))
    parser.add_argument("--work", type=Path, default=HERE / "work")
    parser.add_argument("--source", type=Path, help="dense source folder (default ../shared/data/<dataset>)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-row", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--archive", type=Path, default=ARCHIVE,
                        help="where the run's per-case scores are kept (benchmarks/archive.py)")
    parser.add_argument("--env", nargs="*", default=[], metavar="NAME=VALUE", help="trainer settings")
    parser.add_argument("--checkpoint", default="checkpoint_final.pth", help="checkpoint nnUNetv2_predict uses (-chk)")
    parser.add_argument("--teacher", type=Path, help="checkpoint whose confident predictions fill the ignore voxels "
                        "(the *-pseudo protocols, and only those)")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.env):
        parser.error(f"--env takes NAME=VALUE items, got {args.env}")
    settings = dict(item.split("=", 1) for item in args.env)
    pseudo = PROTOCOLS[args.protocol][3][0] == "pseudo-of"
    if pseudo != (args.teacher is not None):
        parser.error("--teacher CHECKPOINT goes with the *-pseudo protocols, and only with them")

    dataset, weak_id, _, _ = PROTOCOLS[args.protocol]
    epochs, iterations, plans, device, tta = SCHEDULES[args.schedule]
    ws = data_ws = Workspace(args.work.resolve())
    ws.raw.mkdir(parents=True, exist_ok=True)
    dense = ensure_dense(ws, dataset, args.source or DATASETS[dataset][3])
    test = test_split(dense.cases())
    tag = settings_tag(settings)
    if pseudo:
        teacher = str(args.teacher.resolve())
        tag = settings_tag({**settings, "teacher": teacher})
        ws = Workspace(data_ws.root / "pseudo" / settings_tag({"teacher": teacher}).removeprefix("__"))
        weak = ensure_pseudo(ws, data_ws, args.protocol, dense, test, Path(teacher), device)
    else:
        weak = ensure_weak(ws, args.protocol, dense, test)
    sidecar = read_sidecar(weak.folder)
    logs = ws.root / "logs"
    run_name = f"{args.protocol}__{args.trainer}__{args.schedule}{tag}"

    spacing = DATASETS[dataset][4] if plans == CPU_PLANS else None
    source_plans = plans_name_for(spacing)
    if not (ws.preprocessed / weak.name / f"{source_plans}.json").is_file():
        plan_at_spacing(ws, weak_id, spacing, log=logs / f"plan_{weak.name}.log")
    if plans == CPU_PLANS:
        shrink_plans(ws, weak_id, source=source_plans)
    labelled = [c for c, r in sidecar["cases"].items() if r["labelled"]]
    write_single_split(ws, weak_id, sorted(sidecar["cases"]), labelled[:4])

    start = time.time()
    run_ws = Workspace(ws.root, f"nnUNet_results_{args.schedule}{tag}")
    results = run_ws.results / weak.name / f"{args.trainer}__{plans}__3d_fullres" / "fold_0"
    total_iterations = epochs * iterations
    if args.trainer == "nnUNetTrainerPointSegSCM" and not any(k.endswith("_weights") for k in settings):
        total_iterations *= 2  # the trainer starts from both stage-1 runs beside its results folder (or says so)
    if (results / "checkpoint_final.pth").is_file():
        print(f"reusing the finished training in {results}")
        peak, train_minutes = float("nan"), float("nan")
    else:
        resume = resume_arguments(results)
        peak = train(run_ws, weak_id, args.trainer, plans, epochs, iterations, device=device,
                     log=logs / f"train_{run_name}.log", env={"nnUNet_weak_save_every": "5", **settings},
                     extra_args=resume)
        train_minutes = float("nan") if resume else (time.time() - start) / 60  # only a whole run's time is reported
    seconds_per_iteration = training_log_seconds_per_iteration(results, iterations)
    if args.checkpoint != "checkpoint_final.pth":
        run_name += f"__{args.checkpoint.removesuffix('.pth')}"
        if args.checkpoint.endswith("_ensemble.pth") and not (results / args.checkpoint).is_file():
            import nnunet_weak.trainers
            from nnunet_weak.trainers.dual_task import write_ensemble_checkpoint

            write_ensemble_checkpoint(results / args.checkpoint.replace("_ensemble.pth", ".pth"),
                                      getattr(nnunet_weak.trainers, args.trainer))

    images = data_ws.root / f"test_images_{dense.name}"
    if not images.is_dir():
        images.mkdir()
        for case in test:
            for f in dense.image_files(case):
                (images / f.name).symlink_to(f.resolve())
    predictions = ws.root / "predictions" / run_name
    predict(run_ws, weak_id, images, predictions, args.trainer, plans, device=device, tta=tta,
            log=logs / f"predict_{run_name}.log", checkpoint=args.checkpoint)
    scores = ws.root / "scores" / run_name
    subprocess.run([executable("nnunet-weak"), "evaluate", "-pred", str(predictions), "-ref", str(dense.folder),
                    "-o", str(scores), "--allow-missing"], check=True, stdout=subprocess.DEVNULL)
    summary = json.loads((scores / "summary.json").read_text())
    about = {"command": " ".join(["python benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)]),
             "training_logs": [f.name for f in sorted(results.glob("training_log_*.txt"))],
             # what `nnunet-weak benchmark --reuse-scores` matches a run by, and what its row reports
             "weak_labels_sha256": labels_digest(weak), "seconds_per_iteration": seconds_per_iteration,
             "peak_mib": None if peak != peak else peak, "target_spacing": None if spacing is None else list(spacing)}
    print(f"per-case scores kept in {archive(scores, args.archive, about)}")
    row = format_row(args, sidecar, summary, total_iterations, seconds_per_iteration, peak, train_minutes)
    print(row)
    if not args.no_row:
        append_row(args.results, row)


def append_row(results: Path, row: str) -> None:
    """Add ``row`` after the last run row of RESULTS.md's table of every run (the last line shaped
    like it: a date first, as many cells), not under a later table; at the end when there is none."""
    lines = results.read_text().splitlines() if results.is_file() else []
    cells = row.count("|")
    rows = [i for i, line in enumerate(lines) if line.startswith("| 20") and line.count("|") == cells]
    at = rows[-1] + 1 if rows else len(lines)
    results.write_text("\n".join([*lines[:at], row, *lines[at:]]) + "\n")


def format_row(args, sidecar: dict, summary: dict, total_iterations: int, seconds_per_iteration: float,
               peak_mib: float, train_minutes: float) -> str:
    t = sidecar["totals"]
    per_class = " / ".join(f"{s['dice']:.3f}" for s in summary["per_class"].values())
    m = summary["mean"]
    trainer = args.trainer + "".join(f" {item}" for item in args.env)
    given = any(item.split("=")[0].endswith("_weights") for item in args.env)
    if args.trainer == "nnUNetTrainerPointSegSCM":
        trainer += " (after the stage-1 checkpoints given, not counted)" if given else " (after stage 1)"
    elif given:
        trainer += " (after the checkpoint given, not counted)"
    if args.checkpoint != "checkpoint_final.pth":
        trainer += f" -chk {args.checkpoint}"
    if args.teacher is not None:
        trainer += f" --teacher {args.teacher}"
    return (f"| {time.strftime('%Y-%m-%d')} | {args.protocol} | {trainer} "
            f"| {args.schedule} ({total_iterations} it) "
            f"| {100 * t['annotated_fraction']:.1f} % vox, {t['labelled_cases']}/{t['cases']} cases labelled "
            f"| {m['dice']:.4f} ({per_class}) | {m['hd95']:.2f} | {m['surface_dice']:.4f} | {summary['cases']} "
            f"| {seconds_per_iteration:.2f} | {peak_mib:.0f} | {train_minutes:.1f} |")


if __name__ == "__main__":
    main()
