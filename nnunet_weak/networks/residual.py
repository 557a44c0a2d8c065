"""A residual-encoder U-Net with the plans' stages, for a second, differently built network."""

from __future__ import annotations

import copy

RESENC = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet"
# blocks per encoder stage of nnU-Net's ResEnc presets (nnUNetPlannerResEncM/L/XL)
RESENC_BLOCKS = (1, 3, 4, 6, 6, 6, 6, 6, 6, 6)


def residual_encoder_architecture(plain: dict) -> dict:
    """nnU-Net's ResEnc U-Net with the stages, widths, kernels and strides of a plain-U-Net
    ``architecture`` entry of the plans (what nnU-Net's ResEnc planners build, without re-planning)."""
    if plain["network_class_name"] == RESENC:
        return copy.deepcopy(plain)
    arch = copy.deepcopy(plain)
    kwargs = arch["arch_kwargs"]
    n_stages = kwargs["n_stages"]
    if n_stages > len(RESENC_BLOCKS):
        raise ValueError(f"{n_stages} stages: more than nnU-Net's ResEnc presets define")
    kwargs.pop("n_conv_per_stage")
    kwargs["n_blocks_per_stage"] = list(RESENC_BLOCKS[:n_stages])
    arch["network_class_name"] = RESENC
    return arch
