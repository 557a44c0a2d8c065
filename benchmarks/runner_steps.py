"""The nnU-Net step only the benchmark runner takes: predicting with one checkpoint (the seconds
per iteration: ``nnunet_weak/benchmark/runs.py``).

The steps users and the demo share (plan, at another target spacing too, shrink the plans for a
CPU, train, predict) live in
``nnunet_weak/pipeline.py``; these build on its ``run`` so the benchmarks still drive the stock
commands exactly as a user would type them.
"""

from __future__ import annotations

import os
from pathlib import Path

from nnunet_weak.pipeline import run


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
