"""Closed-form KL and JS^Galpha (equations 1, 5-10) against independent computations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import integrate

from alphavae_core.chapters.divergences.montecarlo import mc_gjs_mvn, mc_gjs_normal, mc_kl_mvn, mc_kl_normal
from alphavae_core.divergences import (
    check_alpha,
    geometric_mean_mvn,
    geometric_mean_normal,
    gjs_mvn,
    gjs_normal,
    gjs_normal_literal,
    kl_mvn,
    kl_normal,
)

F64 = torch.float64


def t64(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=F64)


def random_q(shape=(3, 4), seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=dtype) * 1.5
    logvar = torch.randn(shape, generator=g, dtype=dtype)
    return mu, logvar


def random_spd(k: int, seed: int, batch=()) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn((*batch, k, k), generator=g, dtype=F64)
    return a @ a.transpose(-2, -1) / k + 0.3 * torch.eye(k, dtype=F64)


def random_mvn(k: int, seed: int, batch=()):
    g = torch.Generator().manual_seed(seed + 1000)
    return torch.randn((*batch, k), generator=g, dtype=F64), random_spd(k, seed, batch)


# ---------------------------------------------------------------- independent references


def np_kl_mvn(m1, s1, m2, s2) -> float:
    """Equation (1) for full Gaussians, textbook formula in numpy."""
    k = len(m1)
    s2_inv = np.linalg.inv(s2)
    d = m2 - m1
    return 0.5 * (
        np.trace(s2_inv @ s1) + d @ s2_inv @ d - k + np.linalg.slogdet(s2)[1] - np.linalg.slogdet(s1)[1]
    )


def np_gjs_mvn(mq, sq, mp, sp, alpha, dual) -> float:
    """Equations (5)-(10) with N_alpha ∝ q^alpha p^(1-alpha), written out in numpy."""
    prec = alpha * np.linalg.inv(sq) + (1 - alpha) * np.linalg.inv(sp)
    sa = np.linalg.inv(prec)
    ma = sa @ (alpha * np.linalg.solve(sq, mq) + (1 - alpha) * np.linalg.solve(sp, mp))
    if dual:
        return (1 - alpha) * np_kl_mvn(ma, sa, mq, sq) + alpha * np_kl_mvn(ma, sa, mp, sp)
    return (1 - alpha) * np_kl_mvn(mq, sq, ma, sa) + alpha * np_kl_mvn(mp, sp, ma, sa)


def npdf(z, m, v):
    return np.exp(-0.5 * (z - m) ** 2 / v) / np.sqrt(2 * np.pi * v)


def quad_kl_1d(m1, v1, m2, v2) -> float:
    """KL by numerical integration of equation (1) in one dimension."""

    def f(z):
        return npdf(z, m1, v1) * (np.log(npdf(z, m1, v1)) - np.log(npdf(z, m2, v2)))

    lo, hi = m1 - 12 * math.sqrt(v1), m1 + 12 * math.sqrt(v1)
    return integrate.quad(f, lo, hi, limit=200, epsabs=1e-12)[0]


# ---------------------------------------------------------------- KL


def test_kl_normal_matches_quadrature_and_torch():
    for m1, lv1, m2, lv2 in [(1.0, -1.0, 0.0, 0.0), (0.0, 0.0, 1.0, -1.0), (-2.0, 1.5, 0.5, -0.5)]:
        got = kl_normal(t64(m1), t64(lv1), t64(m2), t64(lv2)).item()
        assert got == pytest.approx(quad_kl_1d(m1, math.exp(lv1), m2, math.exp(lv2)), rel=1e-7, abs=1e-10)
    mu, logvar = random_q()
    mu2, logvar2 = random_q(seed=1)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()),
        torch.distributions.Normal(mu2, (0.5 * logvar2).exp()),
    ).sum(-1)
    torch.testing.assert_close(kl_normal(mu, logvar, mu2, logvar2), ref)


def test_kl_mvn_matches_numpy_and_torch():
    m1, s1 = random_mvn(3, 1)
    m2, s2 = random_mvn(3, 2)
    got = kl_mvn(m1, s1, m2, s2).item()
    assert got == pytest.approx(np_kl_mvn(m1.numpy(), s1.numpy(), m2.numpy(), s2.numpy()), rel=1e-10)
    ref = torch.distributions.kl_divergence(
        torch.distributions.MultivariateNormal(m1, s1), torch.distributions.MultivariateNormal(m2, s2)
    )
    assert got == pytest.approx(ref.item(), rel=1e-10)


# ---------------------------------------------------------------- geometric mean (eqs 9-10)


def test_geometric_mean_is_normalised_power_mean():
    """log N_alpha - alpha log q - (1 - alpha) log p is constant in z and equals -log Z_alpha."""
    mq, vq, alpha = 1.2, math.exp(-0.7), 0.3
    mu_a, logvar_a = geometric_mean_normal(t64(mq), t64(math.log(vq)), t64(0.0), t64(0.0), alpha)
    ma, va = mu_a.item(), math.exp(logvar_a.item())
    z = np.linspace(-4, 4, 9)
    offset = np.log(npdf(z, ma, va)) - alpha * np.log(npdf(z, mq, vq)) - (1 - alpha) * np.log(npdf(z, 0, 1))
    np.testing.assert_allclose(offset, offset[0], atol=1e-12)
    z_alpha = integrate.quad(lambda x: npdf(x, mq, vq) ** alpha * npdf(x, 0, 1) ** (1 - alpha), -20, 20)[0]
    assert offset[0] == pytest.approx(-math.log(z_alpha), abs=1e-9)


def test_geometric_mean_mvn_matches_diagonal_and_endpoints():
    mu, logvar = random_q((4,))
    mu_p, logvar_p = random_q((4,), seed=3)
    cov_q, cov_p = torch.diag_embed(logvar.exp()), torch.diag_embed(logvar_p.exp())
    for a in (0.0, 0.37, 1.0):
        m_d, lv_d = geometric_mean_normal(mu, logvar, mu_p, logvar_p, a)
        m_f, c_f = geometric_mean_mvn(mu, cov_q, mu_p, cov_p, a)
        torch.testing.assert_close(m_f, m_d)
        torch.testing.assert_close(c_f, torch.diag_embed(lv_d.exp()))
    m0, c0 = geometric_mean_mvn(mu, cov_q, mu_p, cov_p, 0.0)
    torch.testing.assert_close((m0, c0), (mu_p, cov_p))  # alpha=0 is the prior, alpha=1 is q


# ---------------------------------------------------------------- endpoint identities


@pytest.mark.parametrize("prior", ["standard", "general"])
def test_endpoints_diagonal(prior):
    mu, logvar = random_q()
    if prior == "standard":
        mu_p, logvar_p = torch.zeros_like(mu), torch.zeros_like(logvar)
    else:
        mu_p, logvar_p = random_q(seed=7)
    kw = {"mu_prior": mu_p, "logvar_prior": logvar_p}
    kl_qp, kl_pq = kl_normal(mu, logvar, mu_p, logvar_p), kl_normal(mu_p, logvar_p, mu, logvar)
    torch.testing.assert_close(gjs_normal(mu, logvar, 0.0, **kw), kl_qp)
    torch.testing.assert_close(gjs_normal(mu, logvar, 1.0, **kw), kl_pq)
    torch.testing.assert_close(gjs_normal(mu, logvar, 0.0, dual=True, **kw), kl_pq)
    torch.testing.assert_close(gjs_normal(mu, logvar, 1.0, dual=True, **kw), kl_qp)


def test_endpoints_full_covariance():
    mq, sq = random_mvn(3, 11, batch=(2,))
    mp, sp = random_mvn(3, 12, batch=(2,))
    kl_qp, kl_pq = kl_mvn(mq, sq, mp, sp), kl_mvn(mp, sp, mq, sq)
    torch.testing.assert_close(gjs_mvn(mq, sq, mp, sp, 0.0), kl_qp)
    torch.testing.assert_close(gjs_mvn(mq, sq, mp, sp, 1.0), kl_pq)
    torch.testing.assert_close(gjs_mvn(mq, sq, mp, sp, 0.0, dual=True), kl_pq)
    torch.testing.assert_close(gjs_mvn(mq, sq, mp, sp, 1.0, dual=True), kl_qp)


def test_literal_reading_vanishes_at_both_ends():
    mu, logvar = random_q()
    for dual in (False, True):
        for a in (0.0, 1.0):
            torch.testing.assert_close(gjs_normal_literal(mu, logvar, a, dual), torch.zeros(3, dtype=F64))
        # the two readings weight N_alpha the same way at alpha = 1/2
        torch.testing.assert_close(
            gjs_normal_literal(mu, logvar, 0.5, dual), gjs_normal(mu, logvar, 0.5, dual)
        )
        assert bool((gjs_normal_literal(mu, logvar, 0.3, dual) > 0).all())


def test_prior_first_convention_is_alpha_flipped():
    """Eqs (3)-(4), Fig. 1(b): prior first with skew a' equals ours at alpha = 1 - a'."""
    mu, logvar = random_q()
    zero = torch.zeros_like(mu)
    for a, dual in itertools.product((0.0, 0.2, 0.5, 0.9), (False, True)):
        prior_first = gjs_normal(zero, zero, a, dual, mu_prior=mu, logvar_prior=logvar)
        torch.testing.assert_close(prior_first, gjs_normal(mu, logvar, 1 - a, dual))


# ---------------------------------------------------------------- Monte Carlo (5 sigma)


def within_5_sigma(exact: torch.Tensor, est) -> None:
    tol = 5 * est.stderr + 1e-9 * (1 + exact.abs())  # zero-variance integrands (dual at 1/2) are exact
    assert bool(((exact - est.value).abs() <= tol).all()), (exact, est)


@pytest.mark.parametrize("dual", [False, True])
def test_closed_forms_match_monte_carlo(dual):
    g = torch.Generator().manual_seed(1)
    mu, logvar = random_q((2, 3), seed=5)
    mu_p, logvar_p = random_q((2, 3), seed=6)
    within_5_sigma(kl_normal(mu, logvar, mu_p, logvar_p), mc_kl_normal(mu, logvar, mu_p, logvar_p, 40_000, g))
    for a in (0.0, 0.3, 0.5, 1.0):
        exact = gjs_normal(mu, logvar, a, dual, mu_prior=mu_p, logvar_prior=logvar_p)
        within_5_sigma(exact, mc_gjs_normal(mu, logvar, a, dual, 40_000, g, mu_p, logvar_p))
    mq, sq = random_mvn(3, 21)
    mp, sp = random_mvn(3, 22)
    within_5_sigma(kl_mvn(mq, sq, mp, sp), mc_kl_mvn(mq, sq, mp, sp, 40_000, g))
    for a in (0.25, 0.5, 0.8):
        within_5_sigma(gjs_mvn(mq, sq, mp, sp, a, dual), mc_gjs_mvn(mq, sq, mp, sp, a, dual, 40_000, g))


# ---------------------------------------------------------------- diagonal vs full covariance


@pytest.mark.parametrize("dual", [False, True])
def test_diagonal_equals_full_covariance(dual):
    mu, logvar = random_q((5, 4))
    mu_p, logvar_p = random_q((5, 4), seed=2)
    alpha = torch.linspace(0, 1, 5, dtype=F64)
    diag = gjs_normal(mu, logvar, alpha, dual, mu_prior=mu_p, logvar_prior=logvar_p)
    full = gjs_mvn(mu, torch.diag_embed(logvar.exp()), mu_p, torch.diag_embed(logvar_p.exp()), alpha, dual)
    torch.testing.assert_close(full, diag)


@pytest.mark.parametrize("dual", [False, True])
def test_gjs_mvn_matches_numpy_non_diagonal(dual):
    for seed, a in [(1, 0.0), (2, 0.3), (3, 0.5), (4, 0.85), (5, 1.0)]:
        mq, sq = random_mvn(3, seed)
        mp, sp = random_mvn(3, seed + 50)
        got = gjs_mvn(mq, sq, mp, sp, a, dual).item()
        ref = np_gjs_mvn(mq.numpy(), sq.numpy(), mp.numpy(), sp.numpy(), a, dual)
        assert got == pytest.approx(ref, rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("dual", [False, True])
def test_gradcheck_gjs_normal(dual):
    mu, logvar = random_q((2, 3))
    alpha = t64(0.3, 0.7)
    inputs = (mu.requires_grad_(), logvar.requires_grad_(), alpha.requires_grad_())
    assert torch.autograd.gradcheck(lambda m, lv, a: gjs_normal(m, lv, a, dual), inputs)
    assert torch.autograd.gradcheck(lambda m, lv, a: gjs_normal_literal(m, lv, a, dual), inputs)
    mu2, logvar2 = random_q((2, 3), seed=4)
    assert torch.autograd.gradcheck(kl_normal, (mu, logvar, mu2.requires_grad_(), logvar2.requires_grad_()))


@pytest.mark.parametrize("dual", [False, True])
def test_gradcheck_gjs_mvn(dual):
    mq = random_mvn(3, 1)[0].requires_grad_()
    mp, sp = random_mvn(3, 2)
    root = (torch.linalg.cholesky(random_spd(3, 9))).requires_grad_()
    alpha = t64(0.4).requires_grad_()

    def f(m, r, a):
        return gjs_mvn(m, r @ r.T, mp, sp, a, dual)  # r r^T keeps the perturbed covariance SPD

    assert torch.autograd.gradcheck(f, (mq, root, alpha))


def test_gradient_wrt_alpha_matches_finite_difference_of_numpy():
    mq, sq = random_mvn(2, 3)
    mp, sp = random_mvn(2, 4)
    alpha = t64(0.6).requires_grad_()
    gjs_mvn(mq, sq, mp, sp, alpha).backward()
    h = 1e-6
    args = (mq.numpy(), sq.numpy(), mp.numpy(), sp.numpy())
    fd = (np_gjs_mvn(*args, 0.6 + h, False) - np_gjs_mvn(*args, 0.6 - h, False)) / (2 * h)
    assert alpha.grad.item() == pytest.approx(fd, rel=1e-6)


# ---------------------------------------------------------------- dtypes, batches, broadcasting


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes_preserved_and_float32_accurate(dtype):
    mu, logvar = random_q()
    ref = gjs_normal(mu, logvar, 0.3)
    got = gjs_normal(mu.to(dtype), logvar.to(dtype), 0.3)
    assert got.dtype == dtype
    torch.testing.assert_close(got.double(), ref, rtol=1e-5, atol=1e-6)
    alpha = torch.tensor([0.2, 0.5, 0.9], dtype=dtype)
    assert gjs_normal(mu.to(dtype), logvar.to(dtype), alpha, dual=True).dtype == dtype
    mq, sq = random_mvn(3, 1)
    got = gjs_mvn(mq.to(dtype), sq.to(dtype), torch.zeros(3, dtype=dtype), torch.eye(3, dtype=dtype), 0.3)
    assert got.dtype == dtype
    ref = gjs_mvn(mq, sq, torch.zeros(3, dtype=F64), torch.eye(3, dtype=F64), 0.3)
    assert got.item() == pytest.approx(ref.item(), rel=1e-5)


def test_tensor_alpha_broadcasts_over_batch_dims():
    mu, logvar = random_q((3, 4, 5))
    alpha_full = torch.rand((3, 4), generator=torch.Generator().manual_seed(0), dtype=F64)
    out = gjs_normal(mu, logvar, alpha_full)
    assert out.shape == (3, 4)
    for i, j in itertools.product(range(3), range(4)):
        expect = gjs_normal(mu[i, j], logvar[i, j], float(alpha_full[i, j]))
        torch.testing.assert_close(out[i, j], expect)
    per_column = t64(0.1, 0.4, 0.6, 0.95)  # shape (4,) broadcasts against batch shape (3, 4)
    torch.testing.assert_close(
        gjs_normal(mu, logvar, per_column, dual=True)[2], gjs_normal(mu[2], logvar[2], per_column, dual=True)
    )
    torch.testing.assert_close(gjs_normal(mu, logvar, t64(0.4)), gjs_normal(mu, logvar, 0.4))
    mq, sq = random_mvn(3, 5, batch=(4,))
    mp, sp = random_mvn(3, 6, batch=(4,))
    out = gjs_mvn(mq, sq, mp, sp, per_column)
    assert out.shape == (4,)
    torch.testing.assert_close(out[1], gjs_mvn(mq[1], sq[1], mp[1], sp[1], 0.4))


def test_prior_broadcasts_against_batch():
    mu, logvar = random_q((6, 3))
    mu_p, logvar_p = random_q((3,), seed=8)
    out = gjs_normal(mu, logvar, 0.4, mu_prior=mu_p, logvar_prior=logvar_p)
    expect = gjs_normal(mu, logvar, 0.4, mu_prior=mu_p.expand(6, 3), logvar_prior=logvar_p.expand(6, 3))
    torch.testing.assert_close(out, expect)


# ---------------------------------------------------------------- extreme inputs


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dual", [False, True])
def test_extreme_inputs_give_finite_values_and_gradients(dtype, dual):
    grid = list(itertools.product([-30.0, 0.0, 30.0], [-25.0, 0.0, 25.0], [0.0, 0.5, 1.0]))
    mu = torch.tensor([[m, 0.5] for m, _, _ in grid], dtype=dtype, requires_grad=True)
    logvar = torch.tensor([[lv, -0.5] for _, lv, _ in grid], dtype=dtype, requires_grad=True)
    alpha = torch.tensor([a for _, _, a in grid], dtype=dtype, requires_grad=True)
    for fn in (gjs_normal, gjs_normal_literal):
        out = fn(mu, logvar, alpha, dual)
        assert bool(torch.isfinite(out).all()) and bool((out >= -1e-5).all())  # zero up to rounding
        mu.grad = logvar.grad = alpha.grad = None
        out.sum().backward()
        for t in (mu, logvar, alpha):
            assert bool(torch.isfinite(t.grad).all())
    zeros = torch.zeros_like(mu)
    for pair in ((mu, logvar, zeros, zeros), (zeros, zeros, mu, logvar)):
        mu.grad = logvar.grad = None
        out = kl_normal(*pair)
        out.sum().backward()
        assert bool(torch.isfinite(out).all()) and bool(torch.isfinite(mu.grad).all())
        assert bool(torch.isfinite(logvar.grad).all())


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_alpha_raises_naming_value(bad):
    mu, logvar = random_q()
    mq, sq = random_mvn(2, 1)
    text = "nan" if math.isnan(bad) else str(bad)
    calls = [
        lambda a: check_alpha(a),
        lambda a: gjs_normal(mu, logvar, a),
        lambda a: gjs_normal(mu, logvar, a, dual=True),
        lambda a: gjs_normal_literal(mu, logvar, a),
        lambda a: geometric_mean_normal(mu, logvar, mu, logvar, a),
        lambda a: gjs_mvn(mq, sq, mq, sq, a),
        lambda a: geometric_mean_mvn(mq, sq, mq, sq, a),
    ]
    for call in calls:
        for alpha in (bad, t64(0.5, bad, 0.2)):
            with pytest.raises(ValueError, match=rf"alpha .*{text}"):
                call(alpha)


def test_shape_mismatch_names_both_shapes():
    a, b = torch.zeros(3, 4), torch.zeros(3, 5)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        kl_normal(a, b, a, a)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        kl_normal(a, a, b, b)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        gjs_normal(a, b, 0.5)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        gjs_normal(a, a, 0.5, mu_prior=b, logvar_prior=b)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        gjs_normal_literal(a, b, 0.5)
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(2,\)"):
        kl_mvn(torch.zeros(2), torch.eye(3), torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3,\)"):
        gjs_mvn(torch.zeros(2), torch.eye(2), torch.zeros(3), torch.eye(2), 0.5)


def test_non_positive_definite_covariance_raises():
    not_pd = torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=F64)
    mu, eye = torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64)
    for call in (
        lambda: kl_mvn(mu, not_pd, mu, eye),
        lambda: kl_mvn(mu, eye, mu, not_pd),
        lambda: gjs_mvn(mu, not_pd, mu, eye, 0.5),
        lambda: gjs_mvn(mu, eye, mu, -eye, 0.5, dual=True),
        lambda: geometric_mean_mvn(mu, eye, mu, not_pd, 0.5),
    ):
        with pytest.raises(ValueError, match="positive definite"):
            call()


# ---------------------------------------------------------------- symmetry and skew shapes


def test_non_symmetric_covariance_raises():
    mu, eye = torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64)
    upper_only = torch.tensor([[1.0, 0.5], [0.0, 1.0]], dtype=F64)
    with pytest.raises(ValueError, match="symmetric"):
        kl_mvn(mu, upper_only, mu, eye)


def test_alpha_shape_not_matching_batch_raises_value_error():
    mu, logvar = random_q((4, 4))
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        gjs_normal(mu, logvar, torch.full((4, 4), 0.5, dtype=F64))


def test_shape_check_agrees_with_torch_broadcasting() -> None:
    from alphavae_core.divergences import _broadcasts

    shapes = [(), (1,), (3,), (2, 3), (2, 1), (1, 3), (4, 2, 3), (4, 1, 1), (5, 2, 3), (3, 2)]
    for a in shapes:
        for b in shapes:
            try:
                torch.broadcast_shapes(a, b)
                expected = True
            except RuntimeError:
                expected = False
            assert _broadcasts(a, b) == expected, (a, b)
