"""GPU readiness in one command: every recommended trainer (and the FixMatch pair of issue 28)
trains and predicts on one CUDA GPU.

    python benchmarks/gpu_check.py                          # one CUDA GPU; --budget stops it at 8 minutes
    python benchmarks/gpu_check.py --device cpu --smoke     # the same path on the CPU, tiny schedule

On the bundled sample (8 hippocampus cases, 6 for training, 2 held out) it derives the weak
datasets the trainers are made for (sparse slices for cross-teaching, expanded clicks for PA-Seg,
3 labelled + 3 unlabelled cases for the semi-supervised trainers), plans and preprocesses them with
the stock command (on CUDA the stock GPU plans; ``--smoke`` uses the shrunk CPU plans), then for
each trainer runs ``nnUNetv2_train -tr TRAINER -device cuda`` for a short schedule with nnU-Net's
GPU defaults (mixed precision; ``torch.compile`` of the network, which nnU-Net switches on for CUDA
unless ``nnUNet_compile`` says otherwise: leave it unset, or pass ``--no-compile``), and predicts
the 2 held-out cases with ``nnUNetv2_predict``. nnUNetTrainerPointSegSCM starts from the
nnUNetTrainerPointSeg and nnUNetTrainerPointSegResEnc runs beside it, so it runs after them.

It writes one JSON (default ``benchmarks/work/gpu_check/gpu_check.json``, ``--out`` to change;
benchmarks/work/ is not committed), rewritten after every trainer so a killed run keeps what it
measured. Per trainer: ``status`` (ok / failed / skipped), seconds per iteration (nnU-Net's epoch
times without the first epoch, which holds the compilation, per iteration) and that relative to
nnUNetTrainerBenchmark (the stock trainer with our schedule variables) measured in the same run,
peak GPU memory (``torch.cuda.max_memory_allocated`` and ``_reserved`` of the training process,
MiB), peak resident memory, whether nnU-Net compiled the network, the seconds training and
prediction took, and on failure the error line and the traceback from its log (logs stay under
``--work``). A failing trainer does not stop the others. ``--parallel N`` (default 3 on CUDA)
trains N trainers at a time to fit the 8 minutes: their iteration times then include sharing the
GPU with another training, which the JSON records; for clean relative timings of a few trainers
run ``--parallel 1 --trainers nnUNetTrainerBenchmark nnUNetTrainerCrossTeach``. ``--budget``
(seconds, default 480) starts no trainer after it has passed and stops one still running at it.

To record the figures, keep the JSON as ``benchmarks/scores/gpu_check_<date>.json`` and quote its
seconds per iteration and peak memory in benchmarks/RESULTS.md with the GPU, driver, CUDA and torch
versions it names and the command that made it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from nnunet_weak.benchmark.runs import training_log_seconds_per_iteration
from nnunet_weak.pipeline import Workspace, executable, plan_and_preprocess, shrink_plans, write_single_split

HERE = Path(__file__).resolve().parent

REFERENCE = "nnUNetTrainerBenchmark"
# trainer: (weak dataset it is made for, trainers whose runs it starts from); in the order they start,
# PA-Seg's stage 1 first so that stage 2 (SCM) need not wait at the end
TRAINERS = {
    "nnUNetTrainerPointSeg": ("points", ()),
    "nnUNetTrainerPointSegResEnc": ("points", ()),
    "nnUNetTrainerBenchmark": ("slices", ()),
    "nnUNetTrainerCrossTeach": ("slices", ()),
    "nnUNetTrainerPointSegSCM": ("points", ("nnUNetTrainerPointSeg", "nnUNetTrainerPointSegResEnc")),
    "nnUNetTrainerDTML": ("semi", ()),
    "nnUNetTrainerSDFDualHead": ("semi", ()),
    "nnUNetTrainerGatedCRF": ("points", ()),  # any partial labels: the expanded clicks here
    # opt-in experimental, but issue 28 asks them to run on a GPU before they are measured there
    "nnUNetTrainerFixMatch": ("semi", ()),
    "nnUNetTrainerFixMatchEMATeacher": ("semi", ()),
}
DATASETS = {"slices": (992, "Dataset992_SampleSlices"), "points": (995, "Dataset995_SamplePoints"),
            "semi": (993, "Dataset993_SampleSemi")}


@dataclass(frozen=True)
class Schedule:
    epochs: int
    iterations_per_epoch: int
    val_iterations: int


GPU_SCHEDULE = Schedule(epochs=3, iterations_per_epoch=20, val_iterations=2)
SMOKE_SCHEDULE = Schedule(epochs=2, iterations_per_epoch=2, val_iterations=1)

# nnUNetv2_train's own entry point, in a process that reports its peak memory when it ends
TRAIN_WRAPPER = """
import json, resource, sys
import torch
from nnunetv2.run.run_training import run_training_entry
sys.argv = ["nnUNetv2_train", *sys.argv[1:]]
try:
    run_training_entry()
