"""Drive one benchmark: protocol arms -> weak datasets of the training cases -> the stock
``nnUNetv2_*`` commands for every trainer and repeat -> scores against the dense truth of the
held-out cases -> one result row per run.

Everything lives in one work folder (nnU-Net's three folders, logs, predictions, scores, the
report); every step whose output is there is reused, so a killed benchmark continues where it
stopped (an interrupted training with nnU-Net's ``--c``).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnunet_weak.benchmark.cost import Rate, annotator_seconds
from nnunet_weak.benchmark.protocol import STOCK, Arm
from nnunet_weak.benchmark.reuse import archive_run, find_archived, labels_digest
from nnunet_weak.benchmark.runs import (
    SCHEDULES,
    resume_arguments,
    settings_tag,
    test_split,
    training_log_seconds_per_iteration,
)
from nnunet_weak.dataset import RawDataset
from nnunet_weak.dataset.sidecar import read_sidecar
from nnunet_weak.derive import (
    build_weak_dataset,
    expanded_points_annotator,
    first_cases,
    pick_labelled,
    points_annotator,
    scribbles_annotator,
    semi_supervised_annotator,
    slices_annotator,
)
from nnunet_weak.errors import WeakDatasetError
from nnunet_weak.evaluation.evaluate import evaluate_folders, strict_to_nan, write_summary
from nnunet_weak.pipeline import (
    CPU_PLANS,
    Workspace,
    plan_at_spacing,
    plans_name_for,
    predict,
    preprocessed_cases,
    shrink_plans,
    train,
    write_single_split,
)

FIRST_ID = 501  # weak datasets get ids from here on, in the order arms are first seen (ids.json)
SEED = 0
LABELLED_ONLY = "labelled only"
# what names a run in a result row (the rest are its scores and costs; a "missing" row has only these)
RUN_KEYS = ("kind", "budget", "arm", "data", "trainer", "repeat", "schedule", "iterations", "target_spacing", "dataset")
BENCHMARK_FILE = "benchmark.json"
# on a CPU, nnU-Net's final validation spawns 8 export and 8 scoring processes (nnUNet_def_n_proc),
# each importing torch: about a minute on two busy cores for one small case; one process each
CPU_TRAINING_ENV = {"nnUNet_def_n_proc": "1"}


@dataclass(frozen=True)
class Trained:
    """One training: a trainer on one weak dataset of an arm (``data``: "weak", or "labelled only"
    for the stock baseline of a semi-supervised arm)."""

    arm: Arm
    data: str
    dataset: RawDataset
    dataset_id: int
    trainer: str

    @property
    def settings(self) -> dict[str, str]:
        """The arm's trainer settings, for our trainers on its weak dataset (stock takes none)."""
        return self.arm.settings if self.data == "weak" and self.trainer != STOCK else {}

    def run_settings(self, repeat: int) -> dict[str, str]:
        """Its settings and the repeat: what names the run's folders and archived file."""
        return {**self.settings, **({"nnUNet_weak_repeat": str(repeat)} if repeat > 1 else {})}


def say(text: str) -> None:
    print(f"benchmark: {text}", flush=True)


