"""Trainers for ``nnUNetv2_train -tr``; each is a thin nnUNetTrainer subclass."""

from nnunet_weak.trainers.benchmark import nnUNetTrainerBenchmark, nnUNetTrainerBenchmarkCELoss
from nnunet_weak.trainers.cross_teach import nnUNetTrainerCrossTeach, nnUNetTrainerCrossTeach_AllSlices
from nnunet_weak.trainers.dual_task import (
    nnUNetTrainerDTML,
    nnUNetTrainerDTMLEnsemble,
    nnUNetTrainerSDFDualHead,
    nnUNetTrainerSDFDualHeadEnsemble,
)
from nnunet_weak.trainers.point_seg import (
    nnUNetTrainerPointSeg,
    nnUNetTrainerPointSegMergedCRF,
    nnUNetTrainerPointSegSelfCorrect,
)
from nnunet_weak.trainers.point_seg_scm import nnUNetTrainerPointSegResEnc, nnUNetTrainerPointSegSCM

__all__ = [
    "nnUNetTrainerBenchmark",
    "nnUNetTrainerBenchmarkCELoss",
    "nnUNetTrainerCrossTeach",
    "nnUNetTrainerCrossTeach_AllSlices",
    "nnUNetTrainerDTML",
    "nnUNetTrainerDTMLEnsemble",
    "nnUNetTrainerPointSeg",
    "nnUNetTrainerPointSegMergedCRF",
    "nnUNetTrainerPointSegResEnc",
    "nnUNetTrainerPointSegSCM",
    "nnUNetTrainerPointSegSelfCorrect",
    "nnUNetTrainerSDFDualHead",
    "nnUNetTrainerSDFDualHeadEnsemble",
]
