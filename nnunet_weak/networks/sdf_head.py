"""An nnU-Net U-Net with an extra signed-distance head on its last decoder features (DTC-style
dual-task single network). In eval mode it returns the segmentation only, so nnU-Net's
predictor, which calls ``network(x)``, sees an ordinary segmentation network."""

from __future__ import annotations

import torch
from torch import nn

from nnunet_weak.nnunet_adapter import output_layer


class SDFHeadUNet(nn.Module):
    """Wraps a dynamic-network-architectures U-Net (anything with ``decoder.seg_layers``).

    Args:
        unet: the segmentation network built from nnU-Net's plans.
        sdf_channels: distance maps to predict (one per foreground class).

    Training mode returns ``(segmentation output(s), sdf logits (B, sdf_channels, *spatial))``;
    eval mode returns the segmentation output(s) only. Apply tanh to the sdf logits.
    """

    def __init__(self, unet: nn.Module, sdf_channels: int):
        super().__init__()
        self.unet = unet
        last = output_layer(unet)
        conv = type(last)
        self.sdf_head = conv(last.in_channels, sdf_channels, kernel_size=1, bias=True)
        self._features: torch.Tensor | None = None
        last.register_forward_pre_hook(self._keep_features)

    def _keep_features(self, module, inputs):
        self._features = inputs[0]

    @property
    def decoder(self):  # nnU-Net switches deep supervision through network.decoder
        return self.unet.decoder

    def both_heads(self, x: torch.Tensor):
        """``(segmentation output(s), sdf logits)`` in either mode."""
        segmentation = self.unet(x)
        features, self._features = self._features, None  # do not keep activations alive
        return segmentation, self.sdf_head(features)

    def forward(self, x: torch.Tensor):
        if self.training:
            return self.both_heads(x)
        segmentation, self._features = self.unet(x), None
        return segmentation
