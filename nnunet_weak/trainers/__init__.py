"""Trainers for ``nnUNetv2_train -tr``; each is a thin nnUNetTrainer subclass."""

from nnunet_weak.trainers.benchmark import nnUNetTrainerBenchmark

__all__ = ["nnUNetTrainerBenchmark"]
