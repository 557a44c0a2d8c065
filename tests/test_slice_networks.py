import json

import torch

from nnunet_weak.networks.from_plans import network_from_architecture
from nnunet_weak.networks.residual import residual_encoder_architecture
from nnunet_weak.networks.slice_network import (
    choose_2d_architecture,
    deep_supervision_scales,
    derive_2d_architecture,
    fits,
)
from nnunet_weak.networks.slicing import from_slices, slice_targets, to_slices, training_slices

ARCH_3D = {
    "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
    "arch_kwargs": {"n_stages": 3, "features_per_stage": [8, 16, 32], "conv_op": "torch.nn.modules.conv.Conv3d",
                    "kernel_sizes": [[1, 3, 3], [3, 3, 3], [3, 3, 3]], "strides": [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
                    "n_conv_per_stage": [2, 2, 2], "n_conv_per_stage_decoder": [2, 2], "conv_bias": True,
                    "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d", "norm_op_kwargs": {"eps": 1e-5},
                    "dropout_op": None, "dropout_op_kwargs": None, "nonlin": "torch.nn.LeakyReLU",
                    "nonlin_kwargs": {"inplace": True}},
    "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
}


def test_slices_round_trip_and_follow_the_axis():
    volume = torch.arange(2 * 3 * 4 * 5 * 6, dtype=torch.float32).reshape(2, 3, 4, 5, 6)
    for axis in range(3):
        slices = to_slices(volume, axis)
        assert slices.shape[0] == 2 * volume.shape[2 + axis] and slices.shape[1] == 3
        assert torch.equal(from_slices(slices, axis, 2), volume)
    # slice k of batch item b along axis 1 is volume[b, :, :, k, :]
    assert torch.equal(to_slices(volume, 1)[1 * 5 + 3], volume[1, :, :, 3, :])


def test_training_slices_put_annotated_planes_first():
    annotated = torch.zeros(2, 10, 4, 4, dtype=torch.bool)
    annotated[:, 2] = True
    annotated[:, 7] = True
    annotated[:, :, 0, 0] = True  # a line through every plane is not a plane
    chosen, rest = training_slices(annotated, 0, 0.3, torch.Generator().manual_seed(0))
    assert len(chosen) == 3 and {2, 7} <= set(chosen.tolist())
    assert sorted(chosen.tolist() + rest.tolist()) == list(range(10))
    chosen, rest = training_slices(annotated, 0, 1.0)
    assert chosen.tolist() == list(range(10)) and rest.numel() == 0


def test_derived_2d_architecture_drops_the_sliced_axis_and_builds():
    arch = derive_2d_architecture(ARCH_3D, axis=0)
    kwargs = arch["arch_kwargs"]
    assert kwargs["kernel_sizes"] == [[3, 3], [3, 3], [3, 3]] and kwargs["strides"] == [[1, 1], [2, 2], [2, 2]]
    assert kwargs["conv_op"].endswith("Conv2d") and kwargs["norm_op"].endswith("InstanceNorm2d")
    assert ARCH_3D["arch_kwargs"]["conv_op"].endswith("Conv3d")  # input untouched
    net = network_from_architecture(arch, 1, 3, deep_supervision=True)
    out = net(torch.zeros(4, 1, 16, 12))
    assert [tuple(o.shape) for o in out] == [(4, 3, 16, 12), (4, 3, 8, 6)]
    assert deep_supervision_scales(arch) == [[1.0, 1.0], [0.5, 0.5]]


def test_residual_encoder_plans_give_2d_slice_networks_too():
    """Cross-teaching on nnUNetResEncUNet*Plans: the ResEnc 3D architecture turns 2D and builds."""
    resenc = residual_encoder_architecture(ARCH_3D)
    resenc["arch_kwargs"]["norm_op_kwargs"] = {"eps": 1e-5, "affine": True}  # as nnU-Net plans it
    arch = derive_2d_architecture(resenc, axis=1)
    assert arch["network_class_name"].endswith("ResidualEncoderUNet")
    assert arch["arch_kwargs"]["strides"] == [[1, 1], [1, 2], [2, 2]]
    out = network_from_architecture(arch, 1, 3, deep_supervision=True)(torch.zeros(2, 1, 16, 12))
    assert [tuple(o.shape) for o in out] == [(2, 3, 16, 12), (2, 3, 16, 6)]


def test_plans_2d_configuration_used_only_where_it_fits():
    config_2d = {"spacing": [1.0, 1.0], "architecture": json.loads(json.dumps(derive_2d_architecture(ARCH_3D, 0)))}
    config_2d["architecture"]["arch_kwargs"]["features_per_stage"] = [4, 8, 16]
    arch, why = choose_2d_architecture(ARCH_3D, [3.0, 1.0, 1.0], 0, [16, 12], config_2d)
    assert arch["arch_kwargs"]["features_per_stage"] == [4, 8, 16] and "2d configuration" in why
    arch, why = choose_2d_architecture(ARCH_3D, [3.0, 1.0, 1.0], 1, [8, 12], config_2d)
    assert arch["arch_kwargs"]["features_per_stage"] == [8, 16, 32] and "derived" in why
    assert arch["arch_kwargs"]["kernel_sizes"][0] == [1, 3]  # the thick axis keeps its 1-wide kernel
    arch, why = choose_2d_architecture(ARCH_3D, [3.0, 1.0, 1.0], 0, [18, 12], config_2d)
    assert "derived" in why and not fits(config_2d["architecture"], [18, 12])


def test_slice_targets_follow_the_2d_networks_deep_supervision_scales():
    target = torch.randint(0, 3, (2, 1, 4, 8, 6))
    assert torch.equal(slice_targets(target, 1, None), to_slices(target, 1))
    full, half = slice_targets(target, 1, [[1.0, 1.0], [0.5, 0.5]])
    assert torch.equal(full, to_slices(target, 1)) and full.dtype == half.dtype == target.dtype
    assert tuple(half.shape) == (16, 1, 2, 3)
    assert torch.equal(half, full[:, :, 1::2, 1::2])  # nearest-exact: the voxel at each output centre
