"""nnUNetTrainerCrossTeach on real sparse slices through the stock commands: train, kill,
resume with --c, --val, and nnUNetv2_predict."""

import os
import signal
import subprocess
import time

import pytest
import torch

from nnunet_weak.pipeline import executable

pytestmark = pytest.mark.slow
TRAINER = "nnUNetTrainerCrossTeach"


def train_env(ws, epochs=4):
    return ws.env(nnUNet_n_proc_DA=0, nnUNet_weak_epochs=epochs, nnUNet_weak_iterations_per_epoch=2,
                  nnUNet_weak_val_iterations=1, nnUNet_weak_save_every=1, nnUNet_weak_threads=1, OMP_NUM_THREADS=1)


def test_cross_teach_trains_resumes_every_network_and_predicts(planned_sparse_sample, tmp_path, monkeypatch):
    ws, dense, plans, test_cases = planned_sparse_sample
    cmd = [executable("nnUNetv2_train"), "992", "3d_fullres", "0", "-tr", TRAINER, "-p", plans, "-device", "cpu"]
    fold = ws.results / "Dataset992_SampleSlices" / f"{TRAINER}__{plans}__3d_fullres" / "fold_0"
    log = tmp_path / "first.log"

    # 1. start training and kill it hard once epoch 1's checkpoint is on disk and epoch 2 runs
    with open(log, "w") as out:
        process = subprocess.Popen(cmd, env=train_env(ws), stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    deadline = time.time() + 400
    while "Epoch 2" not in log.read_text():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.time() < deadline, "training did not reach epoch 2"
        time.sleep(1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    text = log.read_text()
    assert "CrossTeach: sparse slices along patch axes [0, 1] (from annotation.json)" in text
    assert not (fold / "checkpoint_final.pth").exists()

    # 2. the checkpoint holds the 3D network where nnU-Net expects it and both 2D networks beside it
    checkpoint = torch.load(fold / "checkpoint_latest.pth", map_location="cpu", weights_only=False)
    assert checkpoint["current_epoch"] == 2
    assert set(checkpoint["extra_networks"]) == {"slices_axis0", "slices_axis1"}

    # 3. loading it restores every network and optimiser exactly
    for key, value in ws.env().items():
        if key.startswith("nnUNet_"):
            monkeypatch.setenv(key, value)
    from nnunetv2.run.run_training import get_trainer_from_args

    trainer = get_trainer_from_args("992", "3d_fullres", 0, TRAINER, plans, device=torch.device("cpu"))
    trainer.load_checkpoint(str(fold / "checkpoint_latest.pth"))
    assert trainer.current_epoch == 2
    for name, stored in checkpoint["extra_networks"].items():
        extra = trainer.extra_networks[name]
        for key, tensor in stored["network_weights"].items():
            assert torch.equal(extra.module.state_dict()[key], tensor), (name, key)
        momentum = [s["momentum_buffer"] for s in extra.optimizer.state_dict()["state"].values()]
        stored_momentum = [s["momentum_buffer"] for s in stored["optimizer_state"]["state"].values()]
        assert len(momentum) > 0 and all(torch.equal(a, b) for a, b in zip(momentum, stored_momentum, strict=True))

    # 4. --c finishes from epoch 2, --val re-runs validation, nnUNetv2_predict uses the 3D network
    resumed = subprocess.run([*cmd, "--c"], env=train_env(ws), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert "Epoch 2" in resumed.stdout and "Epoch 1\n" not in resumed.stdout
    assert torch.load(fold / "checkpoint_final.pth", map_location="cpu", weights_only=False)["current_epoch"] == 4
    val = subprocess.run([*cmd, "--val"], env=train_env(ws), capture_output=True, text=True)
    assert val.returncode == 0 and (fold / "validation" / "summary.json").is_file(), val.stderr[-3000:]

    images = tmp_path / "images"
    images.mkdir()
    for case in test_cases:
        (images / f"{case}_0000.nii.gz").symlink_to(dense.image_files(case)[0])
    predict = subprocess.run([executable("nnUNetv2_predict"), "-i", str(images), "-o", str(tmp_path / "pred"),
                              "-d", "992", "-c", "3d_fullres", "-f", "0", "-tr", TRAINER, "-p", plans,
                              "-device", "cpu", "--disable_tta", "-npp", "1", "-nps", "1"],
                             env=ws.env(), capture_output=True, text=True)
    assert predict.returncode == 0, predict.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "pred").glob("*.nii.gz")) == [f"{c}.nii.gz" for c in test_cases]
