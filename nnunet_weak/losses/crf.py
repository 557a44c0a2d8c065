"""Multi-view gated CRF loss (PA-Seg: Zhai et al., "PA-Seg: Learning from Point Annotations for 3D
Medical Image Segmentation using Contextual Regularization and Cross Knowledge Distillation",
IEEE TMI 2023; after the gated CRF loss of Obukhov et al., arXiv:1906.04651, 2019).

For every voxel i and every neighbour j in a ``window x window`` neighbourhood within a 2D plane:

    L = 1/N sum_i sum_j K_ij (1 - sum_c y_i^c y_j^c),
    K_ij = exp(-|x_i - x_j|^2 / (2 sigma_xy^2)) * exp(-(I_i - I_j)^2 / (2 sigma_I^2))

with y the softmax probabilities (Potts compatibility: zero for a constant labelling), averaged
over the three orthogonal views (planes of the 3D volume) as PA-Seg's released code does. We
measure |x_i - x_j| in mm with the voxel spacing, where PA-Seg counted pixels.

Memory: the pairwise term is accumulated over the window offsets one at a time, and the gradient
is recomputed the same way in a custom backward (dL/dy_i = -(1/N) sum_j (K_ij + K_ji) y_j), so
memory stays O(C x V) instead of materialising all window x window neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def _shift(x: torch.Tensor, offsets: Sequence[int], dims: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``out[i] = x[i + offset]`` along ``dims`` (zero outside), and the validity mask."""
    out = torch.zeros_like(x)
    valid = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    for offset, dim in zip(offsets, dims, strict=True):
        n = x.shape[dim]
        dst[dim] = slice(max(0, -offset), n - max(0, offset))
        src[dim] = slice(max(0, offset), n - max(0, -offset))
    out[tuple(dst)] = x[tuple(src)]
    valid[tuple(dst)] = True
    return out, valid


def _offsets(window: int, dims: Sequence[int], spacing: Sequence[float], sigma_xy: float):
    """(offset per dim, spatial kernel weight) for every non-zero offset of the window."""
    r = window // 2
    for a in range(-r, r + 1):
        for b in range(-r, r + 1):
            if a == 0 and b == 0:
                continue
            d2 = (a * spacing[dims[0] - 2]) ** 2 + (b * spacing[dims[1] - 2]) ** 2
            yield (a, b), math.exp(-d2 / (2 * sigma_xy**2))


def _pairwise(probs, image, dims, window, spacing, sigma_xy, sigma_i, grad: bool):
    """Sum over voxels of the CRF energy in the planes spanned by ``dims``, or its gradient."""
    total = probs.new_zeros(()) if not grad else torch.zeros_like(probs)
    for offset, spatial in _offsets(window, dims, spacing, sigma_xy):
        shifted_p, valid = _shift(probs, offset, dims)
        shifted_i, _ = _shift(image, offset, dims)
        kernel = spatial * torch.exp(-((image - shifted_i) ** 2).sum(1, keepdim=True) / (2 * sigma_i**2))
        kernel = kernel * valid[:, :1]
        if grad:
            # K is symmetric and the window is symmetric: voxel i appears once as centre and once as
            # neighbour with the same weight, hence the factor 2.
            total -= 2 * kernel * shifted_p
        else:
            total += (kernel * (1 - (probs * shifted_p).sum(1, keepdim=True))).sum()
    return total


class _GatedCRF(torch.autograd.Function):
    @staticmethod
    def forward(ctx, probs, image, dims, window, spacing, sigma_xy, sigma_i):
        ctx.save_for_backward(probs, image)
        ctx.settings = (dims, window, spacing, sigma_xy, sigma_i)
        with torch.no_grad():
            return _pairwise(probs, image, dims, window, spacing, sigma_xy, sigma_i, grad=False) / probs[:, 0].numel()

    @staticmethod
    def backward(ctx, grad_output):
        probs, image = ctx.saved_tensors
        dims, window, spacing, sigma_xy, sigma_i = ctx.settings
        with torch.no_grad():
            grad = _pairwise(probs, image, dims, window, spacing, sigma_xy, sigma_i, grad=True)
        return grad * grad_output / probs[:, 0].numel(), None, None, None, None, None, None


