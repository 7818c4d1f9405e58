"""dSprites (Matthey et al., 2017): the factor grid, a procedural renderer and the official ``.npz``.

The official dataset holds every combination of six factors exactly once, 737,280 binary 64x64
images, indexed with the last factor fastest:

====== =========== ======================================= =========
column factor      values                                  classes
====== =========== ======================================= =========
0      color       1 (white)                               1
1      shape       1, 2, 3 (square, ellipse, heart)        3
2      scale       linspace(0.5, 1, 6)                     6
3      orientation linspace(0, 2 pi, 40) (0 and 2 pi both) 40
4      posX        linspace(0, 1, 32)                      32
5      posY        linspace(0, 1, 32)                      32
====== =========== ======================================= =========

:class:`DSprites` reproduces that grid and its order exactly, and renders any image on demand
with a vectorised torch rasteriser, so nothing the size of the dataset (about 3 GB as uint8) is
held unless asked for. The renderer is a re-implementation, NOT pixel-identical to the official
images (which were drawn with Love2D): the shapes, their sizes and the range of positions are
matched by eye. Geometry in image units (the image is the unit square, x to the right = column,
y downward = row; posX moves the shape right, posY moves it down):

* centre = ``0.5 + (pos - 0.5) * 0.68``, i.e. 10 to 54 pixels across the 64;
* square: side ``0.25 * scale`` (16 px at scale 1); ellipse: semi-axes ``0.16 * scale`` and
  ``0.08 * scale``; heart: the curve ``(u^2 + v^2 - 1)^3 = u^2 v^3`` scaled by ``0.11 * scale``,
  tip downward at orientation 0;
* orientation rotates the shape about its centre; a pixel is on (255) when its centre lies inside.

Users who have the official ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` can load it with
:func:`load_dsprites_npz` (and ``data.load_images("dsprites")`` uses it when it is in the data root).
Pixel values here are uint8 0 or 255, like the other datasets (the official file stores 0 or 1).
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from alphavae_core.errors import UserError

__all__ = [
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "IMAGE_SIZE",
    "N_IMAGES",
    "NPZ_NAME",
    "SHAPES",
    "DSprites",
    "DSpritesArrays",
    "factor_values",
    "load_dsprites_npz",
    "render",
]

FACTOR_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (1, 3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
N_IMAGES = math.prod(FACTOR_SIZES)  # 737,280
NPZ_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"

# Stride of each factor in the flat index (posY fastest), as in the official file.
_STRIDES = tuple(math.prod(FACTOR_SIZES[i + 1 :]) for i in range(len(FACTOR_SIZES)))

# Geometry of the renderer, in units of the image width (see the module docstring).
_POS_SPAN = 0.68
_SQUARE_HALF = 0.125
_ELLIPSE_SEMI = (0.16, 0.08)
_HEART_UNIT = 0.11
_HEART_SHIFT = 0.12  # centres the heart curve's bounding box (its y range is [-1, 1.24])


def factor_values() -> tuple[Tensor, ...]:
    """The values of each factor, in the official order (float64, one tensor per factor)."""
    return (
        torch.ones(1, dtype=torch.float64),
        torch.arange(1, 4, dtype=torch.float64),
        torch.linspace(0.5, 1.0, 6, dtype=torch.float64),
        torch.linspace(0.0, 2 * math.pi, 40, dtype=torch.float64),
        torch.linspace(0.0, 1.0, 32, dtype=torch.float64),
        torch.linspace(0.0, 1.0, 32, dtype=torch.float64),
    )


class DSpritesArrays(NamedTuple):
    """The official arrays: images (N, 1, 64, 64) uint8 in {0, 255}; classes (N, 6); values (N, 6)."""

    images: Tensor
    classes: Tensor
    values: Tensor


def _as_index_tensor(indices: int | Tensor | np.ndarray | list[int]) -> Tensor:
    idx = torch.as_tensor(indices, dtype=torch.long)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= N_IMAGES):
        bad = idx[(idx < 0) | (idx >= N_IMAGES)].flatten()[0].item()
        raise ValueError(f"dSprites index {bad} is out of range; indices run from 0 to {N_IMAGES - 1}")
    return idx


class DSprites:
    """The dSprites factor grid, rendered on demand (see the module docstring for the geometry).

    ``len(DSprites()) == 737280``; index ``i`` has the factor classes ``factors(i)`` in the
    official order (color, shape, scale, orientation, posX, posY; posY fastest).
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES

    def __len__(self) -> int:
        return N_IMAGES

    def factors(self, indices: int | Tensor | np.ndarray | list[int]) -> Tensor:
        """Factor classes of ``indices``: long tensor (..., 6), like the official ``latents_classes``."""
        idx = _as_index_tensor(indices)
        sizes = torch.tensor(FACTOR_SIZES)
        strides = torch.tensor(_STRIDES)
        return torch.div(idx.unsqueeze(-1), strides, rounding_mode="floor") % sizes

    def values(self, indices: int | Tensor | np.ndarray | list[int]) -> Tensor:
        """Factor values of ``indices``: float64 (..., 6), like the official ``latents_values``."""
        classes = self.factors(indices)
        return torch.stack([vals[classes[..., k]] for k, vals in enumerate(factor_values())], dim=-1)

    def index(self, classes: Tensor | np.ndarray | list[int]) -> Tensor:
        """Flat index of factor classes (..., 6): the inverse of :meth:`factors`."""
        cls = torch.as_tensor(classes, dtype=torch.long)
        sizes = torch.tensor(FACTOR_SIZES)
        if cls.shape[-1:] != (6,) or bool(((cls < 0) | (cls >= sizes)).any()):
            raise ValueError(f"factor classes must have shape (..., 6) within sizes {FACTOR_SIZES}")
        return (cls * torch.tensor(_STRIDES)).sum(-1)

    def images(self, indices: int | Tensor | np.ndarray | list[int], chunk_size: int = 2048) -> Tensor:
        """Render ``indices`` (a sequence): uint8 tensor (N, 1, 64, 64) with values 0 or 255."""
        idx = _as_index_tensor(indices).reshape(-1)
        out = torch.empty((idx.numel(), 1, IMAGE_SIZE, IMAGE_SIZE), dtype=torch.uint8)
        for start in range(0, idx.numel(), chunk_size):  # chunks bound the float scratch memory
            vals = self.values(idx[start : start + chunk_size]).to(torch.float32)
            out[start : start + chunk_size] = render(
                vals[:, 1].long() - 1, vals[:, 2], vals[:, 3], vals[:, 4], vals[:, 5]
            )
        return out


