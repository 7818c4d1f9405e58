"""The straightforward training loop, kept as the reference the fast trainer is measured against.

torchvision dataset -> DataLoader -> the Table 2 network -> Adam, with the skew on its own Adam.
It draws its shuffling and noise from the same per-run generators as :class:`~.trainer.Trainer`,
so both paths see identical batches and their results agree up to floating-point summation order.
"""

from __future__ import annotations

import math
import time

import torch
import torchvision
from torch.utils.data import DataLoader, Sampler
from torchvision import transforms

from alphavae_core import data
from alphavae_core.config import TrainConfig, resolve_device
from alphavae_core.losses import Inputs, get_regulariser, reconstruction_loss
from alphavae_core.model import build_vae
from alphavae_core.paths import data_root
from alphavae_core.trainer import _seeded

TORCHVISION_CLASSES = {"mnist": torchvision.datasets.MNIST, "fashion": torchvision.datasets.FashionMNIST}


class _Permutation(Sampler[int]):
    """Each epoch, a fresh permutation from the run's shuffle generator (as the fast trainer draws it)."""

    def __init__(self, n: int, generator: torch.Generator) -> None:
        self.n, self.generator = n, generator

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        # drawn where the generator lives (a CUDA generator cannot drive a CPU randperm), as the fast
        # trainer draws it; the indices then come to the CPU once an epoch for the DataLoader
        perm = torch.randperm(self.n, generator=self.generator, device=self.generator.device)
        return iter(perm.tolist())


class PlainStep:
    """One optimisation step the straightforward way: module forward, two ``torch.optim.Adam``."""

    def __init__(self, cfg: TrainConfig, model: torch.nn.Module, alpha: torch.Tensor) -> None:
        self.cfg, self.model, self.alpha = cfg, model, alpha
        self.reg = get_regulariser(cfg.regulariser)
        self.model_opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        self.alpha_opt = torch.optim.Adam([alpha], lr=cfg.alpha_lr)

    def __call__(
        self, inputs: torch.Tensor, target: torch.Tensor, eps: torch.Tensor, prior: torch.Tensor
    ) -> float:
        cfg, alpha = self.cfg, self.alpha
        logits, mu, logvar, z = self.model(inputs, eps)
        div = self.reg.divergence(Inputs(mu, logvar, z, alpha, prior)).mean()
        loss = reconstruction_loss(logits, target, cfg.reconstruction).mean() + cfg.weight * div
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError("loss is not finite")
        self.model_opt.zero_grad()
        self.alpha_opt.zero_grad()
        loss.backward()
        self.model_opt.step()
        if self.reg.trainable_skew:
            self.alpha_opt.step()
        with torch.no_grad():
            alpha.clamp_(0.0, 1.0)
        return value


def train_plain(config: TrainConfig, device: str = "cpu", epochs: int | None = None) -> dict[str, object]:
    """Train one run the straightforward way; returns its alpha history, test MSE and timing."""
    cfg = config.resolved()
    if cfg.dataset not in TORCHVISION_CLASSES:
        raise ValueError(f"the plain loop supports {', '.join(TORCHVISION_CLASSES)}, not {cfg.dataset!r}")
    dev = resolve_device(device)
    data.load_images(cfg.dataset, "train", subset=1)  # verifies and unpacks the raw files once
    to_tensor = transforms.Compose([transforms.Pad(2), transforms.ToTensor()])
    dataset = TORCHVISION_CLASSES[cfg.dataset](
        str(data_root()), train=True, download=False, transform=to_tensor
    )
    if cfg.subset is not None:
        dataset = torch.utils.data.Subset(dataset, range(min(cfg.subset, len(dataset))))
    shuffle_gen, noise_gen = _seeded(cfg.seed, 1, dev), _seeded(cfg.seed, 2, dev)
    loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=_Permutation(len(dataset), shuffle_gen))

    model = build_vae(cfg.image_shape, cfg.latent_dim, cfg.seed).to(dev)
    alpha = torch.tensor(cfg.alpha0, device=dev, requires_grad=True)
    history = [cfg.alpha0]
    step = PlainStep(cfg, model, alpha)
    start = time.perf_counter()
    for _ in range(cfg.epochs if epochs is None else epochs):
        for x, _label in loader:
            x = x.to(dev)
            eps = torch.randn(x.shape[0], cfg.latent_dim, generator=noise_gen, device=dev)
            prior = torch.randn(x.shape[0], 2 * cfg.latent_dim, generator=noise_gen, device=dev)
            inputs = data.add_noise(x, cfg.noise, generator=noise_gen) if cfg.noise > 0 else x
            step(inputs, x, eps, prior)
        history.append(alpha.item())
    seconds = time.perf_counter() - start
    return {"alpha_history": history, "train_seconds": seconds, "model": model}
