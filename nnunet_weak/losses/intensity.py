"""Image intensities for the regularisers that compare them (CRF and variance losses)."""

from __future__ import annotations

import torch


def unit_range(data: torch.Tensor, low_quantile: float = 0.01, high_quantile: float = 0.99) -> torch.Tensor:
    """The first channel of a batch rescaled per sample to [0, 1] by its 1st-99th percentile.

    The gated CRF's intensity bandwidth (``sigma_i``) and the variance loss then mean the same for
    every scanner and normalisation scheme.

    Args:
        data: ``(B, M, *spatial)`` image batch, M >= 1 channels (the first is used).
        low_quantile: quantile mapped to 0 (values below clip to 0).
        high_quantile: quantile mapped to 1 (values above clip to 1).

    Returns ``(B, 1, *spatial)`` float32 in [0, 1]; a constant sample maps to 0.

    Raises:
        ValueError: for ``data`` without a channel and a spatial axis, or quantiles outside
            ``0 <= low < high <= 1``.
    """
    if data.ndim < 3:
        raise ValueError(f"data must be (B, M, *spatial), got shape {tuple(data.shape)}")
    if not 0 <= low_quantile < high_quantile <= 1:
        raise ValueError(f"need 0 <= low_quantile < high_quantile <= 1, got {low_quantile}, {high_quantile}")
    x = data[:, :1].float()
    flat = x.flatten(1)
    shape = (-1, *[1] * (x.ndim - 1))
    low = torch.quantile(flat, low_quantile, dim=1).view(shape)
    high = torch.quantile(flat, high_quantile, dim=1).view(shape)
    return ((x - low) / (high - low).clamp_min(1e-6)).clamp(0, 1)
