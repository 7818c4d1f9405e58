"""Propositions 1-2 (alphavae_core.chapters.skew_optimisation) against independent computations."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest
import torch
from scipy import integrate

from alphavae_core.chapters import skew_optimisation as skew
from alphavae_core.chapters.skew_optimisation import explorer as skew_explore
from alphavae_core.divergences import gjs_mvn, gjs_normal, log_normal_density

F64 = torch.float64
# (mean, log-variance) pairs in 1-D, and heterogeneous 3-D q's
QS_1D = [(1.0, -1.0), (0.0, -2.0), (0.0, 2.0), (2.0, -4.0), (0.3, 1.5), (3.0, -6.0)]
Q_3D = (torch.tensor([0.5, -1.2, 2.0], dtype=F64), torch.tensor([-3.0, 0.7, -0.2], dtype=F64))


pytestmark = pytest.mark.usefixtures("one_thread")


def _q(mean: float, logvar: float, dim: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.full((dim,), mean, dtype=F64), torch.full((dim,), logvar, dtype=F64)


def _all_qs():
    return [_q(m, s) for m, s in QS_1D] + [Q_3D]


# ------------------------------------------------------------------- equation 16 and eq. 18


@pytest.mark.parametrize("q", _all_qs())
def test_eq16_is_the_minimiser_of_eq18(q):
    mu, lv = q
    fwd, rev = skew.kl_directions(mu, lv)
    approx = lambda a: a**2 * fwd + (1 - a) ** 2 * rev  # noqa: E731 (eq. 18, our convention)
    found = skew.minimise_skew(approx, grid=1001)
    eq16 = skew.alpha_star_eq16(mu, lv)
    assert float(found) == pytest.approx(float(eq16), abs=1e-12)
    assert float(eq16) == pytest.approx(float(rev / (fwd + rev)), abs=1e-15)
    # eq. 16 as printed (prior first) is one minus ours
    assert float(skew.alpha_star_eq16(mu, lv, convention="paper")) == pytest.approx(
        1 - float(eq16), abs=1e-15
    )
    # eq. 19 in our convention vanishes there; eq. 20/22's curvature is 2(KL(p||q) + KL(q||p))
    assert abs(float(skew.derivative(mu, lv, eq16.reshape(1), objective="approx"))) < 1e-9 * float(fwd + rev)
    curv = skew.curvature(mu, lv, torch.linspace(0, 1, 5, dtype=F64), objective="approx")
    assert torch.allclose(curv, 2 * (fwd + rev).expand(5))


def test_approx_landscape_matches_gjs_at_the_ends():
    mu, lv = Q_3D
    ends = torch.tensor([0.0, 1.0], dtype=F64)
    assert torch.allclose(skew.approx_landscape(mu, lv, ends), skew.landscape(mu, lv, ends))


# ------------------------------------------------------------------------ exact minimiser


@pytest.mark.parametrize("dual", [False, True])
@pytest.mark.parametrize("q", _all_qs())
def test_exact_minimiser_minimises_gjs_normal(q, dual):
    mu, lv = q
    star = skew.exact_alpha_star(mu, lv, dual=dual)
    assert star.shape == ()
    assert 0.0 < float(star) < 1.0  # f'(0) < 0 < f'(1) for both divergences, so interior
    fine = torch.linspace(0, 1, 20001, dtype=F64)
    at_star = gjs_normal(mu, lv, float(star), dual=dual)
    assert float(at_star) <= float(
        gjs_normal(mu.expand(20001, -1), lv.expand(20001, -1), fine, dual=dual).min()
    )
    fwd, rev = skew.kl_directions(mu, lv)
    slope = skew.derivative(mu, lv, star.reshape(1), dual=dual)
    assert abs(float(slope)) < 1e-9 * float(fwd + rev)


def test_exact_minimiser_batches_like_single_calls():
    mu = torch.tensor([[1.0], [0.0], [2.0]], dtype=F64)
    lv = torch.tensor([[-1.0], [-2.0], [-4.0]], dtype=F64)
    batch = skew.exact_alpha_star(mu, lv, dual=True)
    single = torch.stack([skew.exact_alpha_star(m, s, dual=True) for m, s in zip(mu, lv, strict=True)])
    assert batch.shape == (3,)
    assert torch.allclose(batch, single, atol=1e-14)


def test_isotropic_minimiser_does_not_depend_on_dimension():
    for dual in (False, True):
        one = skew.exact_alpha_star(*_q(1.3, -2.5, 1), dual=dual)
        many = skew.exact_alpha_star(*_q(1.3, -2.5, 17), dual=dual)
        assert float(one) == pytest.approx(float(many), abs=1e-12)


def _mvn_landscape(mu: torch.Tensor, cov: torch.Tensor, dual: bool):
    """alpha of shape (k,) -> gjs_mvn against N(0, I) at each skew (q repeated k times)."""
    d = mu.shape[-1]
    zero, eye = torch.zeros(d, dtype=F64), torch.eye(d, dtype=F64)
    return lambda a: gjs_mvn(mu.expand(len(a), d), cov.expand(len(a), d, d), zero, eye, a, dual=dual)


@pytest.mark.parametrize("dual", [False, True])
def test_diagonal_and_full_covariance_minimisers_agree(dual):
    mu, lv = Q_3D
    diag = skew.exact_alpha_star(mu, lv, dual=dual)
    full = skew.minimise_skew(_mvn_landscape(mu, torch.diag(lv.exp()), dual), grid=101)
    assert float(full) == pytest.approx(float(diag), abs=1e-9)
    # a rotated q has the same divergences to the isotropic prior, hence the same minimiser
    rot, _ = torch.linalg.qr(torch.tensor([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [1.5, 0.2, -0.7]], dtype=F64))
    cov = rot @ torch.diag(lv.exp()) @ rot.T
    rotated = skew.minimise_skew(_mvn_landscape(rot @ mu, cov, dual), grid=101)
    assert float(rotated) == pytest.approx(float(diag), abs=1e-9)


def test_q_equal_to_prior_is_flat():
    mu, lv = _q(0.0, 0.0, 4)
    alphas = torch.linspace(0, 1, 11, dtype=F64)
    for dual in (False, True):
        assert torch.equal(skew.landscape(mu, lv, alphas, dual=dual), torch.zeros(11, dtype=F64))
        assert math.isnan(float(skew.exact_alpha_star(mu, lv, dual=dual)))
    assert math.isnan(float(skew.alpha_star_eq16(mu, lv)))
    sweep = skew.sweep_isotropic(3, 4, grid=51)  # the grid holds m = 0, s = 0: left out
    assert len(sweep) == 11 and not sweep["exact_primal"].isna().any()


# ----------------------------------------------------------------- the normaliser identities


@pytest.mark.parametrize("mean,logvar", [(1.0, -1.0), (0.0, 1.5), (2.0, -3.0)])
def test_log_normaliser_matches_quadrature(mean, logvar):
    mu, lv = _q(mean, logvar)
    alphas = torch.tensor([0.0, 0.2, 0.5, 0.9, 1.0], dtype=F64)
    ours = skew.log_normaliser(mu, lv, alphas)
    zero = torch.zeros(1, dtype=F64)
    for a, value in zip(alphas.tolist(), ours.tolist(), strict=True):

        def integrand(z: float, a: float = a) -> float:
            zt = torch.tensor([z], dtype=F64)
            return math.exp(
                a * float(log_normal_density(zt, mu, lv))
                + (1 - a) * float(log_normal_density(zt, zero, zero))
            )

        numeric, _ = integrate.quad(integrand, -40, 40, points=[0.0, mean], limit=200)
        assert value == pytest.approx(math.log(numeric), abs=1e-8)
    assert float(ours.max()) <= 1e-12  # Hölder: log Z <= 0


def test_dual_is_expectation_form_of_the_normaliser():
    """Exact dual = (2 alpha - 1) d(log Z)/d alpha - log Z (module docstring)."""
    mu, lv = Q_3D
    alphas = torch.linspace(0, 1, 41, dtype=F64)
    log_z = skew.log_normaliser(mu, lv, alphas)
    slope = skew.derivative(mu, lv, alphas) - skew.derivative(mu, lv, alphas, objective="approx")
    dual = skew.landscape(mu, lv, alphas, dual=True)
    assert torch.allclose(dual, (2 * alphas - 1) * slope - log_z, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("q", _all_qs())
def test_exact_primal_is_at_least_as_curved_as_eq18(q):
    mu, lv = q
    fwd, rev = skew.kl_directions(mu, lv)
    curv = skew.curvature(mu, lv, torch.linspace(0, 1, 101, dtype=F64))
    assert float(curv.min()) >= 2 * float(fwd + rev) * (1 - 1e-9)


def test_gap_to_eq16_is_the_tilted_mean_over_lambda():
    """f'(alpha*) = 0 gives alpha* - eq16 = -E_{N_alpha*}[log q/p] / (2 (KL(p||q) + KL(q||p)))."""
    mu, lv = Q_3D
    star = skew.exact_alpha_star(mu, lv)
    tilted = skew.derivative(mu, lv, star.reshape(1)) - skew.derivative(
        mu, lv, star.reshape(1), objective="approx"
    )
    fwd, rev = skew.kl_directions(mu, lv)
    assert float(star - skew.alpha_star_eq16(mu, lv)) == pytest.approx(
        float(-tilted / (2 * (fwd + rev))), abs=1e-9
    )


