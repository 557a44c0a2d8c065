"""The extra networks' stepping under mixed precision: nnU-Net's GradScaler path (CUDA-only in
training; torch's CPU GradScaler exercises the same calls here, no GPU needed)."""

import copy

import pytest
import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from torch import nn

from nnunet_weak.trainers.extra_networks import ExtraNetworksMixin


class Host(ExtraNetworksMixin):
    """What the extra-network mechanism reads from nnUNetTrainer, nothing else."""

    configure_optimizers = nnUNetTrainer.configure_optimizers

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
    return [p.detach().clone() for network, _ in host.optimized() for p in network.parameters()]


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


def test_every_step_counts_one_iteration_and_the_epoch_start_resets_the_count():
    host = _pair(None)
    host.current_epoch, host.num_iterations_per_epoch = 1, 4
    x = torch.randn(8, 4)
    for _ in range(3):
        host.zero_grad()
        host.backward_and_step(host.loss(x))
    assert host.iterations_this_epoch == 3
    assert host.training_progress() == pytest.approx((1 * 4 + 3) / (10 * 4))


def test_extra_networks_get_the_trainers_own_optimiser_variant():
    class AdamHost(Host):
        def configure_optimizers(self):
            optimizer = torch.optim.Adam(self.network.parameters(), lr=self.initial_lr)
            return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5 ** epoch)

    torch.manual_seed(0)
    host = AdamHost(nn.Linear(4, 3), nn.Linear(4, 3), None)
    extra = host.extra_networks["extra"]
    assert isinstance(extra.optimizer, torch.optim.Adam)
    assert {id(p) for g in extra.optimizer.param_groups for p in g["params"]} == \
        {id(p) for p in extra.network.parameters()}
    assert host.network is not extra.network  # the trainer's own network is back in place


def test_an_overflow_skips_the_step_of_every_network_and_lowers_the_scale():
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 12)
    host = _pair(scaler)
    before = _parameters(host)
    momentum_before = copy.deepcopy([o.state_dict()["state"] for _, o in host.optimized()])
    host.zero_grad()
    host.backward_and_step(host.loss(torch.full((2, 4), float("inf"))))
    assert all(torch.equal(a, b) for a, b in zip(before, _parameters(host), strict=True))
    assert [o.state_dict()["state"] for _, o in host.optimized()] == momentum_before == [{}, {}]
    assert scaler.get_scale() < 2.0 ** 12


def _ddp_worker(rank: int, world_size: int, port: int, folder: str, steps: int) -> None:
    """One DDP process on the CPU (gloo): its own half of the batch, both networks stepped."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    torch.manual_seed(0)
    network, extra = nn.Linear(4, 3), nn.Linear(4, 3)
    host = Host.__new__(Host)
    host.device, host.is_ddp, host.local_rank = torch.device("cpu"), True, rank
    host.initial_lr, host.weight_decay, host.num_epochs, host.grad_scaler = 0.01, 3e-5, 10, None
    host.network = DistributedDataParallel(network)  # as nnU-Net wraps its own network
    host.optimizer = torch.optim.SGD(host.network.parameters(), 0.01, weight_decay=3e-5, momentum=0.99, nesterov=True)
    host.add_network("extra", extra)
    assert isinstance(host.extra_networks["extra"].network, DistributedDataParallel)
    x = _ddp_batch()[rank::world_size]
    for _ in range(steps):
        host.zero_grad()
        host.backward_and_step(_single_forward_loss(host, x))
    torch.save(_parameters(host), f"{folder}/rank{rank}.pt")
    dist.destroy_process_group()


def _ddp_batch() -> torch.Tensor:
    return torch.linspace(-2, 3, 8 * 4).reshape(8, 4) ** 3


def _single_forward_loss(host, x):
    """One forward per network and step (what DDP expects)."""
    out, other = host.network(x), host.extra_networks["extra"].network(x)
    return ((out - other) ** 2).mean() + out.mean()


def test_ddp_wraps_every_network_and_averages_their_gradients(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_worker, args=(2, port, str(tmp_path), 3), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    # one process on the whole batch takes the same steps: DDP averaged both networks' gradients
    reference = _pair(None)
    x = _ddp_batch()
    start = _parameters(reference)
    for _ in range(3):
        reference.zero_grad()
        reference.backward_and_step(_single_forward_loss(reference, x))
    expected = _parameters(reference)
    assert all(not torch.equal(a, b) for a, b in zip(start, expected, strict=True))
    for a, b, c in zip(ranks[0], ranks[1], expected, strict=True):
        assert torch.equal(a, b)
        assert torch.allclose(a, c, atol=1e-6)