def render(shape: Tensor, scale: Tensor, orientation: Tensor, pos_x: Tensor, pos_y: Tensor) -> Tensor:
    """Rasterise sprites with any (also continuous) factor values: uint8 (N, 1, 64, 64) in {0, 255}.

    ``shape`` holds 0, 1, 2 (square, ellipse, heart); the rest are float tensors of length N in the
    official units (scale in [0.5, 1], orientation in radians, positions in [0, 1]).
    """
    shape = torch.as_tensor(shape, dtype=torch.long).reshape(-1)
    n = shape.numel()
    f32 = {"dtype": torch.float32}
    scale, theta, px, py = (torch.as_tensor(t, **f32).reshape(-1) for t in (scale, orientation, pos_x, pos_y))
    if bool(((shape < 0) | (shape > 2)).any()):
        raise ValueError("shape must be 0 (square), 1 (ellipse) or 2 (heart)")
    grid = (torch.arange(IMAGE_SIZE, **f32) + 0.5) / IMAGE_SIZE  # pixel centres
    dx = grid.view(1, 1, -1) - (0.5 + (px - 0.5) * _POS_SPAN).view(n, 1, 1)  # (N, 1, W)
    dy = grid.view(1, -1, 1) - (0.5 + (py - 0.5) * _POS_SPAN).view(n, 1, 1)  # (N, H, 1)
    cos, sin = torch.cos(theta).view(n, 1, 1), torch.sin(theta).view(n, 1, 1)
    s = scale.view(n, 1, 1)
    u = (cos * dx + sin * dy) / s  # sprite frame: rotate back by theta, undo the scale
    v = (cos * dy - sin * dx) / s
    inside = torch.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=torch.bool)
    for k in range(3):  # each shape's test only on its own images
        sel = (shape == k).nonzero().squeeze(1)
        if sel.numel():
            inside[sel] = _INSIDE[k](u[sel], v[sel])
    return inside.unsqueeze(1).to(torch.uint8).mul_(255)


def _in_square(u: Tensor, v: Tensor) -> Tensor:
    return torch.maximum(u.abs(), v.abs()) <= _SQUARE_HALF


def _in_ellipse(u: Tensor, v: Tensor) -> Tensor:
    a, b = _ELLIPSE_SEMI
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _in_heart(u: Tensor, v: Tensor) -> Tensor:
    x = u / _HEART_UNIT
    y = _HEART_SHIFT - v / _HEART_UNIT  # image rows grow downward; the curve's lobes point up
    r = x * x + y * y - 1.0
    return r * r * r - x * x * y * y * y <= 0.0


_INSIDE = (_in_square, _in_ellipse, _in_heart)


def load_dsprites_npz(path: str | Path) -> DSpritesArrays:
    """Load the official ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` (keys ``imgs``,
    ``latents_classes``, ``latents_values``). Images come back as uint8 (N, 1, 64, 64) in {0, 255}.

    The whole file is decompressed: about 3 GB of memory for the official one.
    """
    path = Path(path)
    fix = f"copy a fresh {NPZ_NAME} from github.com/deepmind/dsprites-dataset there"
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in ("imgs", "latents_classes", "latents_values") if k not in npz.files]
            if missing:
                raise UserError(f"{path} lacks the array(s) {', '.join(missing)}: {fix}")
            imgs, classes, values = npz["imgs"], npz["latents_classes"], npz["latents_values"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        if isinstance(err, UserError):
            raise
        raise UserError(f"{path} cannot be read as an .npz file ({type(err).__name__}): {fix}") from None
    n = imgs.shape[0]
    if imgs.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or classes.shape != (n, 6) or values.shape != (n, 6):
        raise UserError(
            f"{path} has imgs {imgs.shape}, latents_classes {classes.shape}, latents_values {values.shape};"
            f" expected (N, 64, 64), (N, 6), (N, 6): {fix}"
        )
    images = torch.from_numpy(np.ascontiguousarray(imgs, dtype=np.uint8)).unsqueeze(1)
    if n and int(images.max()) <= 1:  # the official file stores 0/1; the project uses 0/255
        images.mul_(255)
    return DSpritesArrays(images, torch.from_numpy(classes.astype(np.int64)), torch.from_numpy(values))
