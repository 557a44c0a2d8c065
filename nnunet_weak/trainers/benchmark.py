"""``nnUNetTrainerBenchmark``: the stock trainer, for baselines that share our schedule."""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.training.nnUNetTrainer.variants.loss.nnUNetTrainerCELoss import nnUNetTrainerCELoss

from nnunet_weak.trainers.schedule import ScheduleFromEnvironment


class nnUNetTrainerBenchmark(ScheduleFromEnvironment, nnUNetTrainer):
    """Stock ``nnUNetTrainer`` (losses, ignore-label handling, augmentation, everything), except
    that epochs, iterations and CPU threads may come from ``nnUNet_weak_*`` environment variables
    (see :mod:`nnunet_weak.trainers.schedule`). With none set it *is* the stock trainer. Baseline
    rows in ``benchmarks/RESULTS.md`` use it so they run the same schedule as our methods."""


class nnUNetTrainerBenchmarkCELoss(ScheduleFromEnvironment, nnUNetTrainerCELoss):
    """nnU-Net's own ``nnUNetTrainerCELoss`` (cross-entropy only, no Dice term; ignore label and
    deep supervision as stock) on the same schedule: a baseline that tells how much of a result
    comes from the Dice term."""
