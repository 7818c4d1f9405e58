"""The paper's Table 2 networks: a convolutional encoder and its mirrored decoder.

Encoder: 3 (32x32 input) or 4 (64x64 input) convolutions, 32 channels, 4x4 kernels, stride 2,
padding 1; then FC 256, FC 256 and a linear layer giving the mean and log-variance of a diagonal
Gaussian latent. The decoder mirrors it with transposed convolutions and ends in a sigmoid (it
returns logits; :meth:`VAE.decode` applies the sigmoid). ReLU throughout. Every convolution and
linear weight is kaiming-uniform initialised with the ReLU gain, biases keep PyTorch's default,
as in the paper's released code (the early alpha trajectory depends on it).

Two forward passes share the same parameters. The modules' own ``forward`` is plain
``nn.Sequential`` code, the reference. :func:`vae_forward` is the fast engine's: a pure function of
a parameter dict (no ``functional_call`` re-binding each step), whose last transposed convolution
runs through :class:`FastConvTranspose` (the 32 -> 1 channel layer is the slowest kernel of the
network on CPU). ``tests/test_trainer.py`` checks that both give the same values and gradients.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


# --------------------------------------------------------------------------------------------------
# The fast engine's forward pass


class FastConvTranspose(torch.autograd.Function):
    """``conv_transpose2d(x, w, b, stride=2, padding=1)`` for 4x4 kernels, same values, faster forward.

    oneDNN's transposed convolution with one output channel runs at a tenth of the CPU's speed
    (about 1 ms for a batch of 64 at 16x16 -> 32x32, on 2 cores). Written as one matrix product
    followed by four shifted sums (one per kernel offset pair), the forward takes a third of that.
    The backward is PyTorch's own transposed-convolution backward, which is already fast.
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        ctx.save_for_backward(x, weight)
        batch, c_in, h, w = x.shape
        c_out = weight.shape[1]
        # cols[b, c, sh, p, sw, q, i, j]: input pixel (i, j) through kernel tap (2sh+p, 2sw+q); a
        # batched product with the weight broadcast, as torch.matmul would first copy x transposed
        taps = weight.flatten(1).t().unsqueeze(0).expand(batch, -1, -1)
        cols = torch.bmm(taps, x.reshape(batch, c_in, h * w)).view(batch, c_out, 2, 2, 2, 2, h, w)
        # tap (2sh+p) of input row i lands on padded output row 2(i+sh)+p: block i+sh, phase p
        acc = None
        for sh in (0, 1):
            for sw in (0, 1):
                shifted = F.pad(cols[:, :, sh, :, sw], (sw, 1 - sw, sh, 1 - sh))  # (B, C, p, q, h+1, w+1)
                acc = shifted if acc is None else acc + shifted
        out = acc.permute(0, 1, 4, 2, 5, 3).reshape(batch, c_out, 2 * h + 2, 2 * w + 2)
        return out[:, :, 1 : 2 * h + 1, 1 : 2 * w + 1] + bias.view(1, -1, 1, 1)  # drop the padding

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors
        return torch.ops.aten.convolution_backward(
            grad, x, weight, [weight.shape[1]], [2, 2], [1, 1], [1, 1], True, [0, 0], 1,
            list(ctx.needs_input_grad),
        )  # fmt: skip


def encode(params: dict[str, Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """:class:`Encoder` as a function of its parameters (names without the ``encoder.`` prefix)."""
    h = x
    for i in range(0, 2 * _count(params, "convs."), 2):
        h = F.conv2d(h, params[f"convs.{i}.weight"], params[f"convs.{i}.bias"], stride=2, padding=1)
        h = F.relu(h, inplace=True)  # in place: one buffer less per layer, the same gradient
    h = h.flatten(1)
    for i in (0, 2):
        h = F.relu(F.linear(h, params[f"fc.{i}.weight"], params[f"fc.{i}.bias"]), inplace=True)
    mu, logvar = F.linear(h, params["mu_logvar.weight"], params["mu_logvar.bias"]).chunk(2, dim=-1)
    return mu, logvar


def decode_logits(params: dict[str, Tensor], z: Tensor, fast: bool = True) -> Tensor:
    """:class:`Decoder` as a function of its parameters; ``fast`` routes the last layer through
    :class:`FastConvTranspose` (``False`` under ``torch.func.vmap``, which it does not support)."""
    h = z
    for i in (0, 2, 4):
        h = F.relu(F.linear(h, params[f"fc.{i}.weight"], params[f"fc.{i}.bias"]), inplace=True)
    h = h.view(-1, CHANNELS, SPATIAL, SPATIAL)
    n = _count(params, "deconvs.")
    for k in range(n):
        weight, bias = params[f"deconvs.{2 * k}.weight"], params[f"deconvs.{2 * k}.bias"]
        if k < n - 1:
            h = F.relu(F.conv_transpose2d(h, weight, bias, stride=2, padding=1), inplace=True)
        elif fast:
            h = FastConvTranspose.apply(h, weight, bias)
        else:
            h = F.conv_transpose2d(h, weight, bias, stride=2, padding=1)
    return h


def vae_forward(
    params: dict[str, Tensor], x: Tensor, eps: Tensor | None = None, fast: bool = True
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """:meth:`VAE.forward` as a function of a ``named_parameters`` dict: (logits, mu, logvar, z)."""
    mu, logvar = encode(sub_params(params, "encoder."), x)
    z = mu if eps is None else mu + torch.exp(0.5 * logvar) * eps
    return decode_logits(sub_params(params, "decoder."), z, fast), mu, logvar, z


def sub_params(params: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries of ``params`` under ``prefix`` (e.g. ``"encoder."``), with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _count(params: dict[str, Tensor], prefix: str) -> int:
    return sum(1 for k in params if k.startswith(prefix) and k.endswith(".weight"))