def run_benchmark(dense_folder: Path, work: Path, arms: Sequence[Arm], schedule: str, repeats: int,
                  cost_model: dict[str, Rate], test_cases: Sequence[str] | None = None, jobs: int = 1,
                  reuse: Path | None = None, archive: Path | None = None,
                  target_spacing: Sequence[float] | None = None, train: bool = True,
                  fold: int | None = None) -> list[dict]:
    """Run every arm's trainers ``repeats`` times (an arm's own ``repeats`` where it has one) at
    ``schedule``; returns one row per run (scores, annotator cost, seconds per iteration), in the
    protocol's order. ``test_cases`` (default every fifth case) are held out: no weak dataset holds
    them. Every weak dataset is derived first, and planned where a run of it trains (not where every
    run is taken from ``reuse`` or scored already); then ``jobs`` runs (training, prediction,
    scoring) at a time, arm by arm, our trainers' runs before stock's (they take 1.2-2.8 times as
    long per iteration: started first, the short ones fill in beside them). ``reuse``: an archive of
    earlier runs' scores (:mod:`nnunet_weak.benchmark.reuse`) taken instead of training again;
    ``archive``: where every run scored here is kept in that form (may be ``reuse``).
    ``target_spacing`` (mm, nnU-Net's axis order): plan at this spacing instead of nnU-Net's own
    (``-overwrite_target_spacing``), e.g. a CPU schedule on large images; scored at the images' own
    spacing all the same. Runs are taken from ``reuse`` only when planned at the same spacing.
    ``train=False``: nothing is planned, trained or predicted; a run neither scored here nor taken
    from ``reuse`` comes back as a row marked ``"missing"`` (what it is, no scores). ``fold``: the
    cross-validation fold these test cases are (:mod:`nnunet_weak.benchmark.folds`), named in the
    archive's file names (``__fold-k``)."""
    dense = RawDataset(dense_folder)
    dense.require_dense("nnunet-weak benchmark (-d)")
    cases = dense.cases()
    test = sorted(test_cases) if test_cases else test_split(cases)
    unknown = sorted(set(test) - set(cases))
    if unknown:
        raise WeakDatasetError(f"--test-cases names cases not in {dense.name}: {unknown[:5]}")
    training = [c for c in cases if c not in set(test)]
    if not test or not training:
        raise WeakDatasetError(f"{dense.name}: {len(cases)} cases leave no {'test' if not test else 'training'} "
                               "cases; give --test-cases")
    ws = Workspace(Path(work).resolve())
    spacing = None if target_spacing is None else [float(s) for s in target_spacing]
    claim(ws, dense, {"test_cases": test}, spacing)
    objects = _slice_objects(ws, dense, training)
    ids = _dataset_ids(ws)
    images = _test_images(ws, dense, test)
    epochs, iterations, plans, device, tta = SCHEDULES[schedule]
    plans = training_plans(schedule, spacing)
    planned = []
    for arm in arms:
        weak, baseline, bought = _weak_datasets(ws, ids, dense, arm, training)
        sidecar = read_sidecar(bought.folder)
        cost = annotator_seconds(sidecar, objects, cost_model)
        prepared = [Trained(arm, "weak", weak, ids[weak.name], t) for t in arm.trainers]
        if baseline is not None:
            prepared.insert(0, Trained(arm, LABELLED_ONLY, baseline, ids[baseline.name], STOCK))
        digests = {t.dataset.name: labels_digest(t.dataset) if reuse or archive else None for t in prepared}
        runs = [(trained, repeat, sidecar, cost, digests[trained.dataset.name],
                 None if reuse is None else find_archived(reuse, digests[trained.dataset.name], trained.trainer,
                                                          schedule, repeat, test, spacing,
                                                          _archive_settings(trained, fold)))
                for trained in prepared for repeat in range(1, (arm.repeats or repeats) + 1)]
        # planned only where a run of the dataset trains: not taken from the archive, not scored here already
        for dataset_id, dataset in {t.dataset_id: t.dataset for t, repeat, *_, archived in runs
                                    if train and archived is None and not _scored(ws, t, schedule, repeat)}.items():
            _prepare(ws, dataset_id, dataset, plans, spacing)
        planned += runs

    start = start_order([item[0] for item in planned])
    position = {id(planned[index]): number for number, index in enumerate(start, 1)}

    def one(item) -> dict:
        trained, repeat, sidecar, cost, digest, archived = item
        progress = f"run {position[id(item)]} of {len(planned)}"
        about = dict(zip(RUN_KEYS, (trained.arm.kind, trained.arm.budget, trained.arm.key, trained.data,
                                    trained.trainer, repeat, schedule, epochs * iterations, spacing,
                                    trained.dataset.name), strict=True))
        if not train and archived is None and not _scored(ws, trained, schedule, repeat):
            say(f"{_label(trained, repeat, progress)}: not scored yet (--no-train)")
            return {**about, "missing": True}
        run = _run(ws, trained, repeat, schedule, plans, images, dense, test, archived, progress)
        if archive is not None and run["archived"] is None and \
                find_archived(archive, digest, trained.trainer, schedule, repeat, test, spacing,
                              _archive_settings(trained, fold)) is None:
            kept = archive_run(ws.root / run["scores"], archive, _archive_name(dense, trained, schedule, repeat, fold),
                               {"weak_labels_sha256": digest, "benchmark": ws.root.name, "arm": trained.arm.key,
                                "data": trained.data, "seconds_per_iteration": _finite(run["seconds_per_iteration"]),
                                "peak_mib": _finite(run["peak_mib"]), "target_spacing": spacing})
            say(f"{_label(trained, repeat, progress)}: kept in {kept}")
        return {
            **about, "dice": run["mean"]["dice"], "hd95": run["mean"]["hd95"],
            "surface_dice": run["mean"]["surface_dice"],
            "annotator_hours": cost["total"] / 3600,
            "annotator_seconds": {k: v for k, v in cost.items() if k != "total"},
            "voxel_percent": 100 * sidecar["totals"]["annotated_fraction"],
            "labelled_cases": sidecar["totals"]["labelled_cases"], "training_cases": len(training),
            "seconds_per_iteration": run["seconds_per_iteration"], "peak_mib": run["peak_mib"],
            "test_cases": run["cases"], "scores": run["scores"],
        }

    return run_all(planned, one, jobs, start)


