"""CRF and variance losses against naive references (value and gradient)."""

import itertools
import math

import pytest
import torch

from nnunet_weak.losses.crf import MultiViewGatedCRFLoss, merge_foreground, variance_loss


def naive_crf(probs, image, window, sigma_xy, sigma_i, spacing):
    """Explicit double loop over voxel pairs within each plane; autograd gives the gradient."""
    B, C, D, H, W = probs.shape
    r = window // 2
    total = probs.new_zeros(())
    for b, z, y, x in itertools.product(range(B), range(D), range(H), range(W)):
        for dims in ((3, 4), (2, 4), (2, 3)):
            for da, db in itertools.product(range(-r, r + 1), repeat=2):
                if da == 0 and db == 0:
                    continue
                q = [z, y, x]
                q[dims[0] - 2] += da
                q[dims[1] - 2] += db
                if not all(0 <= q[k] < (D, H, W)[k] for k in range(3)):
                    continue
                d2 = (da * spacing[dims[0] - 2]) ** 2 + (db * spacing[dims[1] - 2]) ** 2
                diff = ((image[b, :, z, y, x] - image[b, :, q[0], q[1], q[2]]) ** 2).sum()
                k = math.exp(-d2 / (2 * sigma_xy**2)) * torch.exp(-diff / (2 * sigma_i**2))
                total = total + k * (1 - (probs[b, :, z, y, x] * probs[b, :, q[0], q[1], q[2]]).sum())
    return total / (B * D * H * W) / 3  # mean over the three views


def test_crf_value_and_gradient_match_the_naive_reference():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 5, 6, dtype=torch.float64, requires_grad=True)
    image = torch.rand(2, 1, 4, 5, 6, dtype=torch.float64)
    settings = dict(window=3, sigma_xy=1.5, sigma_i=0.3, spacing=(2.0, 1.0, 0.7))
    fast = MultiViewGatedCRFLoss(**settings)(logits.softmax(1), image)
    (grad_fast,) = torch.autograd.grad(fast, logits)
    slow = naive_crf(logits.softmax(1), image, **settings)
    (grad_slow,) = torch.autograd.grad(slow, logits)
    assert fast.item() == pytest.approx(slow.item(), rel=1e-5)
    assert torch.allclose(grad_fast.double(), grad_slow, rtol=1e-4, atol=1e-7)


def test_crf_is_zero_for_a_constant_labelling_and_positive_otherwise():
    image = torch.rand(1, 1, 6, 6, 6)
    constant = torch.zeros(1, 2, 6, 6, 6)
    constant[:, 1] = 1
    assert MultiViewGatedCRFLoss(window=5)(constant, image).item() == 0.0
    split = constant.clone()
    split[:, :, :3] = torch.tensor([1.0, 0.0]).view(1, 2, 1, 1, 1)
    assert MultiViewGatedCRFLoss(window=5)(split, image).item() > 0


def test_merged_crf_ignores_the_boundary_between_touching_foreground_classes():
    # two foreground classes (head and body) touching inside a uniform object, background around it
    image = torch.zeros(1, 1, 8, 8, 8)
    image[:, :, 2:6, 2:6, 2:6] = 1.0
    labels = torch.zeros(1, 8, 8, 8, dtype=torch.long)
    labels[:, 2:4, 2:6, 2:6] = 1
    labels[:, 4:6, 2:6, 2:6] = 2
    probs = torch.nn.functional.one_hot(labels, 3).permute(0, 4, 1, 2, 3).float()
    one_class = torch.nn.functional.one_hot(labels.clamp(max=1), 3).permute(0, 4, 1, 2, 3).float()
    crf = MultiViewGatedCRFLoss(window=5, sigma_i=0.1)
    merged = merge_foreground(probs)
    assert merged.shape == (1, 2, 8, 8, 8) and torch.equal(merged.sum(1), torch.ones(1, 8, 8, 8))
    # PA-Seg's CRF prefers one class swallowing the other; on merged probabilities both score the same
    assert crf(probs, image) > crf(one_class, image)
    assert crf(merged, image).item() == pytest.approx(crf(merge_foreground(one_class), image).item())
    # the merged loss still sees the object's boundary against background: positive for a blurred edge
    blurred = merged.clone()
    blurred[:, :, 1] = 0.5
    assert crf(blurred, image) > crf(merged, image)


def test_crf_rejects_bad_settings():
    with pytest.raises(ValueError):
        MultiViewGatedCRFLoss(window=4)
    with pytest.raises(ValueError):
        MultiViewGatedCRFLoss()(torch.rand(1, 2, 3, 3), torch.rand(1, 1, 3, 3))


def test_variance_loss_by_hand():
    image = torch.tensor([0.0, 1.0, 2.0, 4.0]).view(1, 1, 4)
    probs = torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]).view(1, 2, 4)
    # class 0 covers {0, 1}: variance 0.25; class 1 covers {2, 4}: variance 1
    assert variance_loss(probs, image).item() == pytest.approx((0.25 + 1.0) / 2, rel=1e-4)
    soft = torch.full((1, 2, 4), 0.5)
    mean = 7 / 4
    expected = sum((v - mean) ** 2 for v in (0, 1, 2, 4)) / 4
    assert variance_loss(soft, image).item() == pytest.approx(expected, rel=1e-4)