# ----------------------------------------------------------------------------- Proposition 2


@pytest.mark.parametrize("q", _all_qs())
def test_gd_on_eq18_reaches_eq16_in_one_step_within_the_bound(q):
    mu, lv = q
    starts = (0.0, 0.3, 0.95)
    traj = skew.gd_trajectory(mu, lv, starts, 6, objective="approx")
    assert traj.shape == (7, 3)
    assert torch.equal(traj[0], torch.tensor(starts, dtype=F64))
    assert torch.allclose(traj[1:], skew.alpha_star_eq16(mu, lv).expand(6, 3), atol=1e-12)
    check = skew.prop2_check(mu, lv, starts, 6, objective="approx")
    assert check["first_violation"].isna().all()
    gap = skew.suboptimality(mu, lv, traj, objective="approx")
    bound = skew.prop2_bound(mu, lv, starts, skew.alpha_star_eq16(mu, lv), 6)
    assert torch.all(gap[0] <= bound[0])  # T = 0: gap = bound / 2 exactly
    assert torch.allclose(gap[0], bound[0] / 2)


def test_gd_on_exact_mean_shift_contracts_by_one_half():
    """For q = N(m, 1): f = m^2 (3 alpha^2 - 3 alpha + 1) / 2, so eq. 27's step gives e_{t+1} = -e_t / 2."""
    mu, lv = _q(1.7, 0.0)
    assert float(skew.exact_alpha_star(mu, lv)) == pytest.approx(0.5, abs=1e-12)
    assert float(skew.alpha_star_eq16(mu, lv)) == pytest.approx(0.5, abs=1e-12)
    traj = skew.gd_trajectory(mu, lv, (0.1, 0.9), 5)
    err = traj - 0.5
    assert torch.allclose(err[1:], -0.5 * err[:-1], atol=1e-12)
    check = skew.prop2_check(mu, lv, (0.1, 0.9), 5)
    # gap ratio per step is 1/4 while eq. 28 claims e^-4: violated from the first step
    assert (check["first_violation"] == 1).all()
    assert np.allclose(check["predicted_factor"], 0.5)
    assert np.allclose(check["ratio_after_1"], 0.75 * math.exp(4) / 4)


