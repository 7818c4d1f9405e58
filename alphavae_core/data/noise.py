"""Input noise for the denoising experiments (the paper's Figure 5): add N(0, sigma^2) to images in
[0, 1] and clip back to [0, 1]."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def _check_sigma(sigma: float) -> float:
    if not float(sigma) >= 0.0:  # NaN fails too
        raise ValueError(f"noise sigma must be >= 0, got {sigma}")
    return float(sigma)


def add_noise(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """``clamp(x + N(0, sigma^2), 0, 1)`` for float images ``x`` in [0, 1] (Figure 5's noisy inputs)."""
    sigma = _check_sigma(sigma)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return (x + sigma * noise).clamp_(0.0, 1.0)


def fixed_test_noise(shape: Sequence[int], sigma: float, seed: int) -> Tensor:
    """Additive noise ``sigma * N(0, 1)`` of ``shape`` (float32), the same for the same seed.

    Use it as ``(x + noise).clamp(0, 1)`` so every model is scored on identical noisy test images.
    """
    sigma = _check_sigma(sigma)
    generator = torch.Generator().manual_seed(int(seed))
    return sigma * torch.randn(tuple(shape), generator=generator, dtype=torch.float32)
