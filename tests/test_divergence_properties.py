"""Property tests of the divergence family (equations 1, 5-10) over wide random inputs."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from alphavae_core.divergences import gjs_mvn, gjs_normal, gjs_normal_literal, kl_mvn, kl_normal

SETTINGS = settings(max_examples=50, deadline=None)
DTYPES = st.sampled_from([torch.float32, torch.float64])
ALPHA = st.floats(0.0, 1.0)


@st.composite
def gaussians(draw, mu_max: float = 10.0, logvar_max: float = 8.0, dtype=torch.float64):
    """(mu, logvar) of q and of a general prior, same latent dimension k in 1..4."""
    k = draw(st.integers(1, 4))

    def vec(bound):
        return torch.tensor(draw(st.lists(st.floats(-bound, bound), min_size=k, max_size=k)), dtype=dtype)

    return vec(mu_max), vec(logvar_max), vec(mu_max), vec(logvar_max)


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-8) -> bool:
    return bool(((a - b).abs() <= rtol * (1 + b.abs())).all())


@SETTINGS
@given(gaussians(), ALPHA, st.booleans())
def test_non_negative(params, alpha, dual):
    mu, logvar, mu_p, logvar_p = params
    out = gjs_normal(mu, logvar, alpha, dual, mu_prior=mu_p, logvar_prior=logvar_p)
    assert float(out) >= -1e-9 * (1 + float(kl_normal(mu, logvar, mu_p, logvar_p)))
    assert float(gjs_normal_literal(mu, logvar, alpha, dual)) >= -1e-9


@SETTINGS
@given(gaussians(), st.booleans())
def test_endpoints_are_the_two_kls(params, dual):
    mu, logvar, mu_p, logvar_p = params
    kw = {"mu_prior": mu_p, "logvar_prior": logvar_p}
    kl_qp, kl_pq = kl_normal(mu, logvar, mu_p, logvar_p), kl_normal(mu_p, logvar_p, mu, logvar)
    at0, at1 = (kl_pq, kl_qp) if dual else (kl_qp, kl_pq)
    assert close(gjs_normal(mu, logvar, 0.0, dual, **kw), at0)
    assert close(gjs_normal(mu, logvar, 1.0, dual, **kw), at1)


@SETTINGS
@given(gaussians(), ALPHA, st.booleans())
def test_swapping_q_and_p_flips_alpha(params, alpha, dual):
    """JS^Galpha(q||p) = JS^G(1-alpha)(p||q): the 'prior first' convention is the same family."""
    mu, logvar, mu_p, logvar_p = params
    ours = gjs_normal(mu, logvar, alpha, dual, mu_prior=mu_p, logvar_prior=logvar_p)
    swapped = gjs_normal(mu_p, logvar_p, 1.0 - alpha, dual, mu_prior=mu, logvar_prior=logvar)
    assert close(ours, swapped, rtol=1e-7)


@SETTINGS
@given(gaussians(mu_max=5.0, logvar_max=4.0), ALPHA, st.booleans())
def test_diagonal_equals_full_covariance(params, alpha, dual):
    mu, logvar, mu_p, logvar_p = params
    diag = gjs_normal(mu, logvar, alpha, dual, mu_prior=mu_p, logvar_prior=logvar_p)
    full = gjs_mvn(mu, torch.diag_embed(logvar.exp()), mu_p, torch.diag_embed(logvar_p.exp()), alpha, dual)
    assert close(full, diag, rtol=1e-7)
    kl_full = kl_mvn(mu, torch.diag_embed(logvar.exp()), mu_p, torch.diag_embed(logvar_p.exp()))
    assert close(kl_full, kl_normal(mu, logvar, mu_p, logvar_p), rtol=1e-7)


@SETTINGS
@given(st.data(), DTYPES, st.booleans())
def test_finite_values_and_gradients_over_wide_ranges(data, dtype, dual):
    mu, logvar, _, _ = data.draw(gaussians(mu_max=30.0, logvar_max=25.0, dtype=dtype))
    alpha = torch.tensor(data.draw(ALPHA), dtype=dtype, requires_grad=True)
    mu.requires_grad_()
    logvar.requires_grad_()
    out = gjs_normal(mu, logvar, alpha, dual)
    out.backward()
    assert out.dtype == dtype and bool(torch.isfinite(out))
    for t in (mu, logvar, alpha):
        assert bool(torch.isfinite(t.grad).all())


@SETTINGS
@given(gaussians(mu_max=5.0, logvar_max=4.0), ALPHA, st.booleans())
def test_float32_agrees_with_float64(params, alpha, dual):
    mu, logvar, mu_p, logvar_p = params
    ref = gjs_normal(mu, logvar, alpha, dual, mu_prior=mu_p, logvar_prior=logvar_p)
    f32 = [t.float() for t in params]
    got = gjs_normal(f32[0], f32[1], alpha, dual, mu_prior=f32[2], logvar_prior=f32[3])
    assert got.dtype == torch.float32
    # float32 keeps ~7 digits of each KL term; the sum can be much smaller than its parts
    scale = kl_normal(mu, logvar, mu_p, logvar_p) + kl_normal(mu_p, logvar_p, mu, logvar)
    assert abs(float(got) - float(ref)) <= 1e-5 * (1 + float(scale))