class MultiViewGatedCRFLoss(nn.Module):
    """Gated CRF loss averaged over the three orthogonal views of a 3D volume (PA-Seg's
    contextual regularisation; the formula in the module docstring).

    Args:
        window: neighbourhood size within a plane, odd and >= 3 (default 11, as PA-Seg).
        sigma_xy: spatial kernel width in mm (default 6.0; PA-Seg 6, in pixels).
        sigma_i: intensity kernel width, in units of ``image`` (default 0.1, PA-Seg's on
            intensities in [0, 1]).
        spacing: voxel size in mm, (z, y, x) (default 1 mm isotropic).

    Inputs:
        probs: ``(B, C, D, H, W)`` softmax probabilities (any float dtype; computed in float32).
        image: ``(B, M, D, H, W)`` intensities of M modalities, the scale ``sigma_i`` refers to.

    Returns:
        a scalar: the energy summed over each view's neighbourhoods, divided by B*D*H*W (mean over
        voxels), averaged over the three views. 0 for a constant labelling. No reduction option.

    Raises:
        ValueError: an even or too small ``window``; non-positive sigmas; ``spacing`` not three
            positive numbers; ``probs``/``image`` not 5D with the same batch and spatial size.
    """

    def __init__(self, window: int = 11, sigma_xy: float = 6.0, sigma_i: float = 0.1,
                 spacing: Sequence[float] = (1.0, 1.0, 1.0)):
        super().__init__()
        if window < 3 or window % 2 == 0:
            raise ValueError(f"window must be odd and at least 3, got {window}")
        if sigma_xy <= 0 or sigma_i <= 0:
            raise ValueError(f"sigma_xy ({sigma_xy}) and sigma_i ({sigma_i}) must be positive")
        if len(spacing) != 3 or any(s <= 0 for s in spacing):
            raise ValueError(f"spacing must be three positive voxel sizes in mm (z, y, x), got {tuple(spacing)}")
        self.window, self.sigma_xy, self.sigma_i = window, sigma_xy, sigma_i
        self.spacing = tuple(float(s) for s in spacing)

    def forward(self, probs: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        if probs.ndim != 5 or image.ndim != 5 or image.shape[0] != probs.shape[0] or image.shape[2:] != probs.shape[2:]:
            raise ValueError(f"probs {tuple(probs.shape)} and image {tuple(image.shape)} must be (B, C|M, D, H, W)")
        probs, image = probs.float(), image.float()
        views = ((3, 4), (2, 4), (2, 3))  # axial (H, W), coronal (D, W), sagittal (D, H) planes
        return sum(_GatedCRF.apply(probs, image, dims, self.window, self.spacing, self.sigma_xy, self.sigma_i)
                   for dims in views) / len(views)


def merge_foreground(probs: torch.Tensor) -> torch.Tensor:
    """``(B, C, *spatial)`` class probabilities -> ``(B, 2, *spatial)``: background, and the sum of
    the foreground classes (not in PA-Seg).

    For the CRF on multi-class data whose foreground classes touch without an intensity edge
    (hippocampus head and body): the Potts term penalises every label change between similar
    voxels, including the boundary between two such classes, which it can only lower by letting
    one class absorb the other. On the merged probabilities it penalises only foreground /
    background changes.

    Raises:
        ValueError: ``probs`` not ``(B, C, *spatial)`` with C >= 2.
    """
    if probs.ndim < 3 or probs.shape[1] < 2:
        raise ValueError(f"probs {tuple(probs.shape)} must be (B, C, *spatial) with C >= 2 (background first)")
    return torch.cat([probs[:, :1], probs[:, 1:].sum(1, keepdim=True)], 1)


def variance_loss(probs: torch.Tensor, image: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """PA-Seg's variance-minimisation loss (Zhai et al., IEEE TMI 2023, after the Mumford-Shah
    functional): for each class, the probability-weighted variance of the intensities it covers.

    Args:
        probs: ``(B, C, *spatial)`` (BCHW or BCDHW) softmax probabilities.
        image: ``(B, M, *spatial)`` intensities of M modalities.
        eps: added to each class's probability mass, so an empty class divides by eps (default 1e-5;
            must be > 0).

    Returns:
        a scalar: the mean over batch, classes and modalities (no reduction option).

    Raises:
        ValueError: batch or spatial sizes of ``probs`` and ``image`` differ, or ``eps`` <= 0.
    """
    if probs.ndim < 3 or image.ndim != probs.ndim or image.shape[0] != probs.shape[0] \
            or image.shape[2:] != probs.shape[2:]:
        raise ValueError(f"probs {tuple(probs.shape)} and image {tuple(image.shape)} must be (B, C|M, *spatial)")
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    p = probs.float().flatten(2).unsqueeze(2)  # (B, C, 1, V)
    x = image.float().flatten(2).unsqueeze(1)  # (B, 1, M, V)
    mass = p.sum(-1) + eps
    mean = (p * x).sum(-1) / mass
    return ((p * (x - mean.unsqueeze(-1)) ** 2).sum(-1) / mass).mean()
