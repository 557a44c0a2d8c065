"""The distillation loss and the CRF's intensity rescaling, in isolation, against hand computations."""

import math

import numpy as np
import pytest
import torch

from nnunet_weak.losses.distillation import KnowledgeDistillationLoss
from nnunet_weak.losses.intensity import unit_range


def test_distillation_is_kl_of_softened_distributions_times_t_squared():
    student = torch.tensor([[1.0, 3.0], [0.0, 0.0]]).T.reshape(1, 2, 2)  # (B, C, voxels)
    teacher = torch.tensor([[2.0, 2.0], [0.0, 4.0]]).T.reshape(1, 2, 2)
    t = 2.0
    expected = 0.0
    for v in range(2):
        p = np.exp(teacher[0, :, v].numpy() / t) / np.exp(teacher[0, :, v].numpy() / t).sum()
        q = np.exp(student[0, :, v].numpy() / t) / np.exp(student[0, :, v].numpy() / t).sum()
        expected += float((p * np.log(p / q)).sum()) / 2
    assert KnowledgeDistillationLoss(t)(student, teacher).item() == pytest.approx(expected * t**2, rel=1e-5)
    assert KnowledgeDistillationLoss(t)(teacher, teacher).item() == pytest.approx(0.0, abs=1e-6)


def test_distillation_teaches_the_student_only():
    student = torch.randn(2, 3, 4, requires_grad=True)
    teacher = torch.randn(2, 3, 4, requires_grad=True)
    KnowledgeDistillationLoss()(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0 and teacher.grad is None


def test_distillation_rejects_bad_temperature_and_shapes():
    with pytest.raises(ValueError, match="temperature"):
        KnowledgeDistillationLoss(0)
    with pytest.raises(ValueError, match="student and teacher"):
        KnowledgeDistillationLoss()(torch.zeros(1, 2, 4), torch.zeros(1, 3, 4))


def test_unit_range_maps_percentiles_to_zero_and_one_per_sample():
    ramp = torch.arange(101.0).view(1, 1, 101)
    data = torch.cat([ramp, 10 * ramp + 5]).repeat(1, 2, 1)  # (2, 2, 101); the second channel is ignored
    data[:, 1] = -7
    out = unit_range(data)
    assert tuple(out.shape) == (2, 1, 101)
    for b in range(2):  # 1st percentile of 0..100 is 1, 99th is 99
        assert out[b, 0, 1].item() == pytest.approx(0.0, abs=1e-6)
        assert out[b, 0, 99].item() == pytest.approx(1.0, abs=1e-6)
        assert out[b, 0, 50].item() == pytest.approx(49 / 98, abs=1e-6)
        assert out[b, 0, 0].item() == 0.0 and out[b, 0, 100].item() == 1.0  # clipped
    assert not math.isnan(unit_range(torch.ones(1, 1, 5)).sum().item())


def test_unit_range_rejects_bad_input():
    with pytest.raises(ValueError, match="spatial"):
        unit_range(torch.zeros(4, 5))
    with pytest.raises(ValueError, match="quantile"):
        unit_range(torch.zeros(1, 1, 5), 0.9, 0.1)
