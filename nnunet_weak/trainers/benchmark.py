"""``nnUNetTrainerBenchmark``: the stock trainer on the schedule every benchmark row shares."""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_weak.trainers.schedule import ScheduleFromEnvironment


class nnUNetTrainerBenchmark(ScheduleFromEnvironment, nnUNetTrainer):
    """The stock nnUNetTrainer + the nnUNet_weak_* environment schedule; the baseline.

    Losses, ignore-label handling, augmentation, everything is nnU-Net's; only epochs, iterations
    and CPU threads may come from ``nnUNet_weak_*`` environment variables (see
    :mod:`nnunet_weak.trainers.schedule`). With none set it *is* the stock trainer. Baseline rows in
    ``benchmarks/RESULTS.md`` use it so they run the same schedule as our methods."""
