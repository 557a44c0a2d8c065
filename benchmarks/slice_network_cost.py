"""Forward+backward time of the 3D U-Net and of a 2D U-Net on all slices of the same patch.

    python benchmarks/slice_network_cost.py PLANS_JSON

PLANS_JSON: a plans file (e.g. benchmarks/work/nnUNet_preprocessed/Dataset111_HippoSlices3d2dct/
nnUNetPlans_cpu.json). One CPU thread, batch 2, random input of the 3d_fullres patch size; the 2D
network is the 3D architecture with axis 0 removed, fed the 2 x patch[0] slices.
"""

import json
import sys
import time

import torch
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans

from nnunet_weak.networks.slice_network import derive_2d_architecture


def seconds(step, repeats: int = 3) -> float:
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    torch.set_num_threads(1)
    config = json.load(open(sys.argv[1]))["configurations"]["3d_fullres"]
    patch = config["patch_size"]

    def build(arch):
        return get_network_from_plans(arch["network_class_name"], arch["arch_kwargs"], arch["_kw_requires_import"],
                                      1, 3, deep_supervision=True)

    net_3d, net_2d = build(config["architecture"]), build(derive_2d_architecture(config["architecture"], 0))
    x_3d, x_2d = torch.randn(2, 1, *patch), torch.randn(2 * patch[0], 1, *patch[1:])
    print(f"3D fwd+bwd {seconds(lambda: sum(o.sum() for o in net_3d(x_3d)).backward()):.3f} s")
    print(f"2D fwd+bwd on {2 * patch[0]} slices {seconds(lambda: sum(o.sum() for o in net_2d(x_2d)).backward()):.3f} s")
    with torch.no_grad():
        print(f"2D forward only {seconds(lambda: net_2d(x_2d)):.3f} s")


if __name__ == "__main__":
    main()
