"""Adam for the fast trainer: PyTorch's own update, called through its functional form.

The arithmetic is ``torch.optim.adam.adam``, the function ``torch.optim.Adam.step`` calls, with
Adam's defaults (betas 0.9 and 0.999, eps 1e-8, no weight decay), so the parameters follow exactly
the path ``torch.optim.Adam`` would give them (``tests/test_trainer.py`` checks it bit for bit).
Only the state (the moment estimates and the step count) is held here, for two measured reasons:

* constructing any ``torch.optim`` optimizer imports ``torch._dynamo``, 1.1 s of every training
  process's start-up on a 2-core CPU (a tenth of a whole MNIST epoch);
* ``Optimizer.step`` spends about 0.2 ms a call on hooks and bookkeeping, 2% of a training step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.optim.adam import adam

BETAS = (0.9, 0.999)
EPS = 1e-8


class Adam:
    """Adam over ``params`` (leaf tensors) with learning rate ``lr``; ``fused`` picks PyTorch's
    single-kernel implementation (the same update, computed in one pass over all tensors)."""

    def __init__(self, params: list[Tensor], lr: float, fused: bool = False) -> None:
        self.params, self.lr, self.fused = list(params), float(lr), fused
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # float32 step counters where torch.optim.Adam keeps them: beside the parameter for the fused
        # kernel, which reads it there; on the CPU otherwise, because the single-tensor update reads it
        # with .item(), which on a GPU would wait for the device at every step
        self.steps = [
            torch.zeros((), dtype=torch.float32, device=p.device if fused else "cpu") for p in self.params
        ]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient (as ``torch.optim.Adam`` skips
        parameters whose ``grad`` is None)."""
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        adam(
            [self.params[i] for i in live],
            [self.params[i].grad for i in live],
            [self.exp_avg[i] for i in live],
            [self.exp_avg_sq[i] for i in live],
            [],
            [self.steps[i] for i in live],
            foreach=False,
            fused=self.fused,
            amsgrad=False,
            has_complex=False,
            beta1=BETAS[0],
            beta2=BETAS[1],
            lr=self.lr,
            weight_decay=0.0,
            eps=EPS,
            maximize=False,
            capturable=False,
            differentiable=False,
            grad_scale=None,
            found_inf=None,
            decoupled_weight_decay=False,
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "exp_avg": [t.detach().cpu() for t in self.exp_avg],
            "exp_avg_sq": [t.detach().cpu() for t in self.exp_avg_sq],
            "steps": [t.detach().cpu() for t in self.steps],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["exp_avg"]) != len(self.params):
            raise ValueError(
                f"optimizer state for {len(state['exp_avg'])} tensors, expected {len(self.params)}"
            )
        self.lr = float(state["lr"])
        saved = state["exp_avg"] + state["exp_avg_sq"] + state["steps"]
        for mine, value in zip(self.exp_avg + self.exp_avg_sq + self.steps, saved):
            mine.copy_(value)
