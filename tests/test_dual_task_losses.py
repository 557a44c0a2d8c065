"""Dual-task loss terms against hand computations, the SDF head's two faces and the prediction ensembles."""

import pytest
import torch

from nnunet_weak.losses import masked_l1_loss, masked_soft_dice_loss, mutual_consistency_loss
from nnunet_weak.networks.dual_task_ensemble import DualNetworkEnsemble, SDFHeadEnsemble
from nnunet_weak.networks.sdf_head import SDFHeadUNet
from nnunet_weak.networks.signed_distance import ensemble_log_probabilities, sdf_to_probability


def test_sdf_to_probability_is_sigmoid_of_minus_k_phi():
    phi = torch.tensor([-0.01, 0.0, 0.002])
    expected = 1 / (1 + torch.exp(1500 * phi))
    assert torch.allclose(sdf_to_probability(phi), expected)
    assert sdf_to_probability(torch.tensor([-1.0])).item() == pytest.approx(1.0)


def test_masked_soft_dice_by_hand():
    probs = torch.tensor([0.9, 0.2, 0.7, 0.4]).view(1, 1, 4)
    onehot = torch.tensor([1.0, 0.0, 1.0, 1.0]).view(1, 1, 4)
    mask = torch.tensor([True, True, True, False]).view(1, 4)
    dice = (2 * (0.9 + 0.7) + 1e-5) / ((0.9 + 0.2 + 0.7) + 2 + 1e-5)
    assert masked_soft_dice_loss(probs, onehot, mask).item() == pytest.approx(1 - dice)


def test_masked_l1_and_consistency_by_hand():
    phi = torch.tensor([0.5, -0.5, 0.1]).view(1, 1, 3)
    target = torch.tensor([0.0, -1.0, 1.0]).view(1, 1, 3)
    assert masked_l1_loss(phi, target, torch.tensor([[True, True, False]])).item() == pytest.approx(0.5)
    assert masked_l1_loss(phi, target, torch.zeros(1, 3, dtype=torch.bool)).item() == 0.0
    a, b = torch.tensor([0.2, 0.8]), torch.tensor([0.4, 0.4])
    assert mutual_consistency_loss(a, b).item() == pytest.approx((0.04 + 0.16) / 2)


def test_sdf_head_returns_segmentation_only_in_eval_mode():
    from dynamic_network_architectures.architectures.unet import PlainConvUNet

    unet = PlainConvUNet(1, 3, [4, 8, 16], torch.nn.Conv3d, 3, [1, 2, 2], 2, 3, [2, 2], True,
                         torch.nn.InstanceNorm3d, {"affine": True}, nonlin=torch.nn.LeakyReLU, deep_supervision=True)
    net = SDFHeadUNet(unet, sdf_channels=2)
    x = torch.zeros(2, 1, 8, 8, 8)
    segmentation, sdf = net(x)
    assert [tuple(s.shape) for s in segmentation] == [(2, 3, 8, 8, 8), (2, 3, 4, 4, 4)]
    assert tuple(sdf.shape) == (2, 2, 8, 8, 8)
    net.eval()
    net.decoder.deep_supervision = False
    assert tuple(net(x).shape) == (2, 3, 8, 8, 8)
    assert any(k.startswith("sdf_head.") for k in net.state_dict())


def _unet(outputs, deep_supervision):
    from dynamic_network_architectures.architectures.unet import PlainConvUNet

    torch.manual_seed(outputs)
    return PlainConvUNet(1, 3, [4, 8, 16], torch.nn.Conv3d, 3, [1, 2, 2], 2, outputs, [2, 2], True,
                         torch.nn.InstanceNorm3d, {"affine": True}, nonlin=torch.nn.LeakyReLU,
                         deep_supervision=deep_supervision)


