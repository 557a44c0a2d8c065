"""2D networks for slices of a 3D patch, built from nnU-Net's plans.

For slices along (transposed) axis 0 whose spacing and size the plans' ``2d`` configuration was
planned for, that configuration's architecture is used. Otherwise (other orientations,
anisotropic planes, a 2D plan whose strides do not divide the slice) the 3D architecture is
turned 2D by dropping the sliced axis from every kernel size and stride: it fits every slice of
the 3D patch by construction and keeps the 3D plan's handling of anisotropy (a thick axis keeps
its 1-wide kernels and small strides).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

_TO_2D = {
    "torch.nn.modules.conv.Conv3d": "torch.nn.modules.conv.Conv2d",
    "torch.nn.modules.instancenorm.InstanceNorm3d": "torch.nn.modules.instancenorm.InstanceNorm2d",
    "torch.nn.modules.batchnorm.BatchNorm3d": "torch.nn.modules.batchnorm.BatchNorm2d",
    "torch.nn.modules.dropout.Dropout3d": "torch.nn.modules.dropout.Dropout2d",
}
_PER_STAGE_AXES = ("kernel_sizes", "strides")


def derive_2d_architecture(architecture: dict, axis: int) -> dict:
    """The 3D ``architecture`` entry of a plans configuration with spatial ``axis`` removed."""
    arch = copy.deepcopy(architecture)
    kwargs = arch["arch_kwargs"]
    for key in _PER_STAGE_AXES:
        kwargs[key] = [[k for i, k in enumerate(stage) if i != axis] for stage in kwargs[key]]
    for key, value in kwargs.items():
        if isinstance(value, str) and value in _TO_2D:
            kwargs[key] = _TO_2D[value]
        elif isinstance(value, str) and value.endswith("3d"):
            raise ValueError(f"do not know the 2D counterpart of {key}={value}")
    return arch


def fits(architecture: dict, slice_shape: Sequence[int]) -> bool:
    """Do the architecture's strides divide ``slice_shape`` on every axis?"""
    total = np.prod(np.array(architecture["arch_kwargs"]["strides"]), axis=0)
    return len(total) == len(slice_shape) and all(s % t == 0 for s, t in zip(slice_shape, total, strict=True))


def choose_2d_architecture(architecture_3d: dict, spacing_3d: Sequence[float], axis: int, slice_shape: Sequence[int],
                           config_2d: dict | None) -> tuple[dict, str]:
    """Pick the 2D architecture for slices along ``axis``; returns it and a sentence saying why.

    ``config_2d``: the plans' ``2d`` configuration (with ``architecture`` and ``spacing``) or None.
    """
    in_plane = [s for i, s in enumerate(spacing_3d) if i != axis]
    if config_2d is not None and axis == 0:
        same_spacing = np.allclose(config_2d["spacing"], in_plane, rtol=1e-3)
        if same_spacing and fits(config_2d["architecture"], slice_shape):
            return copy.deepcopy(config_2d["architecture"]), "the plans' 2d configuration"
    reason = "derived from the 3D architecture"
    if config_2d is not None and axis == 0:
        reason += " (the 2d configuration's spacing or strides do not fit these slices)"
    return derive_2d_architecture(architecture_3d, axis), reason


def deep_supervision_scales(architecture: dict) -> list[list[float]]:
    """Output scales of a U-Net with deep supervision, highest resolution first (nnU-Net's rule)."""
    strides = np.array(architecture["arch_kwargs"]["strides"], dtype=float)
    return [list(s) for s in 1 / np.cumprod(strides, axis=0)][:-1]