finally:
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    print("GPU_CHECK_PEAK " + json.dumps({
        "peak_gpu_allocated_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        "peak_gpu_reserved_mib": torch.cuda.max_memory_reserved() / 2**20 if cuda else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


def prepare(ws: Workspace, smoke: bool, log_dir: Path) -> tuple[str, list[Path]]:
    """The three weak datasets of the sample, planned and preprocessed (reused when already there);
    returns the plans to train with and the held-out test images."""
    from nnunet_weak.dataset import RawDataset
    from nnunet_weak.derive import (
        build_weak_dataset,
        expanded_points_annotator,
        points_annotator,
        preset_annotator,
        semi_supervised_annotator,
    )
    from nnunet_weak.sample import SAMPLE_DATASET

    ws.raw.mkdir(parents=True, exist_ok=True)
    dense_folder = ws.raw / SAMPLE_DATASET.name
    if not dense_folder.is_dir():
        shutil.copytree(SAMPLE_DATASET, dense_folder)
    dense = RawDataset(dense_folder)
    cases = dense.cases()
    training, test, labelled = cases[:-2], cases[-2:], cases[:3]
    folders = {kind: ws.raw / name for kind, (_, name) in DATASETS.items()}
    if not folders["slices"].is_dir():
        annotate, parameters = preset_annotator("3d2dct")
        build_weak_dataset(dense, folders["slices"], "sparse_slices", annotate, parameters, seed=0, cases=training)
    if not folders["semi"].is_dir():
        build_weak_dataset(dense, folders["semi"], "semi_supervised", semi_supervised_annotator(labelled),
                           {"labelled_cases": labelled}, seed=0, cases=training)
    if not folders["points"].is_dir():
        clicks_folder = ws.root / "Dataset994_SampleClicks"
        if clicks_folder.exists():
            shutil.rmtree(clicks_folder)
        build_weak_dataset(dense, clicks_folder, "points", points_annotator(), {}, seed=0, cases=training)
        clicks = RawDataset(clicks_folder)
        build_weak_dataset(clicks, folders["points"], "points_expanded", expanded_points_annotator(clicks), {},
                           seed=None)
    unplanned = [(i, n) for i, n in DATASETS.values() if not (ws.preprocessed / n / "nnUNetPlans.json").is_file()]
    # the three plannings side by side on a GPU machine's cores; one after the other on a small CPU
    with ThreadPoolExecutor(1 if smoke else len(DATASETS)) as pool:
        list(pool.map(lambda item: plan_and_preprocess(ws, item[0], processes=1 if smoke else 4,
                                                       log=log_dir / f"plan_{item[1]}.log"), unplanned))
    plans = "nnUNetPlans"
    for dataset_id, _ in DATASETS.values():
        if smoke:
            plans = shrink_plans(ws, dataset_id)
        # fold 0 validates on two labelled cases (the semi-supervised trainers drop unlabelled ones)
        write_single_split(ws, dataset_id, training, labelled[:2])
    return plans, [f for case in test for f in dense.image_files(case)]


def last_traceback(text: str) -> str | None:
    """The last Python traceback in a log, up to its error line."""
    start = text.rfind("Traceback (most recent call last)")
    if start < 0:
        return None
    lines = text[start:].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if line and not line.startswith((" ", "\t"))), len(lines) - 1)
    return "\n".join(lines[:end + 1])


def run_logged(cmd: list[str], env: dict, log: Path, timeout: float) -> tuple[int | None, str]:
    """Run ``cmd`` in its own process group with output to ``log``; (exit code or None on timeout, log text)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
    return code, log.read_text(errors="replace")


class Check:
    """Trains and predicts with each trainer, writing the report as results come in."""

    def __init__(self, args, ws: Workspace, plans: str, test_images: list[Path], schedule: Schedule,
                 deadline: float):
        self.args, self.ws, self.plans, self.schedule = args, ws, plans, schedule
        self.results_ws = Workspace(ws.root, "nnUNet_results_gpu_check")
        self.test_images = test_images
        self.deadline = deadline  # time.monotonic() after which nothing starts and a running command stops
        self.lock = threading.Lock()
        self.report: dict = {}

    def env(self) -> dict[str, str]:
        extra = {"nnUNet_weak_epochs": self.schedule.epochs,
                 "nnUNet_weak_iterations_per_epoch": self.schedule.iterations_per_epoch,
                 "nnUNet_weak_val_iterations": self.schedule.val_iterations,
                 "nnUNet_weak_save_every": self.schedule.epochs}
        if self.args.device == "cpu":
            extra.update(nnUNet_n_proc_DA="0", nnUNet_weak_threads="1", OMP_NUM_THREADS="1")
        elif "nnUNet_n_proc_DA" not in os.environ and self.args.parallel > 1:
            # nnU-Net's default (12 augmentation workers per training) oversubscribes the cores when
            # several trainings share the machine
            extra["nnUNet_n_proc_DA"] = str(max(1, (os.cpu_count() or 2) // self.args.parallel - 1))
        if self.args.no_compile:
            extra["nnUNet_compile"] = "0"
        return self.results_ws.env(**extra)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run_trainer(self, trainer: str) -> dict:
        kind = TRAINERS[trainer][0]
        dataset_id, name = DATASETS[kind]
        entry: dict = {"dataset": name, "status": "failed"}
        logs = self.ws.root / "logs"
        fold = self.results_ws.results / name / f"{trainer}__{self.plans}__3d_fullres" / "fold_0"
        start = time.monotonic()
        cmd = [sys.executable, "-c", TRAIN_WRAPPER, str(dataset_id), "3d_fullres", "0", "-tr", trainer,
               "-p", self.plans, "-device", self.args.device]
        code, text = run_logged(cmd, self.env(), logs / f"train_{trainer}.log", self.remaining())
        entry["train_seconds"] = round(time.monotonic() - start, 1)
        entry["log"] = str(logs / f"train_{trainer}.log")
        for line in text.splitlines():
            if line.startswith("GPU_CHECK_PEAK "):
                entry.update({k: (round(v, 1) if v is not None else None)
                              for k, v in json.loads(line.split(" ", 1)[1]).items()})
        entry["compiled"] = "Using torch.compile" in text
        entry["seconds_per_iteration"] = _rounded(training_log_seconds_per_iteration(
            fold, self.schedule.iterations_per_epoch))
        if code != 0 or not (fold / "checkpoint_final.pth").is_file():
            entry["error"] = ("stopped at the time budget (--budget)" if code is None else
                              _error_line(text) or f"nnUNetv2_train exited with {code} without checkpoint_final.pth")
            entry["traceback"] = last_traceback(text)
            return entry
        entry.update(self.predict(trainer, logs))
        return entry

    def predict(self, trainer: str, logs: Path) -> dict:
        kind = TRAINERS[trainer][0]
        dataset_id, _ = DATASETS[kind]
        images = self.ws.root / "test_images"
        images.mkdir(exist_ok=True)
        for image in self.test_images:
            if not (images / image.name).exists():
                (images / image.name).symlink_to(image.resolve())
        output = self.ws.root / "predictions" / trainer
        if output.exists():
            shutil.rmtree(output)
        cmd = [executable("nnUNetv2_predict"), "-i", str(images), "-o", str(output), "-d", str(dataset_id),
               "-c", "3d_fullres", "-f", "0", "-tr", trainer, "-p", self.plans, "-device", self.args.device,
               "--disable_progress_bar"]
        if self.args.device == "cpu":
            cmd += ["--disable_tta", "-npp", "1", "-nps", "1"]
        start = time.monotonic()
        code, text = run_logged(cmd, self.env(), logs / f"predict_{trainer}.log", self.remaining())
        written = sorted(p.name for p in output.glob("*.nii.gz")) if output.is_dir() else []
        result = {"predict_seconds": round(time.monotonic() - start, 1), "predictions": len(written)}
        if code != 0 or len(written) != len(self.test_images):
            result["error"] = ("prediction stopped at the time budget (--budget)" if code is None else
                               _error_line(text) or f"nnUNetv2_predict exited with {code}, wrote {written}")
            result["traceback"] = last_traceback(text)
        else:
            result["status"] = "ok"
        return result

    def record(self, trainer: str, entry: dict) -> None:
        with self.lock:
            self.report["trainers"][trainer] = entry
            reference = self.report["trainers"].get(REFERENCE, {}).get("seconds_per_iteration")
            for values in self.report["trainers"].values():
                own = values.get("seconds_per_iteration")
                values["relative_to_stock"] = round(own / reference, 2) if own and reference else None
            self.report["wall_seconds"] = round(time.monotonic() - self.started, 1)
            self.write()

    def write(self) -> None:
        self.args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.report, indent=1))
        tmp.replace(self.args.out)

    def run(self, trainers: list[str], header: dict) -> dict:
        self.started = time.monotonic()
        self.report = {**header, "trainers": {}}
        pending, running, done = list(trainers), {}, {}
        with ThreadPoolExecutor(self.args.parallel) as pool:
            while pending or running:
                for trainer in list(pending):
                    needs = [t for t in TRAINERS[trainer][1] if t in trainers]
                    if len(running) >= self.args.parallel or any(t not in done for t in needs):
                        continue
                    pending.remove(trainer)
                    failed = [t for t in needs if done[t] != "ok"]
                    if failed or self.remaining() <= 0:
                        why = f"not run: {', '.join(failed)} failed" if failed else "not started: time budget spent"
                        self.record(trainer, {"dataset": DATASETS[TRAINERS[trainer][0]][1], "status": "skipped",
                                              "error": why})
                        done[trainer] = "skipped"
                        continue
                    print(f"{time.strftime('%H:%M:%S')} {trainer}: training", flush=True)
                    running[pool.submit(self._guarded, trainer)] = trainer
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    trainer = running.pop(future)
                    entry = future.result()
                    done[trainer] = entry["status"]
                    print(f"{time.strftime('%H:%M:%S')} {trainer}: {entry['status']}"
                          + (f" ({entry['error']})" if entry.get("error") else ""), flush=True)
                    self.record(trainer, entry)
        return self.report

    def _guarded(self, trainer: str) -> dict:
        """A bug in this script is reported for the trainer, not raised into the others."""
        try:
            return self.run_trainer(trainer)
        except Exception as e:
            return {"dataset": DATASETS[TRAINERS[trainer][0]][1], "status": "failed",
                    "error": f"gpu_check: {type(e).__name__}: {e}", "traceback": traceback.format_exc()}


def _error_line(text: str) -> str | None:
    tb = last_traceback(text)
    return tb.splitlines()[-1] if tb else None


def _rounded(value: float) -> float | None:
    return None if value != value else round(value, 4)  # NaN: no epoch time logged


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--smoke", action="store_true", help=f"tiny schedule ({SMOKE_SCHEDULE.epochs} epochs of "
                        f"{SMOKE_SCHEDULE.iterations_per_epoch} iterations) on nnU-Net's shrunk CPU plans")
    parser.add_argument("--trainers", nargs="+", default=list(TRAINERS), choices=list(TRAINERS), metavar="TRAINER",
                        help="a subset (default: all); nnUNetTrainerPointSegSCM needs its two stage-1 trainers")
    parser.add_argument("--parallel", type=int, help="trainings at a time (default 3 on cuda, 1 on cpu)")
    parser.add_argument("--budget", type=float, default=480.0, help="seconds from the start after which no trainer "
                        "starts and a running one is stopped (default 480: 8 minutes)")
    parser.add_argument("--no-compile", action="store_true", help="nnUNet_compile=0 (default: nnU-Net's choice, "
                        "compile on CUDA)")
    parser.add_argument("--work", type=Path, default=HERE / "work" / "gpu_check",
                        help="datasets (kept and reused), results, logs, predictions")
    parser.add_argument("--out", type=Path, help="the JSON report (default WORK/gpu_check.json)")
    args = parser.parse_args(argv)
    args.parallel = args.parallel or (3 if args.device == "cuda" else 1)
    args.work = args.work.resolve()
    args.out = (args.out or args.work / "gpu_check.json").resolve()
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")
    missing = {t: [n for n in TRAINERS[t][1] if n not in args.trainers] for t in args.trainers}
    if any(missing.values()):
        parser.error("; ".join(f"{t} starts from {', '.join(m)}: add them to --trainers"
                               for t, m in missing.items() if m))

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check: CUDA is not available (torch.cuda.is_available() is False; torch "
              f"{torch.__version__}, built for CUDA {torch.version.cuda}). Run it on a machine with an NVIDIA GPU "
              "and a CUDA build of torch, or try the same path on the CPU with --device cpu --smoke.", file=sys.stderr)
        return 2
    if args.device == "cpu" and not args.smoke:
        parser.error("--device cpu needs --smoke: the GPU schedule and plans take far too long on a CPU")

    schedule = SMOKE_SCHEDULE if args.smoke else GPU_SCHEDULE
    ws = Workspace(args.work)
    started, date = time.monotonic(), time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{time.strftime('%H:%M:%S')} preparing the weak datasets and plans in {args.work}", flush=True)
    try:
        plans, test_images = prepare(ws, args.smoke, ws.root / "logs")
    except Exception as e:  # nothing can train: say why in the report, as for a trainer
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"device": args.device, "status": "failed", "error": f"preparing the "
                                        f"datasets: {type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                                        "logs": str(ws.root / "logs")}, indent=1))
        print(f"gpu_check: preparing the datasets failed ({e}); see {args.out} and {ws.root / 'logs'}",
              file=sys.stderr)
        return 1
    results = Workspace(ws.root, "nnUNet_results_gpu_check").results
    if results.exists():
        shutil.rmtree(results)
    header = {
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None,
        "driver": _nvidia_driver() if args.device == "cuda" else None,
        "cuda": torch.version.cuda, "torch": torch.__version__, "nnunetv2": _version("nnunetv2"),
        "nnunet_weak": _version("nnunet_weak"), "python": platform.python_version(), "host": platform.node(),
        "date": date,
        "smoke": args.smoke, "plans": plans, "schedule": schedule.__dict__, "parallel": args.parallel,
        "nnUNet_compile": "0 (--no-compile)" if args.no_compile else os.environ.get(
            "nnUNet_compile", "unset: nnU-Net compiles on CUDA"),
        "reference": REFERENCE, "prepare_seconds": round(time.monotonic() - started, 1),
        "notes": "seconds_per_iteration: nnU-Net's epoch times after the first epoch (their few validation "
                 "iterations included) / training iterations; with parallel > 1 the trainings shared the GPU and CPU",
    }
    check = Check(args, ws, plans, test_images, schedule, deadline=started + args.budget)  # preparing counts too
    report = check.run(args.trainers, header)
    print(f"wrote {args.out}")
    for trainer, entry in report["trainers"].items():
        print(f"  {trainer:32s} {entry['status']:8s} s/it {entry.get('seconds_per_iteration')} "
              f"(x{entry.get('relative_to_stock')}) GPU peak {entry.get('peak_gpu_allocated_mib')} MiB"
              + (f"  {entry['error']}" if entry.get("error") else ""))
    return 0 if all(e["status"] == "ok" for e in report["trainers"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
