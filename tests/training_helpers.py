"""Drive a trainer through the stock commands: train, kill mid-run, check the checkpoint restores
every network, resume with --c, re-validate with --val, predict with nnUNetv2_predict."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import torch

from nnunet_weak.pipeline import Workspace, executable


def train_env(ws: Workspace, epochs: int = 4) -> dict:
    return ws.env(nnUNet_n_proc_DA=0, nnUNet_weak_epochs=epochs, nnUNet_weak_iterations_per_epoch=2,
                  nnUNet_weak_val_iterations=1, nnUNet_weak_save_every=1, nnUNet_weak_threads=1, OMP_NUM_THREADS=1)


def train_cmd(dataset_id: int, trainer: str, plans: str) -> list[str]:
    return [executable("nnUNetv2_train"), str(dataset_id), "3d_fullres", "0", "-tr", trainer, "-p", plans,
            "-device", "cpu"]


def fold_folder(ws: Workspace, dataset_name: str, trainer: str, plans: str) -> Path:
    return ws.results / dataset_name / f"{trainer}__{plans}__3d_fullres" / "fold_0"


def train_until_epoch_then_kill(ws: Workspace, dataset_id: int, trainer: str, plans: str, log: Path,
                                epoch: int = 2, extra_args: tuple = (), **env) -> str:
    """Start nnUNetv2_train, SIGKILL it once epoch ``epoch`` has started (so checkpoint_latest from
    epoch ``epoch - 1`` is complete), return its output."""
    with open(log, "w") as out:
        process = subprocess.Popen([*train_cmd(dataset_id, trainer, plans), *extra_args], env={**train_env(ws), **env},
                                   stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 600
    while f"Epoch {epoch}" not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.time() < deadline, f"training did not reach epoch {epoch}"
        time.sleep(1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return log.read_text()


def assert_checkpoint_restores_everything(ws: Workspace, dataset_id: int, trainer_name: str, plans: str,
                                          checkpoint_file: Path, monkeypatch) -> dict:
    """Load ``checkpoint_file`` into a fresh trainer: the main and every extra network and
    optimiser must equal what was stored."""
    checkpoint = torch.load(checkpoint_file, map_location="cpu", weights_only=False)
    for key, value in ws.env().items():
        if key.startswith("nnUNet_"):
            monkeypatch.setenv(key, value)
    from nnunetv2.run.run_training import get_trainer_from_args

    trainer = get_trainer_from_args(str(dataset_id), "3d_fullres", 0, trainer_name, plans,
                                    device=torch.device("cpu"))
    trainer.load_checkpoint(str(checkpoint_file))
    assert trainer.current_epoch == checkpoint["current_epoch"]
    restored = {"network": (trainer.network, trainer.optimizer, checkpoint["network_weights"],
                            checkpoint["optimizer_state"])}
    for name, stored in checkpoint.get("extra_networks", {}).items():
        extra = trainer.extra_networks[name]
        restored[name] = (extra.module, extra.optimizer, stored["network_weights"], stored["optimizer_state"])
    for name, stored in checkpoint.get("frozen_networks", {}).items():
        frozen = trainer.frozen_networks[name]
        assert not frozen.training and not any(p.requires_grad for p in frozen.parameters())
        for key, tensor in stored["network_weights"].items():
            assert torch.equal(frozen.state_dict()[key], tensor), (name, key)
    for name, (network, optimizer, weights, optimizer_state) in restored.items():
        for key, tensor in weights.items():
            assert torch.equal(network.state_dict()[key], tensor), (name, key)
        momentum = [s["momentum_buffer"] for s in optimizer.state_dict()["state"].values()]
        stored_momentum = [s["momentum_buffer"] for s in optimizer_state["state"].values()]
        assert momentum and all(torch.equal(a, b) for a, b in zip(momentum, stored_momentum, strict=True)), name
    return checkpoint


def resume_validate_predict(ws: Workspace, dataset_id: int, trainer: str, plans: str, fold: Path,
                            images: list[Path], output: Path, epochs: int = 4, **env) -> None:
    cmd = train_cmd(dataset_id, trainer, plans)
    resumed = subprocess.run([*cmd, "--c"], env={**train_env(ws, epochs), **env}, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "Epoch 2" in resumed.stdout and "Epoch 1\n" not in resumed.stdout
    final = torch.load(fold / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    assert final["current_epoch"] == epochs
    val = subprocess.run([*cmd, "--val"], env={**train_env(ws, epochs), **env}, capture_output=True, text=True)
    assert val.returncode == 0 and (fold / "validation" / "summary.json").is_file(), val.stderr[-3000:]
    predict_cases(ws, dataset_id, trainer, plans, images, output)


def predict_cases(ws: Workspace, dataset_id: int, trainer: str, plans: str, images: list[Path],
                  output: Path, checkpoint: str = "checkpoint_final.pth") -> None:
    folder = output.parent / f"{output.name}_images"
    folder.mkdir()
    for image in images:
        (folder / image.name).symlink_to(image)
    predict = subprocess.run([executable("nnUNetv2_predict"), "-i", str(folder), "-o", str(output),
                              "-d", str(dataset_id), "-c", "3d_fullres", "-f", "0", "-tr", trainer, "-p", plans,
                              "-device", "cpu", "--disable_tta", "-npp", "1", "-nps", "1", "-chk", checkpoint],
                             env=ws.env(), capture_output=True, text=True)
    assert predict.returncode == 0, predict.stderr[-3000:]
    expected = sorted(i.name.replace("_0000", "") for i in images)
    assert sorted(p.name for p in output.glob("*.nii.gz")) == expected
