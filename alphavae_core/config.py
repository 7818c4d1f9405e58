"""The configuration of one training run, validated and fully resolved before anything trains."""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import torch

from .data import DATASETS, default_reconstruction, image_shape
from .losses import RECONSTRUCTIONS, get_regulariser

DEVICES = ("auto", "cpu", "cuda")
_WHOLE = (
    "epochs",
    "batch_size",
    "seed",
    "subset",
    "test_subset",
    "latent_dim",
    "landscape_points",
    "landscape_images",
    "alpha_every",
)


@dataclass(frozen=True)
class TrainConfig:
    """One VAE training run. ``None`` fields are filled by :meth:`resolved` from the paper's defaults."""

    dataset: str = "mnist"
    regulariser: str = "kl"
    alpha0: float | None = None  # initial (or fixed) skew; 0.5 for the JS^G_alpha family
    weight: float | None = None  # divergence weight (beta, lambda); the regulariser's default
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-4
    alpha_lr: float | None = None  # the skew's own Adam; defaults to lr
    seed: int = 0
    noise: float = 0.0  # std of Gaussian input noise for denoising (inputs clamped to [0, 1])
    subset: int | None = None  # first N training images
    test_subset: int | None = None  # first N test images
    latent_dim: int | None = None  # 10 (32 for chairs), Table 2
    reconstruction: str | None = None  # mse for MNIST, bernoulli otherwise (Table 2)
    landscape_points: int = 21  # alpha grid of the per-epoch landscape (0 disables it)
    landscape_images: int = 1000  # test images the landscape averages over
    alpha_every: int = 0  # also record alpha every N steps (0: per epoch only)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or f.name in ("dataset", "regulariser", "reconstruction"):
                continue
            whole = f.name in _WHOLE
            kind = numbers.Integral if whole else numbers.Real
            if isinstance(value, bool) or not isinstance(value, kind):
                noun = "a whole number" if whole else "a number"
                raise ValueError(f"{f.name.replace('_', ' ')} must be {noun}, got {value!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}")
        reg = get_regulariser(self.regulariser)
        if self.alpha0 is not None:
            if not 0.0 <= self.alpha0 <= 1.0:  # NaN fails too
                raise ValueError(f"alpha0 must lie in [0, 1], got {self.alpha0}")
            if not reg.uses_skew:
                raise ValueError(f"alpha0 applies to the skewed regularisers only, not {self.regulariser!r}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be positive, got {getattr(self, name)}")
        for name in ("lr", "alpha_lr"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if self.weight is not None and not (self.weight >= 0 and math.isfinite(self.weight)):
            raise ValueError(f"weight must be a non-negative number, got {self.weight}")
        if not (self.noise >= 0 and math.isfinite(self.noise)):
            raise ValueError(f"noise must be a non-negative number, got {self.noise}")
        for name in ("subset", "test_subset", "latent_dim"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be positive, got {value}")
        if self.reconstruction is not None and self.reconstruction not in RECONSTRUCTIONS:
            raise ValueError(
                f"unknown reconstruction {self.reconstruction!r}; choose one of {', '.join(RECONSTRUCTIONS)}"
            )
        for name in ("landscape_points", "landscape_images", "alpha_every"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"{name.replace('_', ' ')} must be zero or positive, got {getattr(self, name)}"
                )

    def resolved(self) -> TrainConfig:
        """A copy with every default filled in (what is saved beside every result)."""
        reg = get_regulariser(self.regulariser)
        return replace(
            self,
            alpha0=None
            if not reg.uses_skew
            else reg.default_alpha
            if self.alpha0 is None
            else float(self.alpha0),
            weight=reg.default_weight if self.weight is None else float(self.weight),
            alpha_lr=self.lr if self.alpha_lr is None else self.alpha_lr,
            latent_dim=(32 if self.dataset == "chairs" else 10)
            if self.latent_dim is None
            else self.latent_dim,
            reconstruction=self.reconstruction or default_reconstruction(self.dataset),
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return image_shape(self.dataset)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**values)

    def group_key(self) -> tuple:
        """Runs with equal keys share data, architecture and schedule, so they can train together."""
        r = self.resolved()
        return (
            r.dataset, r.epochs, r.batch_size, r.lr, r.alpha_lr, r.noise, r.subset, r.test_subset,
            r.latent_dim, r.reconstruction, r.landscape_points, r.landscape_images, r.alpha_every,
        )  # fmt: skip


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when available; asking for CUDA without it is a user error."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available; use --device cpu or auto")
    return torch.device(device)


def set_determinism(deterministic: bool) -> None:
    """The reproducibility switch (``--deterministic``), for the whole process.

    ``True``: float32 convolutions and matrix products in IEEE precision (no TF32, which cuDNN
    convolutions use by default on recent GPUs while matrix products do not),
    ``torch.use_deterministic_algorithms(True)`` and deterministic cuDNN kernels without
    autotuning, so a GPU run repeats bit for bit on the same machine and software. ``False`` (the
    default of the command line): cuDNN autotunes its kernels for the shapes it sees
    (``cudnn.benchmark``), and PyTorch's precision defaults stay as they are. On a CPU neither
    changes a result: its kernels are deterministic and IEEE already.
    """
    if deterministic:
        # cuBLAS is deterministic only with a fixed workspace; read when it first starts
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    torch.use_deterministic_algorithms(deterministic)