def start_order(runs: Sequence[Trained]) -> list[int]:
    """The indices of ``runs`` in the order they start: arm by arm as first listed, within an arm our
    trainers' runs before stock's, otherwise as listed."""
    arms: dict[str, int] = {}
    for run in runs:
        arms.setdefault(run.arm.key, len(arms))
    return sorted(range(len(runs)), key=lambda i: (arms[runs[i].arm.key], runs[i].trainer == STOCK))


def _archive_settings(trained: Trained, fold: int | None) -> dict[str, str]:
    """What besides trainer, schedule and repeat names a run in the archive: its trainer settings
    and its cross-validation fold."""
    return {**trained.settings, **({"fold": str(fold)} if fold is not None else {})}


def _archive_name(dense: RawDataset, trained: Trained, schedule: str, repeat: int, fold: int | None = None) -> str:
    """``<dense dataset>-<weak dataset>__<trainer>__<schedule>[__fold-f][__repeat-k][__settings]``, as
    the archive names runs (:mod:`nnunet_weak.benchmark.reuse`)."""
    weak = trained.dataset.name.split("_", 1)[1]
    return f"{dense.name.split('_', 1)[1]}-{weak}__{trained.trainer}__{schedule}" + \
        settings_tag({**_archive_settings(trained, fold), **trained.run_settings(repeat)})


def _run_name(trained: Trained, schedule: str, repeat: int) -> str:
    """A run's name in the work folder (its predictions, scores, log and record)."""
    return f"{trained.dataset.name}__{trained.trainer}__{schedule}{settings_tag(trained.run_settings(repeat))}"


def _label(trained: Trained, repeat: int, progress: str = "") -> str:
    """How the console names a run: ``[run k of n] kind budget, trainer (data), repeat r``."""
    return (f"[{progress}] " if progress else "") + f"{trained.arm.kind} {trained.arm.budget}, {trained.trainer}" + \
        (f" ({trained.data})" if trained.data != "weak" else "") + f", repeat {repeat}"


