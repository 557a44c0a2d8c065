"""Strong perturbations that keep every voxel where it is, for weak/strong consistency training.

FixMatch (Sohn et al., "FixMatch: Simplifying Semi-Supervised Learning with Consistency and
Confidence", NeurIPS 2020) predicts pseudo labels on a weakly augmented view and trains the
network on a strongly augmented view of the same image. In segmentation the two views must be
voxel-aligned, or the pseudo labels would have to be resampled with the image. UniMatch (Yang et
al., "Revisiting Weak-to-Strong Consistency in Semi-Supervised Semantic Segmentation", CVPR 2023)
therefore perturbs strongly with intensity changes (colour jitter with probability 0.8, Gaussian
blur with probability 0.5, sigma in [0.1, 2]) and CutMix (probability 0.5, a box of 2-40 % of the
image), whose box moves the pseudo labels exactly with the image. Both functions here keep
alignment by construction: :func:`strong_intensity` changes values only (blur mixes neighbours
but moves nothing), :func:`cutmix` pastes a box of patch j into patch i *at the same place*.

Where we differ from UniMatch: our images are nnU-Net's normalised single- or multi-channel 3D
(or 2D) patches, not RGB photographs, so colour jitter becomes brightness (multiplicative),
contrast (around each sample's mean) and gamma (on each sample's min-max range, as nnU-Net's own
gamma transform) plus Gaussian noise, all applied together with probability ``jitter_probability``;
CutMix boxes keep the patch's proportions (side = share^(1/d) of each patch side) instead of
drawing an aspect ratio. Random numbers come from ``generator`` (a CPU ``torch.Generator``) or,
if it is None, from torch's global generator.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _check_batch(data: torch.Tensor) -> None:
    if data.ndim < 3 or not data.is_floating_point():
        raise ValueError(f"data must be a floating (B, C, *spatial) tensor, got {data.dtype} {tuple(data.shape)}")


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of one sample ``(C, *spatial)`` with ``sigma`` voxels along every
    spatial axis (kernel radius ceil(3 sigma), edges replicated); shape and dtype kept."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=image.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = (kernel / kernel.sum()).view(1, 1, -1)
    out = image.float()
    for axis in range(1, image.ndim):
        moved = out.movedim(axis, -1)
        rows = moved.reshape(-1, 1, moved.shape[-1])
        rows = F.conv1d(F.pad(rows, (radius, radius), mode="replicate"), kernel)
        out = rows.reshape(moved.shape).movedim(-1, axis)
    return out.to(image.dtype)


def strong_intensity(data: torch.Tensor, jitter_probability: float = 0.8,
                     brightness: tuple[float, float] = (0.5, 1.5), contrast: tuple[float, float] = (0.5, 1.5),
                     gamma: tuple[float, float] = (0.7, 1.5), noise_std: tuple[float, float] = (0.0, 0.1),
                     blur_probability: float = 0.5, blur_sigma: tuple[float, float] = (0.1, 2.0),
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample random intensity perturbation of a batch; voxel positions untouched.

    With probability ``jitter_probability`` a sample gets, in this order and each with a strength
    drawn uniformly from its range: brightness (multiply by b), contrast (``mean + c (x - mean)``,
    the sample's mean), gamma (``x' = lo + (hi - lo) ((x - lo) / (hi - lo))^g`` on the sample's
    min-max range) and additive Gaussian noise of standard deviation s. Independently, with
    probability ``blur_probability``, a Gaussian blur of sigma s voxels. Defaults: UniMatch's
    probabilities (0.8 jitter, 0.5 blur with sigma in [0.1, 2]) and ColorJitter strength 0.5 for
    brightness and contrast; nnU-Net's own gamma range (0.7, 1.5) and noise (variance up to 0.1
    there, standard deviation up to 0.1 here).

    Args:
        data: ``(B, C, *spatial)`` floating image batch (BCHW or BCDHW), nnU-Net-normalised.
        jitter_probability: chance per sample of brightness, contrast, gamma and noise.
        brightness, contrast, gamma, noise_std: (low, high) ranges of the strengths.
        blur_probability: chance per sample of a Gaussian blur.
        blur_sigma: (low, high) range of the blur's sigma, in voxels.
        generator: CPU ``torch.Generator`` for the random draws, or None for the global one.

    Returns:
        a new tensor of ``data``'s shape, dtype and device (``data`` is not modified).

    Raises:
        ValueError: ``data`` not a floating ``(B, C, *spatial)`` tensor, a probability outside
            [0, 1], a range with low > high, non-positive gamma or blur sigma, negative noise.
    """
    _check_batch(data)
    for name, p in (("jitter_probability", jitter_probability), ("blur_probability", blur_probability)):
        if not 0 <= p <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {p}")
    for name, (low, high) in (("brightness", brightness), ("contrast", contrast), ("gamma", gamma),
                              ("noise_std", noise_std), ("blur_sigma", blur_sigma)):
        if low > high:
            raise ValueError(f"{name} range must be (low, high) with low <= high, got {(low, high)}")
    if gamma[0] <= 0 or blur_sigma[0] <= 0 or noise_std[0] < 0:
        raise ValueError(f"gamma and blur_sigma must be > 0 and noise_std >= 0, got {gamma}, {blur_sigma}, {noise_std}")
    n = data.shape[0]
    jitter = torch.rand(n, generator=generator) < jitter_probability
    b, c, g, s = (_uniform(n, *r, generator) for r in (brightness, contrast, gamma, noise_std))
    blur = torch.rand(n, generator=generator) < blur_probability
    sigma = _uniform(n, *blur_sigma, generator)
    samples = []
    for i in range(n):
        x = data[i].float()
        if jitter[i]:
            x = x * b[i].item()
            mean = x.mean()
            x = mean + c[i].item() * (x - mean)
            low, high = x.min(), x.max()
            span = (high - low).clamp_min(1e-8)
            x = low + span * ((x - low) / span).clamp(0, 1) ** g[i].item()
            noise = torch.randn(x.shape, device=x.device) if generator is None else \
                torch.randn(x.shape, generator=generator).to(x.device)  # a generator lives on the CPU
            x = x + s[i].item() * noise
        if blur[i]:
            x = gaussian_blur(x, sigma[i].item())
        samples.append(x.to(data.dtype))
    return torch.stack(samples)


