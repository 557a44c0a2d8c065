"""nnU-Net steps only the benchmark runner takes: planning at another target spacing and
predicting with one checkpoint (the seconds per iteration: ``nnunet_weak/benchmark/runs.py``).

The steps users and the demo share (plan, shrink the plans for a CPU, train, predict) live in
``nnunet_weak/pipeline.py``; these build on its ``run`` so the benchmarks still drive the stock
commands exactly as a user would type them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from nnunet_weak.pipeline import Workspace, plan_and_preprocess, run


def plans_name_for(target_spacing: Sequence[float] | None) -> str:
    """nnUNetPlans, or nnUNetPlans_<spacing>mm for plans made for another target spacing."""
    if target_spacing is None:
        return "nnUNetPlans"
    return "nnUNetPlans_" + "x".join(f"{s:g}" for s in target_spacing) + "mm"


def plan_at_spacing(ws: Workspace, dataset_id: int, target_spacing: Sequence[float] | None,
                    log: Path | None = None, processes: int = 2) -> str:
    """Plan and preprocess (3d_fullres) with the stock command; returns the plans' name. With
    ``target_spacing`` nnU-Net plans for that spacing instead of its own (patch size and network
    follow from it) and writes the plans as ``nnUNetPlans_<spacing>mm``, leaving nnUNetPlans free
    for the stock plan."""
    extra, name = [], plans_name_for(target_spacing)
    if target_spacing is not None:
        extra = ["-overwrite_target_spacing", *(f"{s:g}" for s in target_spacing), "-overwrite_plans_name", name]
    plan_and_preprocess(ws, dataset_id, log=log, processes=processes, extra_args=extra)
    return name


def predict_from_checkpoint(checkpoint: Path, images: Path, output: Path, device: str = "cpu",
                            log: Path | None = None, probabilities: bool = True) -> None:
    """Predict with the network of one checkpoint, found by nnU-Net's folder layout
    (``<trainer>__<plans>__<configuration>/fold_<f>/<checkpoint>.pth``), saving the class probabilities
    (``<case>.npz``) as well unless told not to (a self-training teacher's input to ``pseudo-label``)."""
    checkpoint = Path(checkpoint)
    fold = checkpoint.parent.name
    if not checkpoint.is_file() or not fold.startswith("fold_"):
        raise FileNotFoundError(f"{checkpoint}: expected an nnU-Net checkpoint at <model folder>/fold_<f>/<name>.pth")
    cmd = ["nnUNetv2_predict_from_modelfolder", "-i", str(images), "-o", str(output),
           "-m", str(checkpoint.parent.parent), "-f", fold.removeprefix("fold_"), "-chk", checkpoint.name,
           "-device", device, "-npp", "1", "-nps", "1", "--disable_tta", "--disable_progress_bar"]
    if probabilities:
        cmd.append("--save_probabilities")
    run(cmd, dict(os.environ, OMP_NUM_THREADS="1"), log)
