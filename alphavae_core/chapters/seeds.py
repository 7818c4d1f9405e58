"""The book's one rule of evidence: a difference is *resolved* when its 95% t-interval excludes zero.

Every chapter compares two models by a difference of means, always written as *model minus
reference* (the model named first minus the one it is compared with): a negative difference means
the model reconstructs better. Two models trained with the same seed share their initialisation and
data order, so where both have per-seed rows the difference is taken seed by seed (:func:`paired`)
and judged by its 95% t-interval: with n seeds the mean difference must exceed
t(0.975, n - 1) * s / sqrt(n), which is 2.48 s at three seeds and 1.24 s at five. Where only a
quoted mean, standard deviation and seed count exist (the paper's tables), the same 95% interval is
taken for two independent samples (:func:`from_summaries`, Welch's interval). Below two seeds a side
has no interval and there is no verdict. The notation page of the book states this rule once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    """A difference of means (model minus reference), its 95% t-interval half-width (NaN where there
    is none), and n, the seeds behind it (for two independent samples, the smaller of the two)."""

    mean: float
    half_width: float
    n: int
    paired: bool = True

    @property
    def resolved(self) -> bool:
        """The book's rule: the 95% interval excludes zero."""
        return self.n >= 2 and abs(self.mean) > self.half_width

    def text(self, digits: int = 2) -> str:
        """``"-0.77 ± 0.31 (95% interval, 3 seeds)"``; just the difference for one seed."""
        if self.n == 0:
            return "-"
        if self.n == 1:
            return f"{self.mean:+.{digits}f} (one seed)"
        seeds = f"{self.n} seeds" if self.paired else f"{self.n} seeds each, unpaired"
        return f"{self.mean:+.{digits}f} ± {self.half_width:.{digits}f} (95% interval, {seeds})"

    def short(self, digits: int = 2) -> str:
        """``"-0.77 ± 0.31"`` (no interval for one seed: ``"-0.77"``), for a table that counts the seeds
        in a column of its own."""
        if self.n == 0:
            return "-"
        interval = f" ± {self.half_width:.{digits}f}" if self.n >= 2 else ""
        return f"{self.mean:+.{digits}f}{interval}"

    def word(self, lower: str = "lower", higher: str = "higher") -> str:
        """``lower``/``higher`` when the interval excludes zero, otherwise says why there is no verdict."""
        if self.n < 2:
            return "not judged (one seed)" if self.n else "not measured"
        if not self.resolved:
            return f"not resolved with {self.n} seeds"
        return lower if self.mean < 0 else higher

    def largest_gain(self) -> float:
        """The largest gain (reference minus model, >= 0) that the interval still allows."""
        return max(self.half_width - self.mean, 0.0)


def paired(differences: Sequence[float]) -> Paired:
    """Mean and 95% t-interval of per-seed differences, model minus reference (NaNs dropped)."""
    d = np.asarray([x for x in differences if x == x], dtype=float)
    if d.size == 0:
        return Paired(math.nan, math.nan, 0)
    if d.size == 1:
        return Paired(float(d[0]), math.nan, 1)
    half = float(stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    return Paired(float(d.mean()), half, int(d.size))


def from_summaries(model: tuple[float, float, int], reference: tuple[float, float, int]) -> Paired:
    """The same rule for quoted (mean, std, seeds) pairs without per-seed values: model minus
    reference with Welch's 95% t-interval for two independent samples (``n`` is the smaller seed
    count). A side with fewer than two seeds or no standard deviation leaves the interval unknown
    (NaN half-width, n = 1: no verdict)."""
    (ma, sa, na), (mb, sb, nb) = model, reference
    diff = ma - mb
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (ma, mb)):
        return Paired(math.nan, math.nan, 0, paired=False)
    if sa is None or sb is None or math.isnan(sa) or math.isnan(sb) or min(na, nb) < 2:
        return Paired(float(diff), math.nan, 1, paired=False)
    va, vb = sa**2 / na, sb**2 / nb
    se = math.sqrt(va + vb)
    if se == 0:
        return Paired(float(diff), 0.0, min(na, nb), paired=False)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    return Paired(float(diff), float(stats.t.ppf(0.975, df) * se), min(na, nb), paired=False)