def _scored(ws: Workspace, trained: Trained, schedule: str, repeat: int) -> bool:
    return (ws.root / "scores" / _run_name(trained, schedule, repeat) / "summary.json").is_file()


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def run_all(items: Sequence, one: Callable, jobs: int, start: Sequence[int] | None = None) -> list:
    """``one(item)`` for every item, ``jobs`` at a time, started in the order of the indices
    ``start`` (default: the items' order), results in the items' order. The first failure (or
    Ctrl-C) starts no further item: the runs in progress end (Ctrl-C reaches their nnU-Net
    processes too), then the failure is raised."""
    start = list(range(len(items))) if start is None else list(start)
    if sorted(start) != list(range(len(items))):
        raise ValueError(f"start order {start} is not an order of {len(items)} items")
    if jobs == 1:
        results = {i: one(items[i]) for i in start}
        return [results[i] for i in range(len(items))]
    stop = threading.Event()

    def guarded(item):
        if stop.is_set():
            return None  # not started: an earlier run failed
        try:
            return one(item)
        except BaseException:
            stop.set()
            raise

    pool = ThreadPoolExecutor(max_workers=jobs)  # each run waits on nnU-Net's processes
    submitted = {i: pool.submit(guarded, items[i]) for i in start}
    futures = [submitted[i] for i in range(len(items))]
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f in done and f.exception() is not None]
        if failed:
            running = sum(f.running() for f in futures)
            say(f"a run failed; no further run starts{f', waiting for the {running} in progress' if running else ''}")
            raise failed[0].exception()
        return [f.result() for f in futures]
    except BaseException:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def claim(ws: Workspace, dense: RawDataset, split: dict, target_spacing: Sequence[float] | None = None) -> None:
    """One work folder per benchmark: refuse one that holds another dataset's, another split's
    (``split``: {"test_cases": [...]} or {"cross_validation": 5}) or another target spacing's
    (kept as "target_spacing", absent for nnU-Net's own)."""
    path = ws.root / BENCHMARK_FILE
    mine = {"dataset": str(dense.folder.resolve()), **split}
    if target_spacing is not None:
        mine["target_spacing"] = [float(s) for s in target_spacing]
    if path.is_file():
        theirs = json.loads(path.read_text())
        if theirs.get("dataset") != mine["dataset"]:
            raise WeakDatasetError(f"{path}: this work folder benchmarks {theirs.get('dataset')}; give another -o")
        their_spacing, my_spacing = theirs.pop("target_spacing", None), mine.pop("target_spacing", None)
        if theirs != mine:
            raise WeakDatasetError(f"{path}: this work folder holds {_split_name(theirs)}, not "
                                   f"{_split_name(mine)}; give {_split_option(theirs)}, or another -o")
        if their_spacing != my_spacing:
            raise WeakDatasetError(f"{path}: this work folder is planned at {_spacing_name(their_spacing)}, not "
                                   f"{_spacing_name(my_spacing)}; give {_spacing_option(their_spacing)}, "
                                   "or another -o")
        return
    ws.root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(mine, indent=1) + "\n")


def _split_name(split: dict) -> str:
    if "cross_validation" in split:
        return f"nnU-Net's {split['cross_validation']}-fold cross-validation"
    return f"the held-out cases {', '.join(split.get('test_cases', []))}"


def _split_option(split: dict) -> str:
    return "--folds" if "cross_validation" in split else "those as --test-cases"


def _spacing_name(spacing: list[float] | None) -> str:
    return "nnU-Net's own target spacing" if spacing is None else " x ".join(f"{s:g}" for s in spacing) + " mm"


def _spacing_option(spacing: list[float] | None) -> str:
    return "no --target-spacing" if spacing is None else "--target-spacing " + " ".join(f"{s:g}" for s in spacing)


def _slice_objects(ws: Workspace, dense: RawDataset, cases: list[str]) -> dict[str, dict[str, list[int]]]:
    """Per training case and array axis, how many foreground classes each slice of the dense truth
    holds (the cost model's input), counted once and kept in ``slice_objects.json``."""
    path = ws.root / "slice_objects.json"
    if path.is_file():
        return json.loads(path.read_text())
    counts = {}
    for case in cases:
        label, _ = dense.read_label(case)
        counts[case] = {str(axis): count_objects_per_slice(label, dense.foreground_classes, axis)
                        for axis in range(label.ndim)}
    path.write_text(json.dumps(counts))
    return counts


def count_objects_per_slice(label: np.ndarray, classes: Sequence[int], axis: int) -> list[int]:
    """For each slice along ``axis``, how many of ``classes`` it holds."""
    others = tuple(a for a in range(label.ndim) if a != axis)
    return [int(n) for n in sum(np.any(label == c, axis=others).astype(int) for c in classes)]


def _dataset_ids(ws: Workspace) -> dict[str, int]:
    """Weak dataset names by id, kept in ``ids.json`` so that a dataset keeps its id across runs."""
    path = ws.root / "ids.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _folder(ws: Workspace, ids: dict[str, int], name: str) -> Path:
    """The raw folder of the weak dataset ``name``, with an id of its own (new names get the next)."""
    matching = [k for k in ids if k.split("_", 1)[1] == name]
    if not matching:
        number = max([FIRST_ID - 1, *ids.values()]) + 1
        if number > 999:
            raise WeakDatasetError(f"{ws.root}: no dataset ids left (501-999); give another -o")
        matching = [f"Dataset{number:03d}_{name}"]
        ids[matching[0]] = number
        (ws.root / "ids.json").write_text(json.dumps(ids, indent=1) + "\n")
    return ws.raw / matching[0]


