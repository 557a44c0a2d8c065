"""Build a network from an ``architecture`` entry of nnU-Net's plans: the one builder every trainer uses."""

from __future__ import annotations

from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from torch import nn


def network_from_architecture(architecture: dict, input_channels: int, output_channels: int,
                              deep_supervision: bool) -> nn.Module:
    """The network an ``architecture`` dict of the plans (``network_class_name``, ``arch_kwargs``,
    ``_kw_requires_import``) describes, initialised as nnU-Net initialises its own."""
    return get_network_from_plans(architecture["network_class_name"], architecture["arch_kwargs"],
                                  architecture["_kw_requires_import"], input_channels, output_channels,
                                  allow_init=True, deep_supervision=deep_supervision)
