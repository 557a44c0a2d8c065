# Imported by nnU-Net's trainer lookup (nnUNet_extTrainer) as a top-level module.
# Re-exports, never defines: the classes must be those of the nnunet_weak package.
from nnunet_weak.trainers import *  # noqa: F401,F403
