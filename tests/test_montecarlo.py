"""The Monte Carlo estimators themselves: against quadrature, reproducible, honest error bars."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from alphavae_core.chapters.divergences.montecarlo import (
    SETTINGS,
    closed_form_vs_mc,
    mc_gjs_mvn,
    mc_gjs_normal,
    mc_js_normal,
    mc_kl_mvn,
    mc_kl_normal,
)
from alphavae_core.experiments.presets import PRESET_NAMES, select

F64 = torch.float64


def t64(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def npdf(z, m, v):
    return np.exp(-0.5 * (z - m) ** 2 / v) / np.sqrt(2 * np.pi * v)


def quad(f, lo=-15.0, hi=15.0) -> float:
    return integrate.quad(f, lo, hi, limit=200, epsabs=1e-12)[0]


def test_kl_estimate_matches_quadrature_within_5_sigma():
    m1, v1, m2, v2 = 0.7, 0.4, -0.3, 2.0
    exact = quad(lambda z: npdf(z, m1, v1) * np.log(npdf(z, m1, v1) / npdf(z, m2, v2)))
    est = mc_kl_normal(t64(m1), t64(math.log(v1)), t64(m2), t64(math.log(v2)), 50_000, gen())
    assert abs(est.value.item() - exact) < 5 * est.stderr.item()


def test_js_estimate_matches_quadrature_and_bounds():
    m1, v1 = 1.0, 0.5

    def integrand(z):
        a, b = npdf(z, m1, v1), npdf(z, 0.0, 1.0)
        mix = 0.5 * (a + b)
        return 0.5 * a * np.log(a / mix) + 0.5 * b * np.log(b / mix)

    exact = quad(integrand, -12.0, 12.0)
    est = mc_js_normal(t64(m1), t64(math.log(v1)), t64(0.0), t64(0.0), 50_000, gen(3))
    assert abs(est.value.item() - exact) < 5 * est.stderr.item()
    assert 0.0 < est.value.item() < math.log(2.0)
    same = mc_js_normal(t64(m1), t64(0.2), t64(m1), t64(0.2), 100, gen())
    assert same.value.item() == pytest.approx(0.0, abs=1e-12)  # identical components: zero exactly


def test_primal_estimate_matches_quadrature():
    """Equations (5)-(6) integrated numerically with N_alpha written out from (9)-(10)."""
    mq, vq, alpha = -0.8, math.exp(0.6), 0.35
    prec = alpha / vq + (1 - alpha)
    va, ma = 1 / prec, (alpha * mq / vq) / prec

    def kl(m1, v1):
        return quad(lambda z: npdf(z, m1, v1) * np.log(npdf(z, m1, v1) / npdf(z, ma, va)))

    exact = (1 - alpha) * kl(mq, vq) + alpha * kl(0.0, 1.0)
    est = mc_gjs_normal(t64(mq), t64(math.log(vq)), alpha, False, 50_000, gen(5))
    assert abs(est.value.item() - exact) < 5 * est.stderr.item()


def test_same_seed_same_estimate_and_different_seed_differs():
    args = (t64(0.5, -1.0), t64(0.2, -0.4), 0.3, True, 1_000)
    a = mc_gjs_normal(*args, gen(7))
    b = mc_gjs_normal(*args, gen(7))
    c = mc_gjs_normal(*args, gen(8))
    assert a.value.item() == b.value.item() and a.stderr.item() == b.stderr.item()
    assert a.value.item() != c.value.item()


def test_standard_error_shrinks_like_one_over_root_n():
    args = (t64(1.0, 0.0), t64(-0.5, 0.3), t64(0.0, 0.0), t64(0.0, 0.0))
    small = mc_kl_normal(*args, 10_000, gen(1)).stderr.item()
    large = mc_kl_normal(*args, 160_000, gen(2)).stderr.item()
    assert large / small == pytest.approx(0.25, rel=0.1)


def test_batch_shapes_and_tensor_alpha():
    g = gen()
    mu = torch.randn((4, 3), generator=g, dtype=F64)
    logvar = torch.randn((4, 3), generator=g, dtype=F64)
    alpha = t64(0.0, 0.3, 0.6, 1.0)
    for dual in (False, True):
        est = mc_gjs_normal(mu, logvar, alpha, dual, 2_000, g)
        assert est.value.shape == (4,) and est.stderr.shape == (4,)
        one = mc_gjs_normal(mu[1], logvar[1], 0.3, dual, 2_000, gen(11))
        assert one.value.shape == ()
    cov = torch.eye(3, dtype=F64).expand(4, 3, 3) * 0.5
    assert mc_kl_mvn(mu, cov, torch.zeros(3, dtype=F64), torch.eye(3, dtype=F64), 500, g).value.shape == (4,)
    assert mc_gjs_mvn(mu, cov, mu, cov * 2, alpha, True, 500, g).value.shape == (4,)


def test_full_covariance_estimate_agrees_with_diagonal_estimate_in_distribution():
    """Same diagonal Gaussians through both samplers: estimates agree within their errors."""
    mu, logvar = t64(0.4, -1.2), t64(-0.6, 0.8)
    cov = torch.diag_embed(logvar.exp())
    zero, eye = torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64)
    for dual in (False, True):
        d = mc_gjs_normal(mu, logvar, 0.3, dual, 40_000, gen(1))
        f = mc_gjs_mvn(mu, cov, zero, eye, 0.3, dual, 40_000, gen(2))
        assert abs(d.value.item() - f.value.item()) < 5 * math.hypot(d.stderr.item(), f.stderr.item())


@pytest.mark.parametrize("n", [0, 1, 2.5])
def test_bad_sample_count_raises(n):
    with pytest.raises(ValueError, match=f"n_samples .*{n}"):
        mc_kl_normal(t64(0.0), t64(0.0), t64(0.0), t64(0.0), n, gen())


def test_bad_alpha_raises():
    with pytest.raises(ValueError, match="alpha .*1.2"):
        mc_gjs_normal(t64(0.0), t64(0.0), 1.2, False, 100, gen())
    with pytest.raises(ValueError, match="alpha .*-0.5"):
        mc_gjs_mvn(
            t64(0.0), torch.eye(1, dtype=F64), t64(0.0), torch.eye(1, dtype=F64), -0.5, True, 100, gen()
        )


def test_closed_form_table():
    table = closed_form_vs_mc(5_000, seed=0)
    assert list(table.columns) == ["closed_form", "mc", "stderr", "abs_error", "z"]
    assert len(table) == 11
    assert (table["z"].dropna() < 5).all()
    # the dual at alpha = 1/2 has a constant integrand: exact, so no z-score
    assert set(table.index[table["z"].isna()]) == {"dual a=0.5, diag", "dual a=0.5, full"}
    assert (table.loc[table["z"].isna(), "abs_error"] < 1e-12).all()
    again = closed_form_vs_mc(5_000, seed=0)
    assert table.equals(again)


def test_settings_cover_every_preset():
    for preset in PRESET_NAMES:
        assert select(SETTINGS, preset)["n_samples"] >= 1_000
