"""Every network our trainers build survives ``torch.compile``, as nnU-Net compiles its training
network on CUDA: forward outputs and parameter gradients equal eager mode. On the CPU with the
``aot_eager`` backend (dynamo's tracing and AOT autograd, no code generation, no C compiler); the
GPU path itself is exercised by benchmarks/gpu_check.py.

The networks are built by the same builders the trainers call, on a tiny 3-stage plan."""

import copy

import pytest
import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager

from nnunet_weak.networks.from_plans import network_from_architecture
from nnunet_weak.networks.slice_network import choose_2d_architecture
from nnunet_weak.trainers import (
    nnUNetTrainerDTMLEnsemble,
    nnUNetTrainerPointSegResEnc,
    nnUNetTrainerSDFDualHead,
    nnUNetTrainerSDFDualHeadEnsemble,
)

CLASSES = 3  # background + 2, as hippocampus
PATCH = (8, 16, 16)
ARCHITECTURE = {
    "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
    "arch_kwargs": {"n_stages": 3, "features_per_stage": [4, 8, 16], "conv_op": "torch.nn.modules.conv.Conv3d",
                    "kernel_sizes": [[1, 3, 3], [3, 3, 3], [3, 3, 3]], "strides": [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
                    "n_conv_per_stage": [2, 2, 2], "n_conv_per_stage_decoder": [2, 2], "conv_bias": True,
                    "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d",
                    "norm_op_kwargs": {"eps": 1e-5, "affine": True}, "dropout_op": None, "dropout_op_kwargs": None,
                    "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True}},
    "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
}
CONFIGURATION = ConfigurationManager({"architecture": ARCHITECTURE, "patch_size": list(PATCH),
                                      "spacing": [1.0, 1.0, 1.0]})


def _slice_network(axis: int) -> torch.nn.Module:
    """A cross-teaching 2D network, chosen and built as nnUNetTrainerCrossTeach.initialize does."""
    slice_shape = [s for i, s in enumerate(PATCH) if i != axis]
    architecture, _ = choose_2d_architecture(ARCHITECTURE, [1.0, 1.0, 1.0], axis, slice_shape, None)
    return network_from_architecture(architecture, 1, CLASSES, True)


# name: (build, input shape, training mode)
NETWORKS = {
    "plans network": (lambda: nnUNetTrainer.build_network_architecture(None, CONFIGURATION, 1, CLASSES, True),
                      (2, 1, *PATCH), True),
    "cross-teaching 2D network, axis 0": (lambda: _slice_network(0), (4, 1, 16, 16), True),
    "cross-teaching 2D network, axis 1": (lambda: _slice_network(1), (4, 1, 8, 16), True),
    "ResEnc partner": (lambda: nnUNetTrainerPointSegResEnc.build_network_architecture(
        None, CONFIGURATION, 1, CLASSES, True), (2, 1, *PATCH), True),
    "SDF head network": (lambda: nnUNetTrainerSDFDualHead.build_network_architecture(
        None, CONFIGURATION, 1, CLASSES, True), (2, 1, *PATCH), True),
    # nnUNetTrainerDTML.initialize: the plans' architecture, one output per foreground class
    "DTML distance network": (lambda: network_from_architecture(ARCHITECTURE, 1, CLASSES - 1, False),
                              (2, 1, *PATCH), True),
    "DTML ensemble": (lambda: nnUNetTrainerDTMLEnsemble.build_network_architecture(
        None, CONFIGURATION, 1, CLASSES, False), (1, 1, *PATCH), False),
    "dual-head ensemble": (lambda: nnUNetTrainerSDFDualHeadEnsemble.build_network_architecture(
        None, CONFIGURATION, 1, CLASSES, False), (1, 1, *PATCH), False),
}


def _tensors(output) -> list[torch.Tensor]:
    """A network's outputs flattened: deep-supervision lists and (segmentation, distance) pairs."""
    if isinstance(output, torch.Tensor):
        return [output]
    return [t for item in output for t in _tensors(item)]


@pytest.mark.parametrize("name", list(NETWORKS))
def test_network_compiles_to_the_same_outputs_and_gradients(name):
    build, shape, training = NETWORKS[name]
    torch.manual_seed(0)
    eager = build().train(training)
    compiled_module = copy.deepcopy(eager)
    torch._dynamo.reset()
    compiled = torch.compile(compiled_module, backend="aot_eager")
    x = torch.randn(shape)
    outputs = {}
    for label, network, module in (("eager", eager, eager), ("compiled", compiled, compiled_module)):
        out = _tensors(network(x))
        sum(o.float().square().mean() for o in out).backward()
        outputs[label] = ([o.detach() for o in out], [p.grad for p in module.parameters()])
    (eager_out, eager_grads), (compiled_out, compiled_grads) = outputs["eager"], outputs["compiled"]
    assert len(eager_out) == len(compiled_out) and len(eager_out) >= 1
    for a, b in zip(eager_out, compiled_out, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
    assert any(g is not None for g in eager_grads)
    for a, b in zip(eager_grads, compiled_grads, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