def test_prop2_bound_values():
    mu, lv = _q(1.0, -1.0)
    fwd, rev = skew.kl_directions(mu, lv)
    bound = skew.prop2_bound(mu, lv, (0.2, 0.9), 0.4, 3)
    assert bound.shape == (4, 2)
    expected = 2 * float(fwd + rev) * (0.2 - 0.4) ** 2 * math.exp(-8)
    assert float(bound[2, 0]) == pytest.approx(expected, rel=1e-12)
    assert float(skew.prop2_step(mu, lv)) == pytest.approx(1 / (2 * float(fwd + rev)), rel=1e-14)


def test_gd_batches_over_qs():
    mu = torch.tensor([[1.0], [2.0]], dtype=F64)
    lv = torch.tensor([[-1.0], [-4.0]], dtype=F64)
    batch = skew.gd_trajectory(mu, lv, (0.1, 0.8), 4, dual=True)
    assert batch.shape == (5, 2, 2)
    for i in range(2):
        assert torch.allclose(batch[:, i], skew.gd_trajectory(mu[i], lv[i], (0.1, 0.8), 4, dual=True))
    assert float(batch.min()) >= 0 and float(batch.max()) <= 1


def test_adam_converges_and_rates_share_a_pass():
    mu, lv = _q(1.0, -1.0)
    both = skew.adam_trajectory(mu, lv, (0.05, 0.95), 600, lr=(1e-4, 1e-2))
    assert both.shape == (601, 2, 2)
    alone = skew.adam_trajectory(mu, lv, (0.05, 0.95), 600, lr=1e-2)
    assert torch.equal(both[:, 1], alone)
    star = float(skew.exact_alpha_star(mu, lv))
    assert torch.allclose(alone[-1], torch.full((2,), star, dtype=F64), atol=1e-3)
    # Adam's step is about lr whatever the gradient: 600 steps at 1e-4 move alpha by <= ~0.06
    assert float((both[-1, 0] - both[0, 0]).abs().max()) < 600 * 1e-4 * 1.05


