"""Exponential moving average of a network's weights (the mean teacher)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def ema_update(average: nn.Module, network: nn.Module, decay: float, step: int | None = None) -> float:
    """``average <- d * average + (1 - d) * network`` for every parameter; buffers (normalisation
    statistics) are copied from ``network``.

    Tarvainen & Valpola, "Mean teachers are better role models", NeurIPS 2017; their code starts
    with ``d = min(1 - 1 / (step + 1), decay)`` so that the average forgets its random
    initialisation in the first steps, which ``step`` (training steps done, >= 1) switches on.

    Args:
        average: the averaged copy, same architecture as ``network``; updated in place.
        network: the trained network.
        decay: d in [0, 1) at full strength (mean teacher: 0.99).
        step: steps done including this one, or None for ``decay`` from the start.

    Returns:
        the decay used.

    Raises:
        ValueError: ``decay`` outside [0, 1), ``step`` < 1, or networks whose parameter or buffer
            names or shapes differ.
    """
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    if step is not None:
        if step < 1:
            raise ValueError(f"step counts the steps done, including this one: >= 1, got {step}")
        decay = min(1 - 1 / (step + 1), decay)
    averaged, trained = dict(average.named_parameters()), dict(network.named_parameters())
    buffers, new_buffers = dict(average.named_buffers()), dict(network.named_buffers())
    if averaged.keys() != trained.keys() or buffers.keys() != new_buffers.keys() or any(
            averaged[k].shape != trained[k].shape for k in averaged):
        raise ValueError("the averaged copy and the network must have the same parameters and buffers")
    for name, parameter in averaged.items():
        parameter.lerp_(trained[name].detach().to(parameter.dtype), 1 - decay)
    for name, buffer in buffers.items():
        buffer.copy_(new_buffers[name])
    return decay
