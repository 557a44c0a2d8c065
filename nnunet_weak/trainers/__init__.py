"""The recommended trainers for ``nnUNetv2_train -tr``, each a thin nnUNetTrainer subclass, and the
two predict-only ensembles ``nnUNetv2_predict`` finds through a checkpoint's ``trainer_name``.

Experimental and diagnostic trainers are in :mod:`nnunet_weak.trainers.experimental`, found by
nnU-Net only through the opt-in folder :data:`nnunet_weak.ext_trainer.EXPERIMENTAL_FOLDER`.
"""

from nnunet_weak.trainers.benchmark import nnUNetTrainerBenchmark
from nnunet_weak.trainers.cross_teach import nnUNetTrainerCrossTeach
from nnunet_weak.trainers.dual_task import (
    nnUNetTrainerDTML,
    nnUNetTrainerDTMLEnsemble,
    nnUNetTrainerSDFDualHead,
    nnUNetTrainerSDFDualHeadEnsemble,
)
from nnunet_weak.trainers.gated_crf import nnUNetTrainerGatedCRF
from nnunet_weak.trainers.point_seg import nnUNetTrainerPointSeg
from nnunet_weak.trainers.point_seg_scm import nnUNetTrainerPointSegResEnc, nnUNetTrainerPointSegSCM

__all__ = [
    "nnUNetTrainerBenchmark",
    "nnUNetTrainerCrossTeach",
    "nnUNetTrainerDTML",
    "nnUNetTrainerGatedCRF",
    "nnUNetTrainerPointSeg",
    "nnUNetTrainerPointSegResEnc",
    "nnUNetTrainerPointSegSCM",
    "nnUNetTrainerSDFDualHead",
    "nnUNetTrainerDTMLEnsemble",  # predict-only
    "nnUNetTrainerSDFDualHeadEnsemble",  # predict-only
]
PREDICT_ONLY_TRAINERS = ("nnUNetTrainerDTMLEnsemble", "nnUNetTrainerSDFDualHeadEnsemble")
RECOMMENDED_TRAINERS = tuple(name for name in __all__ if name not in PREDICT_ONLY_TRAINERS)
