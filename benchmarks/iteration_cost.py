"""Seconds per training iteration of several trainers, measured in one process, interleaved.

    python benchmarks/iteration_cost.py -d 111 -p nnUNetPlans_cpu \\
        -tr nnUNetTrainerBenchmark nnUNetTrainerCrossTeach --rounds 5 --steps 4

Each trainer is built as ``nnUNetv2_train`` builds it, then the trainers take turns running
``--steps`` training iterations (data loading included) for ``--rounds`` rounds, so machine load
hits all of them alike; the first round is warm-up and left out. Needs nnUNet_raw,
nnUNet_preprocessed (the dataset planned and preprocessed) and nnUNet_results (a scratch folder).
``-tr NAME:attr=value`` overrides a class attribute (e.g. ``nnUNetTrainerCrossTeach:train_slice_fraction=0.5``).
"""

from __future__ import annotations

import argparse
import os
import time

import torch


def build(dataset: str, trainer: str, plans: str):
    from nnunetv2.run.run_training import get_trainer_from_args

    name, _, override = trainer.partition(":")
    instance = get_trainer_from_args(dataset, "3d_fullres", 0, name, plans, device=torch.device("cpu"))
    if override:
        attribute, value = override.split("=")
        setattr(instance, attribute, type(getattr(instance, attribute))(value))
    instance.on_train_start()
    instance.on_train_epoch_start()
    return instance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-d", required=True)
    parser.add_argument("-p", default="nnUNetPlans_cpu")
    parser.add_argument("-tr", nargs="+", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("nnUNet_n_proc_DA", "0")
    torch.set_num_threads(1)
    trainers = {name: build(args.d, name, args.p) for name in args.tr}
    torch.set_num_threads(1)
    times = {name: [] for name in trainers}
    for round_ in range(args.rounds):
        for name, trainer in trainers.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                trainer.train_step(next(trainer.dataloader_train))
            if round_ > 0:
                times[name].append((time.perf_counter() - start) / args.steps)
    reference = sum(times[args.tr[0]]) / len(times[args.tr[0]])
    for name, values in times.items():
        mean = sum(values) / len(values)
        print(f"{name}: {mean:.3f} s/it ({mean / reference:.2f}x {args.tr[0]})")
    for trainer in trainers.values():
        trainer.on_train_end()


if __name__ == "__main__":
    main()
