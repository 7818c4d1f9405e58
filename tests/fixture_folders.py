"""Tiny Chairs and CelebA folders in their standard layouts, for tests (the real sets are not here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_chairs(root: Path, models: int = 3, views: int = 4, rgba: bool = False) -> None:
    for m in range(models):
        renders = root / "chairs" / "rendered_chairs" / f"model_{m}" / "renders"
        renders.mkdir(parents=True)
        for v in range(views):
            if rgba:
                img = Image.new("RGBA", (60, 60), (0, 0, 0, 0))  # transparent background
            else:
                img = Image.new("RGB", (60, 60), (255, 255, 255))
            img.paste((40 * m, 40 * m, 40 * m, 255)[: len(img.mode)], (15 + v, 15, 45, 45))  # grey per model
            img.save(renders / f"image_{v:03d}.png")


def make_celeba(root: Path, n: int = 10, partition: list[int] | None = None) -> None:
    folder = root / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        blocks = rng.integers(0, 256, (218 // 2, 178 // 2, 3), dtype=np.uint8).repeat(2, 0).repeat(2, 1)
        Image.fromarray(blocks).save(folder / f"{i + 1:06d}.jpg", quality=95)
    if partition is not None:
        lines = [f"{i + 1:06d}.jpg {p}" for i, p in enumerate(partition)]
        (root / "celeba" / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
