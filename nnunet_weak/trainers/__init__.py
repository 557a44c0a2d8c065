"""Trainers for ``nnUNetv2_train -tr``; each is a thin nnUNetTrainer subclass."""

from nnunet_weak.trainers.benchmark import nnUNetTrainerBenchmark
from nnunet_weak.trainers.cross_teach import nnUNetTrainerCrossTeach

__all__ = ["nnUNetTrainerBenchmark", "nnUNetTrainerCrossTeach"]