def cutmix(data: torch.Tensor, *maps: torch.Tensor, probability: float = 0.5,
           share: tuple[float, float] = (0.02, 0.4),
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
    """CutMix between the samples of a batch: with probability ``probability`` patch i gets a
    random box of patch j (j != i, a random cyclic shift of the batch) pasted at the same place,
    in the image and identically in every map (pseudo labels, confidence masks), so a voxel's
    label stays with its voxel.

    UniMatch's ``obtain_cutmix_box``: probability 0.5, box area 2-40 % of the image. Here the box
    covers ``share`` ~ U(low, high) of the patch's voxels with every side the same fraction
    share^(1/d) of the patch's side (no random aspect ratio), placed uniformly inside the patch.
    A batch of one sample is returned unchanged (it has no partner).

    Args:
        data: ``(B, C, *spatial)`` image batch.
        *maps: tensors ``(B, *spatial)`` or ``(B, K, *spatial)`` of any dtype, mixed with the same boxes.
        probability: chance per sample of receiving a box.
        share: (low, high) range of the box's share of the patch volume, in (0, 1].
        generator: CPU ``torch.Generator`` for the random draws, or None for the global one.

    Returns:
        ``(mixed data, *mixed maps)``, new tensors of the inputs' shapes (inputs not modified).

    Raises:
        ValueError: ``data`` without a channel and a spatial axis, a map whose batch and spatial
            shape differ from ``data``'s, a probability outside [0, 1], a share range outside (0, 1].
    """
    if data.ndim < 3:
        raise ValueError(f"data must be (B, C, *spatial), got shape {tuple(data.shape)}")
    spatial = data.shape[2:]
    for m in maps:
        fits = m.ndim in (data.ndim - 1, data.ndim) and m.shape[0] == data.shape[0]
        if not fits or m.shape[-len(spatial):] != spatial:
            raise ValueError(f"every map must be (B, *spatial) or (B, K, *spatial) for data {tuple(data.shape)}, "
                             f"got {tuple(m.shape)}")
    if not 0 <= probability <= 1:
        raise ValueError(f"probability must be in [0, 1], got {probability}")
    if not 0 < share[0] <= share[1] <= 1:
        raise ValueError(f"share must be (low, high) with 0 < low <= high <= 1, got {share}")
    outputs = [data.clone(), *(m.clone() for m in maps)]
    n = data.shape[0]
    if n < 2:
        return tuple(outputs)
    shift = int(torch.randint(1, n, (1,), generator=generator))
    paste = torch.rand(n, generator=generator) < probability
    shares = _uniform(n, *share, generator)
    for i in range(n):
        if not paste[i]:
            continue
        j = (i + shift) % n
        box = []
        for size in spatial:
            side = max(1, round(size * shares[i].item() ** (1 / len(spatial))))
            start = int(torch.randint(0, size - side + 1, (1,), generator=generator))
            box.append(slice(start, start + side))
        for out, source in zip(outputs, (data, *maps), strict=True):
            out[(i, ..., *box)] = source[(j, ..., *box)]  # the box's place in j, pasted at the same place in i
    return tuple(outputs)