# ---------------------------------------------------------------------------------- sweeps


def test_sweeps_and_summary():
    iso = skew.sweep_isotropic(3, 5, dim=2, grid=51)
    het = skew.sweep_heterogeneous((2, 5), 3, seed=1, grid=51)
    assert len(iso) == 15 and len(het) == 6
    assert set(het["dim"]) == {2, 5}
    assert (iso["min_curv_primal"] >= 1 - 1e-9).all()
    summary = skew.gap_summary(het)
    assert list(summary["comparison"]) == [
        "eq. 16 vs exact primal",
        "eq. 16 vs exact dual",
        "dual chord vs exact dual",
    ]
    again = skew.sweep_heterogeneous((2, 5), 3, seed=1, grid=51)
    assert het.equals(again)


def test_settings_cover_every_preset():
    for preset in ("smoke", "cpu", "paper"):
        cfg = skew.settings(preset)
        assert cfg["grid"] >= 3 and cfg["adam_steps"] > 0
    with pytest.raises(ValueError, match="unknown preset"):
        skew.settings("huge")


# ---------------------------------------------------------------------------------- explorer


def test_explorer_curves_widget_and_html_control():
    c = skew_explore.skew_curves(1.0, -2.0, 3)
    mu, lv = _q(1.0, -2.0, 3)
    assert c["exact_primal"] == pytest.approx(float(skew.exact_alpha_star(mu, lv)), abs=1e-12)
    assert c["eq16"] == pytest.approx(float(skew.alpha_star_eq16(mu, lv)), abs=1e-12)
    ui = skew_explore.skew_explorer()
    assert len(ui.children) == 4  # three sliders and the output
    html = skew_explore.skew_explorer_html()
    assert html == skew_explore.skew_explorer_html() and len(html.encode()) < 40_000
    for name in ("mean", "logvar", "dim"):
        assert f'<input type="range" id="skew-explorer-{name}"' in html
    for name in ("eq16", "primal-star", "dual-star", "primal-plot", "dual-plot"):
        assert f'id="skew-explorer-{name}"' in html
    assert not re.search(r"\b(src|href)\s*=", html)
    # the page's search is exact_alpha_star's: same grid
    assert (
        skew_explore.MINIMISER["grid"] == inspect.signature(skew.exact_alpha_star).parameters["grid"].default
    )
    with pytest.raises(ValueError, match="dim must lie in"):
        skew_explore.skew_explorer_html(dim=0)