def _weak_datasets(ws: Workspace, ids: dict[str, int], dense: RawDataset, arm: Arm,
                   training: list[str]) -> tuple[RawDataset, RawDataset | None, RawDataset]:
    """The arm's weak dataset of the training cases; for a semi-supervised arm its labelled cases
    alone (else None); and the dataset of what people annotated, whose sidecar gives the cost (the
    clicks, not their expansion, whose labelled voxels no one drew). Made unless already there."""
    o = arm.options
    baseline = None
    if arm.kind == "points":
        clicks = _derive(ws, ids, f"{arm.key}-clicks", dense, "points", points_annotator(),
                         {"protocol": "pa-seg-7", "margin": 2, "jitter": 0.0, "min_object_voxels": 1}, training)
        folder = _folder(ws, ids, arm.key)
        if not folder.is_dir():
            say(f"deriving {folder.name} (expand-points)")
            parameters = {"points_dataset": str(clicks.folder.resolve()), "lambda": 0.5, "iterations": 4, **o}
            build_weak_dataset(clicks, folder, "points_expanded",
                               expanded_points_annotator(clicks, o["threshold"], 0.5, 4, o["outside_seeds"],
                                                         o["background_threshold"]), parameters, None)
        else:
            say(f"reusing {folder.name}")
        return RawDataset(folder), None, clicks
    if arm.kind == "slices":
        kind, annotate = "sparse_slices", slices_annotator(**o)
    elif arm.kind == "scribbles":
        kind, annotate = "scribbles", scribbles_annotator(o["axes"], o["orientations"], o["slice_share"])
    else:  # full, semi
        labelled = training if arm.kind == "full" else \
            first_cases(dense, training, o["labelled"]) if o["first"] else \
            pick_labelled(dense, training, SEED, count=o["labelled"])
        kind, annotate = "semi_supervised", semi_supervised_annotator(labelled)
        o = {**o, "labelled_cases": labelled}
        if arm.kind == "semi":
            baseline = _derive(ws, ids, f"{arm.key}-labelled-only", dense, kind, annotate, o, labelled)
    weak = _derive(ws, ids, arm.key, dense, kind, annotate, o, training)
    return weak, baseline, weak


def _derive(ws: Workspace, ids: dict[str, int], name: str, dense: RawDataset, kind: str, annotate,
            parameters: dict, cases: list[str]) -> RawDataset:
    folder = _folder(ws, ids, name)
    if folder.is_dir():
        say(f"reusing {folder.name}")
    else:
        say(f"deriving {folder.name} ({kind}, {len(cases)} training cases)")
        build_weak_dataset(dense, folder, kind, annotate, parameters, SEED, cases=cases)
    return RawDataset(folder)


def training_plans(schedule: str, target_spacing: Sequence[float] | None) -> str:
    """The plans a schedule trains with: the CPU plans, or nnU-Net's own for the target spacing."""
    plans = SCHEDULES[schedule][2]
    return plans if plans == CPU_PLANS else plans_name_for(target_spacing)


def _prepare(ws: Workspace, dataset_id: int, dataset: RawDataset, plans: str,
             target_spacing: Sequence[float] | None = None) -> None:
    """Plan and preprocess once (at ``target_spacing`` if given); CPU plans shrunk from those; fold 0
    trains on every case and validates on one labelled case: nnU-Net's validation (on weak labels,
    ignore voxels skipped) only watches the training here, the scores come from the held-out cases,
    and each validation case costs nnU-Net's final validation a whole-volume prediction."""
    log = ws.root / "logs" / f"plan_{dataset.name}.log"
    cases = read_sidecar(dataset.folder)["cases"]
    source = plans_name_for(target_spacing)
    if preprocessed_cases(ws, dataset.name, plans=source) == len(cases):
        say(f"reusing the plans of {dataset.name}")
    else:
        at = "" if target_spacing is None else f" at {' x '.join(f'{s:g}' for s in target_spacing)} mm"
        say(f"planning and preprocessing {dataset.name}{at} (log: {log})")
        plan_at_spacing(ws, dataset_id, target_spacing, log=log, processes=1)
    if plans == CPU_PLANS:
        shrink_plans(ws, dataset_id, source=source)
    labelled = [c for c, record in cases.items() if record["labelled"]]
    write_single_split(ws, dataset_id, sorted(cases), labelled[:1])


