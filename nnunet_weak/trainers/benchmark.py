"""``nnUNetTrainerBenchmark``: the stock trainer, for baselines that share our schedule."""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.trainers.schedule import ScheduleFromEnvironment


class nnUNetTrainerBenchmark(ScheduleFromEnvironment, nnUNetTrainer):
    """Stock ``nnUNetTrainer`` (losses, ignore-label handling, augmentation, everything), except
    that epochs, iterations and CPU threads may come from ``nnUNet_weak_*`` environment variables
    (see :mod:`nnunet_weak.trainers.schedule`). With none set it *is* the stock trainer. Baseline
    rows in ``benchmarks/RESULTS.md`` use it so they run the same schedule as our methods."""