def test_ensemble_averages_class_distributions_by_hand():
    # one foreground class: segmentation says (0.8, 0.2); phi = 0 gives q = 0.5, phi = -1 gives q = 1
    seg = torch.log(torch.tensor([0.8, 0.2])).view(1, 2, 1).expand(1, 2, 2)
    phi = torch.tensor([0.0, -1.0]).view(1, 1, 2)
    r = ensemble_log_probabilities(seg, phi, k=1500).exp()
    assert torch.allclose(r[0, :, 0], torch.tensor([0.65, 0.35]))
    assert torch.allclose(r[0, :, 1], torch.tensor([0.4, 0.6]))
    # two foreground maps that both claim the voxel (q = 1 and 0.5): background 0, q renormalised to (0, 2/3, 1/3)
    seg = torch.zeros(1, 3, 1)  # uniform thirds
    phi = torch.tensor([-1.0, 0.0]).view(1, 2, 1)
    r = ensemble_log_probabilities(seg, phi).exp()[0, :, 0]
    assert torch.allclose(r, torch.tensor([1 / 6, 1 / 6 + 1 / 3, 1 / 6 + 1 / 6]), atol=1e-6)
    assert torch.allclose(r.sum(), torch.tensor(1.0))


def test_ensemble_networks_combine_both_outputs():
    x = torch.randn(2, 1, 8, 8, 8)
    segmentation, distance = _unet(3, False).eval(), _unet(2, False).eval()
    dual = DualNetworkEnsemble(segmentation, distance, k=7.0).eval()
    assert torch.allclose(dual(x), ensemble_log_probabilities(segmentation(x), torch.tanh(distance(x)), 7.0))
    assert dual.state_dict()["sdf_k"].item() == 7.0  # travels with the weights

    head = SDFHeadUNet(_unet(3, False), sdf_channels=2).eval()
    single = SDFHeadEnsemble(head, k=7.0).eval()
    head.train()
    expected_seg, expected_sdf = head(x)
    head.eval()
    assert torch.allclose(single(x), ensemble_log_probabilities(expected_seg, torch.tanh(expected_sdf), 7.0))
    assert not head.training and tuple(head(x).shape) == (2, 3, 8, 8, 8)  # still the segmentation alone


def test_ensemble_rejects_distance_maps_that_do_not_match_the_classes():
    with pytest.raises(ValueError, match="C - 1"):
        ensemble_log_probabilities(torch.zeros(1, 3, 4), torch.zeros(1, 3, 4))


def test_batch_signed_distances_for_the_labelled_samples_only():
    from nnunet_weak.distance_maps import batch_signed_distances, class_signed_distances

    labels = torch.zeros(3, 6, 6, dtype=torch.long)
    labels[:, 2:4, 1:5] = 1
    labels[1, 0, 0] = 2
    out = batch_signed_distances(labels, [1, 2], (1.0, 2.0), torch.tensor([True, True, False]))
    assert tuple(out.shape) == (3, 2, 6, 6) and out.dtype == torch.float32
    for b in range(2):
        expected = class_signed_distances(labels[b].numpy(), [1, 2], (1.0, 2.0))
        assert torch.equal(out[b], torch.from_numpy(expected))
    assert not out[2].any()


def test_sdf_head_fits_the_residual_encoder_unet_of_nnunets_resenc_plans():
    from dynamic_network_architectures.architectures.unet import ResidualEncoderUNet

    unet = ResidualEncoderUNet(1, 3, [4, 8, 16], torch.nn.Conv3d, 3, [1, 2, 2], [1, 1, 1], 3, [1, 1], True,
                               torch.nn.InstanceNorm3d, {"affine": True}, nonlin=torch.nn.LeakyReLU,
                               deep_supervision=False)
    segmentation, sdf = SDFHeadUNet(unet, sdf_channels=2)(torch.zeros(1, 1, 8, 8, 8))
    assert tuple(segmentation.shape) == (1, 3, 8, 8, 8) and tuple(sdf.shape) == (1, 2, 8, 8, 8)