def _test_images(ws: Workspace, dense: RawDataset, test: list[str]) -> Path:
    """The held-out cases' images (every channel), linked into one folder for nnUNetv2_predict."""
    images = ws.root / "test_images"
    images.mkdir(parents=True, exist_ok=True)
    for case in test:
        for f in dense.image_files(case):
            if not (images / f.name).exists():
                (images / f.name).symlink_to(f.resolve())
    return images


def _run(ws: Workspace, trained: Trained, repeat: int, schedule: str, plans: str, images: Path,
         dense: RawDataset, test: list[str], archived: Path | None = None, progress: str = "") -> dict:
    """Train (or reuse, or continue), predict the held-out cases and score them against the dense
    truth, unless scored already or ``archived`` (an earlier run's scores) is given; returns the
    scores' means, where they are, seconds per iteration, peak memory and the archived file the
    scores were taken from (None for a run of this benchmark)."""
    epochs, iterations, _, device, tta = SCHEDULES[schedule]
    settings = trained.run_settings(repeat)
    run_ws = Workspace(ws.root, f"nnUNet_results_{schedule}{settings_tag(settings)}")
    name = _run_name(trained, schedule, repeat)
    label = _label(trained, repeat, progress)
    results = run_ws.results / trained.dataset.name / f"{trained.trainer}__{plans}__3d_fullres" / "fold_0"
    logs, record = ws.root / "logs", ws.root / "runs" / f"{name}.json"
    predictions, scores = ws.root / "predictions" / name, ws.root / "scores" / name
    record.parent.mkdir(parents=True, exist_ok=True)
    if not (scores / "summary.json").is_file() and archived is not None:
        say(f"{label}: taking the archived scores of the same run, {archived}")
        summary = json.loads(archived.read_text())
        about = summary.get("run", {})
        record.write_text(json.dumps({"peak_mib": about.get("peak_mib"), "archived": str(archived),
                                      "seconds_per_iteration": about.get("seconds_per_iteration")}))
        write_summary(strict_to_nan(summary), scores)
    if (scores / "summary.json").is_file():
        say(f"{label}: reusing the scores")
    else:
        if (results / "checkpoint_final.pth").is_file():
            say(f"{label}: reusing the finished training")
        else:
            log = logs / f"train_{name}.log"
            say(f"{label}: training {epochs} x {iterations} iterations (log: {log})")
            resume = resume_arguments(results)
            peak = train(run_ws, trained.dataset_id, trained.trainer, plans, epochs, iterations, device=device,
                         log=log, extra_args=resume,
                         env={"nnUNet_weak_save_every": "5", **(CPU_TRAINING_ENV if device == "cpu" else {}),
                              **settings})
            record.write_text(json.dumps({"peak_mib": None if math.isnan(peak) else peak}))
        expected = {f"{case}{dense.file_ending}" for case in test}
        if not predictions.is_dir() or not expected <= {p.name for p in predictions.iterdir()}:
            say(f"{label}: predicting {len(expected)} held-out cases")
            predict(run_ws, trained.dataset_id, images, predictions, trained.trainer, plans, device=device, tta=tta,
                    log=logs / f"predict_{name}.log")
        say(f"{label}: scoring against the dense truth")
        evaluate_folders(predictions, dense.folder, scores, allow_missing=True)
    kept = json.loads(record.read_text()) if record.is_file() else {}
    summary = json.loads((scores / "summary.json").read_text())
    mean = {k: (float("nan") if v is None else v) for k, v in summary["mean"].items()}
    seconds = kept["seconds_per_iteration"] if "archived" in kept else \
        training_log_seconds_per_iteration(results, iterations)
    return {"mean": mean, "cases": summary["cases"], "scores": str(scores.relative_to(ws.root)),
            "seconds_per_iteration": float("nan") if seconds is None else seconds,
            "peak_mib": float("nan") if kept.get("peak_mib") is None else kept["peak_mib"],
            "archived": kept.get("archived")}
