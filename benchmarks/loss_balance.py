"""Which loss term drives training: gradient norms and per-part losses on real batches.

    # PointSeg: supervised vs CRF vs variance gradient norm, at initialisation and with the weights
    # of a trained network (e.g. the stock trainer's checkpoint_final.pth on the same dataset)
    python benchmarks/loss_balance.py crf -d 118 --weights CHECKPOINT
    # semi-supervised: nnU-Net's loss on the labelled and on the unlabelled patches of DTML batches
    # (labelled 2 + 2 unlabelled), with the weights of one or more checkpoints
    python benchmarks/loss_balance.py unlabelled -d 114 --weights CHECKPOINT [CHECKPOINT ...]

Needs nnUNet_raw / nnUNet_preprocessed (e.g. benchmarks/work/...); plans nnUNetPlans_cpu; one
CPU thread; seeded. The CRF figure is the loss as the trainer computes it (mean of the three
views); the sum over views that the paper weighs is 3x that.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import torch


def build(dataset: str, trainer: str):
    from nnunetv2.run.run_training import get_trainer_from_args

    instance = get_trainer_from_args(dataset, "3d_fullres", 0, trainer, "nnUNetPlans_cpu", device=torch.device("cpu"))
    instance.initialize()
    loader, _ = instance.get_dataloaders()
    return instance, loader


def grad_norm(network, loss) -> float:
    network.zero_grad(set_to_none=True)
    loss.backward(retain_graph=True)
    return float(torch.sqrt(sum((p.grad ** 2).sum() for p in network.parameters() if p.grad is not None)))


def crf(args) -> None:
    from nnunet_weak.losses.crf import variance_loss
    from nnunet_weak.losses.intensity import unit_range
    from nnunet_weak.networks import highest_resolution

    trainer, loader = build(args.d, "nnUNetTrainerPointSeg")
    for name in ["initialisation", *args.weights]:
        if name != "initialisation":
            trainer.network.load_state_dict(torch.load(name, map_location="cpu", weights_only=False)["network_weights"])
        for _ in range(args.batches):
            data, target, _, _ = trainer.unpack_batch(next(loader))
            output = trainer.network(data)
            probs = highest_resolution(output).float().softmax(1)
            image = unit_range(data)
            terms = {"supervised": trainer.loss(output, target), "crf": trainer.crf(probs, image),
                     "variance": variance_loss(probs, image)}
            print(name, ", ".join(f"{k} {v.item():.4f} (grad {grad_norm(trainer.network, v):.3f})"
                                  for k, v in terms.items()))


def unlabelled(args) -> None:
    os.environ["nnUNet_weak_unlabelled_on_top"] = "1"
    trainer, loader = build(args.d, "nnUNetTrainerDTML")
    for path in args.weights:
        trainer.network.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["network_weights"])
        for _ in range(args.batches):
            data, target, _, annotated = trainer.unpack_batch(next(loader))
            labelled = annotated.flatten(1).all(1)
            for part, keep in (("labelled", labelled), ("unlabelled", ~labelled)):
                output = trainer.network(data[keep])
                loss = trainer.loss(output, [t[keep] for t in target])
                print(path, part, f"loss {loss.item():.4f} (grad {grad_norm(trainer.network, loss):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["crf", "unlabelled"])
    parser.add_argument("-d", required=True)
    parser.add_argument("--weights", nargs="*", default=[])
    parser.add_argument("--batches", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("nnUNet_n_proc_DA", "0")
    os.environ.setdefault("nnUNet_results", tempfile.mkdtemp())
    np.random.seed(0)
    torch.manual_seed(0)
    {"crf": crf, "unlabelled": unlabelled}[args.what](args)


if __name__ == "__main__":
    main()
