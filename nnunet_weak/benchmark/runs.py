"""What every benchmark run shares, ``nnunet-weak benchmark`` and ``benchmarks/run.py`` alike:
the schedules, the held-out test split, results-folder names for settings, continuing an
interrupted training, and the seconds per iteration read back from nnU-Net's training log."""

from __future__ import annotations

import hashlib
from pathlib import Path

from nnunet_weak.pipeline import CPU_PLANS

# schedule: epochs, iterations per epoch, plans, device, test-time mirroring
SCHEDULES: dict[str, tuple[int, int, str, str, bool]] = {
    "cpu-1k": (20, 50, CPU_PLANS, "cpu", False),
    "cpu-2k": (40, 50, CPU_PLANS, "cpu", False),
    "cpu-4k": (80, 50, CPU_PLANS, "cpu", False),
    "smoke": (2, 5, CPU_PLANS, "cpu", False),
    "gpu-stock": (1000, 250, "nnUNetPlans", "cuda", True),
}


def test_split(cases: list[str]) -> list[str]:
    """Fixed held-out test cases: every fifth case in sorted order."""
    return [c for i, c in enumerate(sorted(cases)) if i % 5 == 4]


def settings_tag(settings: dict[str, str]) -> str:
    """Folder-name suffix naming the settings of a run. A value with a path separator (a checkpoint
    given to stage 2) would nest folders and outgrow file-name limits, so it is named by its file
    name and a digest of the whole path: distinct files stay distinct runs."""
    parts = []
    for name, value in sorted(settings.items()):
        if "/" in value or "\\" in value:
            value = f"{Path(value).stem}-{hashlib.sha1(value.encode()).hexdigest()[:8]}"
        parts.append(f"__{name.removeprefix('nnUNet_weak_')}-{value}")
    return "".join(parts)


def resume_arguments(results: Path) -> list[str]:
    """``["--c"]`` where an interrupted training left its checkpoint_latest.pth (the runners have it
    written every 5 epochs, 250 iterations), so that nnU-Net continues it instead of starting over."""
    if (results / "checkpoint_latest.pth").is_file() and not (results / "checkpoint_final.pth").is_file():
        print(f"continuing the interrupted training in {results} (--c)")
        return ["--c"]
    return []


def training_log_seconds_per_iteration(results_folder: Path, iterations_per_epoch: int) -> float:
    """Mean epoch time (s) from nnU-Net's training log (first epoch left out: warm-up), per iteration."""
    logs = sorted(results_folder.glob("training_log_*.txt"))
    times = []
    for log in logs:
        for line in log.read_text().splitlines():
            if "Epoch time:" in line:
                times.append(float(line.split("Epoch time:")[1].split("s")[0]))
    times = times[1:] if len(times) > 1 else times
    return sum(times) / len(times) / iterations_per_epoch if times else float("nan")
