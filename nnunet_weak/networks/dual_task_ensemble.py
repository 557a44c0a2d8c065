"""Prediction-time ensembles of the dual-task trainers' two outputs (segmentation and signed
distance maps), as ordinary networks that nnU-Net's predictor calls with ``network(x)``.

Each returns :func:`nnunet_weak.networks.signed_distance.ensemble_log_probabilities` as its logits; the ``k`` of
``sigmoid(-k phi)`` is a buffer, so it travels in the checkpoint with the weights.
"""

from __future__ import annotations

import torch
from torch import nn

from nnunet_weak.networks import highest_resolution
from nnunet_weak.networks.sdf_head import SDFHeadUNet
from nnunet_weak.networks.signed_distance import ensemble_log_probabilities


class DualNetworkEnsemble(nn.Module):
    """DTML's segmentation network and distance-map network side by side."""

    def __init__(self, segmentation: nn.Module, distance: nn.Module, k: float = 1500.0):
        super().__init__()
        self.segmentation = segmentation
        self.distance = distance
        self.register_buffer("sdf_k", torch.tensor(float(k)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        segmentation = highest_resolution(self.segmentation(x))
        return ensemble_log_probabilities(segmentation, torch.tanh(self.distance(x)), float(self.sdf_k))


class SDFHeadEnsemble(nn.Module):
    """The dual-head network (:class:`SDFHeadUNet`): both heads of the one network."""

    def __init__(self, network: SDFHeadUNet, k: float = 1500.0):
        super().__init__()
        self.network = network
        self.register_buffer("sdf_k", torch.tensor(float(k)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        segmentation, sdf_logits = self.network.both_heads(x)
        return ensemble_log_probabilities(highest_resolution(segmentation), torch.tanh(sdf_logits), float(self.sdf_k))
