# Imported by nnU-Net's trainer lookup (nnUNet_extTrainer) as a top-level module, only when the
# user adds this folder (nnunet-weak ext-trainer-path --experimental).
# Re-exports, never defines: the classes must be those of the nnunet_weak package.
from nnunet_weak.trainers.experimental import *  # noqa: F401,F403
