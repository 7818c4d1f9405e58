"""The paper's Table 2 networks: a convolutional encoder and its mirrored decoder.

Encoder: 3 (32x32 input) or 4 (64x64 input) convolutions, 32 channels, 4x4 kernels, stride 2,
padding 1; then FC 256, FC 256 and a linear layer giving the mean and log-variance of a diagonal
Gaussian latent. The decoder mirrors it with transposed convolutions and ends in a sigmoid (it
returns logits; :meth:`VAE.decode` applies the sigmoid). ReLU throughout. Every convolution and
linear weight is kaiming-uniform initialised with the ReLU gain, biases keep PyTorch's default,
as in the paper's released code (the early alpha trajectory depends on it).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

CHANNELS = 32
HIDDEN = 256
SPATIAL = 4  # feature maps are 4x4 after the last stride-2 convolution


def _conv_layers(image_size: int) -> int:
    if image_size not in (32, 64):
        raise ValueError(f"image_size must be 32 or 64 (Table 2), got {image_size}")
    return 3 if image_size == 32 else 4


class Encoder(nn.Module):
    """x (B, C, S, S) -> (mu, logvar), each (B, latent_dim)."""

    def __init__(self, in_channels: int, image_size: int, latent_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for _ in range(_conv_layers(image_size)):  # S -> S/2 each time, down to 4x4
            layers += [nn.Conv2d(channels, CHANNELS, 4, stride=2, padding=1), nn.ReLU()]
            channels = CHANNELS
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Sequential(
            nn.Linear(CHANNELS * SPATIAL * SPATIAL, HIDDEN),  # 512 -> 256
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
        )
        self.mu_logvar = nn.Linear(HIDDEN, 2 * latent_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.fc(self.convs(x).flatten(1))
        mu, logvar = self.mu_logvar(h).chunk(2, dim=-1)
        return mu, logvar


class Decoder(nn.Module):
    """z (B, latent_dim) -> logits (B, C, S, S)."""

    def __init__(self, out_channels: int, image_size: int, latent_dim: int) -> None:
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(latent_dim, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, CHANNELS * SPATIAL * SPATIAL),  # 256 -> 512 = 32x4x4
            nn.ReLU(),
        )
        n = _conv_layers(image_size)
        layers: list[nn.Module] = []
        for i in range(n):  # 4x4 -> 8x8 -> ... -> S x S
            last = i == n - 1
            layers.append(
                nn.ConvTranspose2d(CHANNELS, out_channels if last else CHANNELS, 4, stride=2, padding=1)
            )
            if not last:
                layers.append(nn.ReLU())
        self.deconvs = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.deconvs(self.fc(z).view(-1, CHANNELS, SPATIAL, SPATIAL))


class VAE(nn.Module):
    """Table 2 VAE. ``forward`` returns (logits, mu, logvar, z)."""

    def __init__(self, in_channels: int = 1, image_size: int = 32, latent_dim: int = 10) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be positive, got {latent_dim}")
        self.encoder = Encoder(in_channels, image_size, latent_dim)
        self.decoder = Decoder(in_channels, image_size, latent_dim)
        self.latent_dim = latent_dim
        self.apply(_kaiming_init)

    def forward(self, x: Tensor, eps: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Encode, sample z = mu + sigma * eps (the mean when ``eps`` is None) and decode."""
        mu, logvar = self.encoder(x)
        z = mu if eps is None else mu + torch.exp(0.5 * logvar) * eps
        return self.decoder(z), mu, logvar, z

    def decode(self, z: Tensor) -> Tensor:
        """Images in [0, 1] from latents."""
        return torch.sigmoid(self.decoder(z))


def _kaiming_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")


def build_vae(image_shape: tuple[int, int, int], latent_dim: int, seed: int) -> VAE:
    """A freshly initialised VAE for images of shape (C, H, W); the weights depend only on ``seed``."""
    channels, height, width = image_shape
    if height != width:
        raise ValueError(f"square images expected, got {height}x{width}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VAE(channels, height, latent_dim)
