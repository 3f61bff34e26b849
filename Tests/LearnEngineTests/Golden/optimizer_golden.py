"""Golden values for OptimizerGoldenTests.swift, computed with PyTorch (float64).

Run: python optimizer_golden.py  (with torch installed, e.g. torch 2.13.0+cpu); paste its output.
"""
import math

import torch

torch.set_default_dtype(torch.float64)
TARGET = torch.tensor([0.5, -1.0, 2.0])
WEIGHTS = torch.tensor([1.0, 2.0, 3.0])


def loss_of(w: torch.Tensor) -> torch.Tensor:
    """sum(c * (w - target)^2 / 2) with c = [1, 2, 3]: gradients depend on the weights."""
    return (torch.tensor([1.0, 2.0, 3.0]) * (w - TARGET) ** 2 / 2).sum()


def run(make_optimizer, steps: int = 5) -> list[list[float]]:
    """The weights after each of `steps` updates."""
    w = WEIGHTS.clone().requires_grad_(True)
    opt = make_optimizer([w])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w).backward()
        opt.step()
        out.append(w.detach().tolist())
    return out


def rates(make_scheduler, steps: int) -> list[float]:
    """The learning rate used at each step 0..steps-1."""
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def plateau_rates(metrics: list[float]) -> list[float]:
    """The rate after recording each metric (mode max, factor 0.5, patience 2, threshold 0)."""
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=2, threshold=0.0,
                                                       min_lr=0.01)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(opt.param_groups[0]["lr"])
    return out


def main() -> None:
    """Prints Swift literals."""
    print("adam:", run(lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)))
    print("sgd:", run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)))
    warmup, total = 4, 12
    print("warmupCosine:", rates(lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / warmup, end_factor=1.0, total_iters=warmup - 1),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total - warmup, eta_min=0.001)], milestones=[warmup]), total))
    print("plateau:", plateau_rates([0.1, 0.2, 0.2, 0.15, 0.19, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]))


if __name__ == "__main__":
    main()