def test_static_figures_have_labels_and_legends():
    import matplotlib.pyplot as plt

    examples = {"a": (1.0, -1.0), "b": (0.0, -3.0), "c": (2.0, 1.0), "d": (3.0, -6.0)}
    axes = skew_explore.plot_landscapes(examples)
    assert len(axes) == 4 and len(axes[0].figure.legends) == 1
    assert all(ax.get_xlabel() for ax in axes[-2:]) and axes[0].get_ylabel() == "divergence (nats)"
    assert axes[0].figure.get_figwidth() <= 6.6  # fits a book column at its natural size
    axes = skew_explore.plot_curvature(examples)
    assert len(axes[0].figure.legends) == 1 and axes[0].figure.get_figwidth() <= 6.6
    plt.close("all")


# ------------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: skew.exact_alpha_star([0.0, 1.0], [0.0]), "same shape"),
        (lambda: skew.exact_alpha_star(0.0, 0.0), "same shape"),
        (lambda: skew.exact_alpha_star([float("nan")], [0.0]), "finite"),
        (lambda: skew.landscape([1.0], [0.0], [0.5, 1.5]), "alpha must lie in"),
        (lambda: skew.landscape([1.0], [0.0], [[0.5]]), "1-D"),
        (lambda: skew.exact_alpha_star([1.0], [0.0], grid=2), "grid"),
        (lambda: skew.gd_trajectory([1.0], [0.0], 0.5, -1), "steps"),
        (lambda: skew.gd_trajectory([1.0], [0.0], 0.5, 3, step_size=-1.0), "step_size"),
        (lambda: skew.gd_trajectory([1.0], [0.0], [], 3), "starting skew"),
        (lambda: skew.gd_trajectory([1.0], [0.0], 0.5, 3, objective="taylor"), "unknown objective"),
        (lambda: skew.gd_trajectory([1.0], [0.0], 0.5, 3, dual=True, objective="approx"), "primal only"),
        (lambda: skew.adam_trajectory([1.0], [0.0], 0.5, 3, lr=0.0), "lr must be"),
        (lambda: skew.adam_trajectory([1.0], [0.0], 1.2, 3), "alpha must lie in"),
        (lambda: skew.alpha_star_eq16([1.0], [0.0], convention="nielsen"), "convention"),
        (lambda: skew.sweep_heterogeneous((0,), 2), "dimension"),
    ],
)
def test_bad_inputs_raise_one_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------------- chapter summaries


def test_steps_to_reach_requires_staying_close():
    traj = torch.tensor(
        [[0.9, 0.0], [0.5, 0.0], [0.31, 0.0], [0.5, 0.0], [0.305, 0.0], [0.301, 0.0]], dtype=F64
    )
    reach = skew.steps_to_reach(traj, 0.3, tol=0.01)
    assert reach.tolist() == [4, -1]
    table = skew.reach_table(reach.reshape(1, 2), ["lr"], ["a", "b"], steps=5)
    assert table.loc["lr"].tolist() == ["4", "not within 5"]


def test_summaries_and_html_table():
    iso = skew.sweep_isotropic(3, 5, grid=51)
    het = skew.sweep_heterogeneous((2,), 4, grid=51)
    mu, lv = torch.tensor(iso[["mean"]].to_numpy()), torch.tensor(iso[["logvar"]].to_numpy())
    checks = {
        "eq. 18 (primal)": skew.prop2_check(mu, lv, (0.1, 0.9), 4, objective="approx"),
        "exact primal": skew.prop2_check(mu, lv, (0.1, 0.9), 4),
        "exact dual": skew.prop2_check(mu, lv, (0.1, 0.9), 4, dual=True),
    }
    summary = skew.prop2_summary(checks)
    assert summary.loc[0, "bound violated (%)"] == 0.0
    assert summary.loc[1, "bound violated (%)"] > 50
    curv = skew.curvature_summary({"iso": iso})
    assert list(curv["divergence"]) == ["primal", "dual"]
    table = skew.paper_vs_measured(iso, het, checks)
    assert len(table) == 4
    html = skew.html_table(table)
    assert html.count("<tr") == 1 + len(table) and "..." not in html  # header row, no truncated cells
