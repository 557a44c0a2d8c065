"""The extra networks' stepping under mixed precision: nnU-Net's GradScaler path (CUDA-only in
training; torch's CPU GradScaler exercises the same calls here, no GPU needed)."""

import copy

import torch
from torch import nn

from nnunet_weak.trainers.multi_network import MultiNetworkMixin


class Host(MultiNetworkMixin):
    """What MultiNetworkMixin reads from nnUNetTrainer, nothing else."""

    def __init__(self, network: nn.Module, extra: nn.Module, grad_scaler):
        self.device, self.is_ddp = torch.device("cpu"), False
        self.initial_lr, self.weight_decay, self.num_epochs = 0.01, 3e-5, 10
        self.network = network
        self.optimizer = torch.optim.SGD(network.parameters(), self.initial_lr, weight_decay=self.weight_decay,
                                         momentum=0.99, nesterov=True)
        self.grad_scaler = grad_scaler
        self.add_network("extra", extra)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        return ((self.network(x) - self.extra_networks["extra"].network(x)) ** 2).mean() + self.network(x).mean()


def _pair(grad_scaler):
    torch.manual_seed(0)
    return Host(nn.Linear(4, 3), nn.Linear(4, 3), grad_scaler)


def _parameters(host):
    return [p.detach().clone() for network, _ in host.all_optimized() for p in network.parameters()]


def test_scaled_steps_match_unscaled_steps_for_every_network():
    plain, scaled = _pair(None), _pair(torch.amp.GradScaler("cpu", init_scale=2.0 ** 12))
    start = _parameters(plain)
    x = torch.randn(8, 4)
    for host in (plain, scaled):
        for _ in range(3):
            host.zero_grad()
            host.backward_and_step(host.loss(x))
    after_plain, after_scaled = _parameters(plain), _parameters(scaled)
    assert all(not torch.equal(a, b) for a, b in zip(start, after_plain, strict=True))  # every network moved
    for a, b in zip(after_plain, after_scaled, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_an_overflow_skips_the_step_of_every_network_and_lowers_the_scale():
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 12)
    host = _pair(scaler)
    before = _parameters(host)
    momentum_before = copy.deepcopy([o.state_dict()["state"] for _, o in host.all_optimized()])
    host.zero_grad()
    host.backward_and_step(host.loss(torch.full((2, 4), float("inf"))))
    assert all(torch.equal(a, b) for a, b in zip(before, _parameters(host), strict=True))
    assert [o.state_dict()["state"] for _, o in host.all_optimized()] == momentum_before == [{}, {}]
    assert scaler.get_scale() < 2.0 ** 12
