"""The stock nnU-Net commands, driven from Python for the demo, the tests and the benchmark runner
(whose own extra steps are in ``benchmarks/runner_steps.py``).

Each step runs the real entry point (``nnUNetv2_plan_and_preprocess``, ``nnUNetv2_train``,
``nnUNetv2_predict``) in a subprocess, exactly as a user would type it, so what we measure is
what users get.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nnunet_weak.dataset.folders import find_dataset
from nnunet_weak.ext_trainer import with_experimental

CPU_PLANS = "nnUNetPlans_cpu"


def executable(name: str) -> str:
    """A console script of this environment (next to the running Python), else from PATH.

    ``.venv/bin/nnunet-weak demo`` must find ``.venv/bin/nnUNetv2_train`` without an activated venv.
    """
    here = Path(sys.executable).parent / name
    return str(here) if here.is_file() else (shutil.which(name) or name)


@dataclass(frozen=True)
class Workspace:
    """The three nnU-Net folders under ``root``; ``results_name`` lets runs with different
    schedules keep separate results (nnU-Net names a results folder by trainer and plans only)."""

    root: Path
    results_name: str = "nnUNet_results"

    @property
    def raw(self) -> Path:
        return self.root / "nnUNet_raw"

    @property
    def preprocessed(self) -> Path:
        return self.root / "nnUNet_preprocessed"

    @property
    def results(self) -> Path:
        return self.root / self.results_name

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(nnUNet_raw=str(self.raw), nnUNet_preprocessed=str(self.preprocessed),
                   nnUNet_results=str(self.results))
        # benchmark protocols and tests also train the experimental trainers (an opt-in folder for users)
        env["nnUNet_extTrainer"] = with_experimental(env.get("nnUNet_extTrainer", ""))
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def dataset_folder(self, dataset_id: int) -> Path:
        return find_dataset(self.preprocessed, dataset_id)


def run(cmd: Sequence[str], env: dict[str, str], log: Path | None = None) -> float:
    """Run a command; returns the peak resident memory (MiB) of the command's process tree's largest
    process. Output goes to ``log`` when given. Raises CalledProcessError on failure."""
    wrapper = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
               "print('peak_rss_kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)")
    full = [sys.executable, "-c", wrapper, executable(cmd[0]), *cmd[1:]]
    print("$ " + shlex.join(cmd) + (f"   (log: {log})" if log else ""), flush=True)
    if log is None:
        result = subprocess.run(full, env=env, stderr=subprocess.PIPE, text=True)
        stderr = result.stderr
        sys.stderr.write("".join(line for line in stderr.splitlines(True) if not line.startswith("peak_rss_kib")))
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as f:
            result = subprocess.run(full, env=env, stdout=f, stderr=subprocess.STDOUT, text=True)
        stderr = log.read_text()
    if result.returncode != 0:
        where = f" (log: {log})" if log else ""
        raise subprocess.CalledProcessError(result.returncode, list(cmd), output=f"failed{where}")
    peaks = [int(line.split()[1]) for line in stderr.splitlines() if line.startswith("peak_rss_kib")]
    return peaks[-1] / 1024 if peaks else float("nan")


def plan_and_preprocess(ws: Workspace, dataset_id: int, configuration: str = "3d_fullres",
                        log: Path | None = None, processes: int = 2, extra_args: Sequence[str] = ()) -> None:
    """``nnUNetv2_plan_and_preprocess`` with integrity checks (``extra_args`` appended), ``processes``
    processes for the fingerprint as for the preprocessing (nnU-Net's -npfp defaults to 8 spawned
    processes, each importing torch: a minute's start-up on two busy cores)."""
    # nnUNet_n_proc_DA=0 makes the planner call torch.set_num_threads(0) and crash; plan with 1.
    run(["nnUNetv2_plan_and_preprocess", "-d", str(dataset_id), "-c", configuration, "-np", str(processes),
         "-npfp", str(processes), "--verify_dataset_integrity", *extra_args], ws.env(nnUNet_n_proc_DA="1"), log)


def plans_name_for(target_spacing: Sequence[float] | None) -> str:
    """nnUNetPlans, or nnUNetPlans_<spacing>mm for plans made for another target spacing."""
    if target_spacing is None:
        return "nnUNetPlans"
    return "nnUNetPlans_" + "x".join(f"{s:g}" for s in target_spacing) + "mm"


def plan_at_spacing(ws: Workspace, dataset_id: int, target_spacing: Sequence[float] | None,
                    log: Path | None = None, processes: int = 2) -> str:
    """Plan and preprocess (3d_fullres) with the stock command; returns the plans' name. With
    ``target_spacing`` (mm, nnU-Net's axis order) nnU-Net plans for that spacing instead of its own
    (``-overwrite_target_spacing``: patch size and network follow from it) and writes the plans as
    ``nnUNetPlans_<spacing>mm``, leaving nnUNetPlans free for the stock plan. Predictions are
    resampled back to each image's own spacing by ``nnUNetv2_predict`` as usual."""
    extra, name = [], plans_name_for(target_spacing)
    if target_spacing is not None:
        extra = ["-overwrite_target_spacing", *(f"{s:g}" for s in target_spacing), "-overwrite_plans_name", name]
    plan_and_preprocess(ws, dataset_id, log=log, processes=processes, extra_args=extra)
    return name


def preprocessed_cases(ws: Workspace, dataset_name: str, configuration: str = "3d_fullres",
                       plans: str = "nnUNetPlans") -> int:
    """How many cases ``plan_and_preprocess`` has finished (nnU-Net writes a case's ``.pkl`` after its
    data, and the plans before any case: plans alone do not mean a finished preprocessing)."""
    return len(list((ws.preprocessed / dataset_name / f"{plans}_{configuration}").glob("*.pkl")))


def shrink_plans(ws: Workspace, dataset_id: int, batch_size: int = 2, base_features: int = 16,
                 max_features: int = 128, configuration: str = "3d_fullres", name: str = CPU_PLANS,
                 source: str = "nnUNetPlans") -> str:
    """Copy the plans ``source`` into ``name`` with a smaller batch (for ``configuration``) and narrower
    networks (every configuration: the 2d one may be borrowed by a 2D/3D trainer) for CPU
    schedules. The preprocessed data is shared (same data identifier), only training changes."""
    folder = ws.dataset_folder(dataset_id)
    plans = json.loads((folder / f"{source}.json").read_text())
    plans["plans_name"] = name
    plans["configurations"][configuration]["batch_size"] = batch_size
    for config in plans["configurations"].values():
        if "architecture" in config:
            kwargs = config["architecture"]["arch_kwargs"]
            kwargs["features_per_stage"] = [min(base_features * 2**i, max_features)
                                            for i in range(len(kwargs["features_per_stage"]))]
    (folder / f"{name}.json").write_text(json.dumps(plans, indent=1))
    return name


def write_single_split(ws: Workspace, dataset_id: int, train: Sequence[str], val: Sequence[str]) -> None:
    """Fold 0 trains on ``train`` and validates on ``val`` (nnU-Net's splits_final.json)."""
    path = ws.dataset_folder(dataset_id) / "splits_final.json"
    path.write_text(json.dumps([{"train": list(train), "val": list(val)}], indent=1))


# How a CPU training uses the machine unless the user exported these: one thread, augmentation in the
# training process (one run per core; ``nnUNet_n_proc_DA=1`` overlaps augmentation with one run's steps)
CPU_TRAINING_DEFAULTS = {"nnUNet_n_proc_DA": "0", "nnUNet_weak_threads": "1", "OMP_NUM_THREADS": "1"}


def train(ws: Workspace, dataset_id: int, trainer: str, plans: str, epochs: int, iterations_per_epoch: int,
          val_iterations: int = 2, device: str = "cpu", configuration: str = "3d_fullres", fold: str = "0",
          log: Path | None = None, extra_args: Sequence[str] = (), env: dict[str, str] | None = None) -> float:
    """``nnUNetv2_train`` with our schedule variables; returns peak memory (MiB). On the CPU it trains
    as :data:`CPU_TRAINING_DEFAULTS` says, except for a variable the user exported (nnU-Net's own
    ``nnUNet_n_proc_DA`` among them); on a GPU nnU-Net's own defaults hold. ``env`` overrides all."""
    settings = {"nnUNet_weak_epochs": epochs, "nnUNet_weak_iterations_per_epoch": iterations_per_epoch,
                "nnUNet_weak_val_iterations": val_iterations}
    if device == "cpu":
        settings.update({k: v for k, v in CPU_TRAINING_DEFAULTS.items() if k not in os.environ})
    env = ws.env(**{**settings, **(env or {})})
    return run(["nnUNetv2_train", str(dataset_id), configuration, fold, "-tr", trainer, "-p", plans,
                "-device", device, *extra_args], env, log)


def predict(ws: Workspace, dataset_id: int, images: Path, output: Path, trainer: str, plans: str,
            device: str = "cpu", configuration: str = "3d_fullres", fold: str = "0", tta: bool = False,
            log: Path | None = None, checkpoint: str = "checkpoint_final.pth") -> None:
    cmd = ["nnUNetv2_predict", "-i", str(images), "-o", str(output), "-d", str(dataset_id), "-c", configuration,
           "-f", fold, "-tr", trainer, "-p", plans, "-device", device, "-npp", "1", "-nps", "1",
           "-chk", checkpoint, "--disable_progress_bar"]
    if not tta:
        cmd.append("--disable_tta")
    run(cmd, ws.env(OMP_NUM_THREADS=1), log)
