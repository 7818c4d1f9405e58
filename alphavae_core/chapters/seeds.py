"""Comparisons over seeds, one rule for the denoising and rate-distortion chapters.

Two models trained with the same seed share their initialisation and data order, so their
difference is taken seed by seed (paired) and judged by its 95% t-interval: with n seeds the mean
difference must exceed t(0.975, n - 1) * s / sqrt(n), which is 2.48 s at three seeds and 1.24 s at
five. Below two seeds there is no interval and no verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    """The mean of per-seed differences, its 95% t-interval half-width (NaN below two seeds), n."""

    mean: float
    half_width: float
    n: int

    @property
    def resolved(self) -> bool:
        return self.n >= 2 and abs(self.mean) > self.half_width

    def text(self, digits: int = 2) -> str:
        """``"-0.77 ± 0.31 (95% interval, 3 seeds)"``; just the difference for one seed."""
        if self.n == 0:
            return "-"
        if self.n == 1:
            return f"{self.mean:+.{digits}f} (one seed)"
        return f"{self.mean:+.{digits}f} ± {self.half_width:.{digits}f} (95% interval, {self.n} seeds)"

    def word(self, lower: str = "lower", higher: str = "higher") -> str:
        """``lower``/``higher`` when the interval excludes zero, otherwise says why there is no verdict."""
        if self.n < 2:
            return "not judged (one seed)" if self.n else "not measured"
        if not self.resolved:
            return f"not resolved with {self.n} seeds"
        return lower if self.mean < 0 else higher


def paired(differences: Sequence[float]) -> Paired:
    """Mean and 95% t-interval of per-seed differences (NaNs dropped)."""
    d = np.asarray([x for x in differences if x == x], dtype=float)
    if d.size == 0:
        return Paired(math.nan, math.nan, 0)
    if d.size == 1:
        return Paired(float(d[0]), math.nan, 1)
    half = float(stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    return Paired(float(d.mean()), half, int(d.size))
