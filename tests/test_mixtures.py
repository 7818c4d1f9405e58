"""Chapter 3: mixtures, the JS^Galpha estimators between a Gaussian and a mixture, Figure 2 runs."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import multivariate_normal

from alphavae_core.chapters import synthetic_mixtures as sm
from alphavae_core.chapters.synthetic_mixtures import (
    analysis,
    configs,
    fit_gaussian,
    load_figure2,
    missing_configs,
    run_figure2,
    summarise,
)
from alphavae_core.chapters.synthetic_mixtures import fit as mixture_fit
from alphavae_core.chapters.synthetic_mixtures.distributions import (
    DTYPE,
    Gaussian,
    GaussianFit,
    GaussianMixture,
    gjs_mc,
    gjs_mc_repeated,
    gjs_quadrature,
    make_mixture,
    quadrature_terms,
    released_script_objective,
)
from alphavae_core.divergences import gjs_mvn
from alphavae_core.experiments import results

ALPHAS = (0.0, 0.3, 0.7, 1.0)


pytestmark = pytest.mark.usefixtures("one_thread")


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=DTYPE)


Q = Gaussian.from_covariance(_t([-0.4, 0.6]), _t([[1.5, -0.3], [-0.3, 0.8]]))
MU_P, COV_P = _t([0.5, -0.3]), _t([[1.0, 0.4], [0.4, 0.6]])
ONE = GaussianMixture(torch.ones(1, dtype=DTYPE), MU_P[None], torch.linalg.cholesky(COV_P)[None])
TWO = make_mixture(2, 2, seed=3)


def _full_mixture() -> GaussianMixture:
    """Three components with full (non-isotropic) covariances."""
    g = torch.Generator().manual_seed(5)
    a = torch.randn(3, 2, 2, generator=g, dtype=DTYPE)
    covs = a @ a.transpose(-2, -1) + 0.3 * torch.eye(2, dtype=DTYPE)
    means = torch.randn(3, 2, generator=g, dtype=DTYPE) * 2
    return GaussianMixture(_t([0.2, 0.5, 0.3]), means, torch.linalg.cholesky(covs))


# --------------------------------------------------------------------------- densities


def test_mixture_log_prob_matches_scipy() -> None:
    p = _full_mixture()
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(1), dtype=DTYPE) * 3
    expected = np.log(
        sum(
            float(w) * multivariate_normal(m.numpy(), c.numpy()).pdf(z.numpy())
            for w, m, c in zip(p.weights, p.means, p.covariances, strict=True)
        )
    )
    np.testing.assert_allclose(p.log_prob(z).numpy(), expected, rtol=1e-10)


def test_gaussian_log_prob_matches_scipy_and_rsample_has_gradient() -> None:
    z = torch.randn(20, 2, generator=torch.Generator().manual_seed(2), dtype=DTYPE)
    expected = multivariate_normal(Q.mean.numpy(), Q.covariance.numpy()).logpdf(z.numpy())
    np.testing.assert_allclose(Q.log_prob(z).numpy(), expected, rtol=1e-10)
    fit = GaussianFit(2)
    fit().rsample(4, torch.Generator().manual_seed(0)).sum().backward()
    assert fit.mean.grad is not None and fit.raw_tril.grad is not None


def test_mixture_samples_have_the_mixture_moments() -> None:
    p = _full_mixture()
    z = p.sample(40_000, torch.Generator().manual_seed(0))
    se = torch.sqrt(torch.diagonal(p.covariance()) / len(z))
    assert torch.all((z.mean(0) - p.mean()).abs() < 5 * se)
    torch.testing.assert_close(torch.cov(z.T), p.covariance(), rtol=0.05, atol=0.05)


def test_make_mixture_is_the_documented_generator() -> None:
    p = make_mixture(6, 3, seed=4)
    assert torch.allclose(p.weights.sum(), _t(1.0))
    assert p.means.abs().max() <= 3.0
    variances = torch.diagonal(p.covariances, dim1=-2, dim2=-1)
    assert torch.all((variances > 0.25) & (variances <= 1.0))
    assert torch.allclose(variances, variances[:, :1].expand(-1, 3))  # isotropic balls
    assert torch.equal(make_mixture(6, 3, seed=4).means, p.means)
    assert not torch.equal(make_mixture(6, 3, seed=5).means, p.means)


# --------------------------------------------------------------------------- estimators


@pytest.mark.parametrize("dual", [False, True], ids=["primal", "dual"])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_estimator_matches_closed_form_for_one_component(alpha: float, dual: bool) -> None:
    exact = float(gjs_mvn(Q.mean, Q.covariance, MU_P, COV_P, alpha, dual=dual))
    est = gjs_mc_repeated(Q, ONE, alpha, dual, n=2048, repeats=16, seed=int(10 * alpha) + 100 * dual)
    assert abs(float(est.value) - exact) < 5 * float(est.stderr) + 1e-4


@pytest.mark.parametrize("dual", [False, True], ids=["primal", "dual"])
def test_quadrature_matches_closed_form(dual: bool) -> None:
    for alpha in (0.0, 0.4, 1.0):
        exact = float(gjs_mvn(Q.mean, Q.covariance, MU_P, COV_P, alpha, dual=dual))
        assert gjs_quadrature(Q, ONE, alpha, dual) == pytest.approx(exact, abs=1e-8)
    # 1-D as well
    q1 = Gaussian(_t([0.3]), _t([[0.7]]))
    p1 = GaussianMixture(_t([1.0]), _t([[-0.5]]), _t([[[1.3]]]))
    exact = float(gjs_mvn(q1.mean, q1.covariance, p1.means[0], p1.covariances[0], 0.6, dual=dual))
    assert gjs_quadrature(q1, p1, 0.6, dual) == pytest.approx(exact, abs=1e-8)


@pytest.mark.parametrize("dual", [False, True], ids=["primal", "dual"])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_estimator_matches_quadrature_for_two_components(alpha: float, dual: bool) -> None:
    ref = gjs_quadrature(Q, TWO, alpha, dual)
    est = gjs_mc_repeated(Q, TWO, alpha, dual, n=2048, repeats=16, seed=7 + int(10 * alpha) + 100 * dual)
    assert abs(float(est.value) - ref) < 5 * float(est.stderr) + 1e-4


def _grid_kls(q: Gaussian, p: GaussianMixture) -> tuple[float, float]:
    """KL(q‖p) and KL(p‖q) on a numpy grid with scipy densities (independent of the library)."""
    axis = np.linspace(-10, 10, 801)
    xx, yy = np.meshgrid(axis, axis)
    pts = np.stack([xx, yy], -1)
    dq = multivariate_normal(q.mean.numpy(), q.covariance.numpy()).pdf(pts)
    dp = sum(
        float(w) * multivariate_normal(m.numpy(), c.numpy()).pdf(pts)
        for w, m, c in zip(p.weights, p.means, p.covariances, strict=True)
    )
    cell = (axis[1] - axis[0]) ** 2
    return float((dq * np.log(dq / dp)).sum() * cell), float((dp * np.log(dp / dq)).sum() * cell)


def test_endpoints_are_the_two_kls() -> None:
    kl_qp, kl_pq = _grid_kls(Q, TWO)
    for alpha, dual, expected in (
        (0.0, False, kl_qp),
        (1.0, False, kl_pq),
        (0.0, True, kl_pq),
        (1.0, True, kl_qp),
    ):
        est = gjs_mc_repeated(Q, TWO, alpha, dual, n=2048, repeats=16, seed=3)
        assert abs(float(est.value) - expected) < 5 * float(est.stderr) + 1e-4, (alpha, dual)
    # at alpha = 0 the primal's normaliser is Z_0 = ∫ p = 1: log Z is estimated near 0
    e = gjs_mc(Q, TWO, 0.0, False, 4096, torch.Generator().manual_seed(0))
    assert abs(float(e.log_z)) < 0.05
    assert float(e.value) == pytest.approx(float(e.kl_qp + e.log_z))


def test_quadrature_terms_obey_the_identities_behind_the_estimator() -> None:
    """log Z <= 0 (Hölder) and KL(q‖N) = (1-a) KL(q‖p) + log Z, KL(p‖N) = a KL(p‖q) + log Z."""
    kl_qp, kl_pq = _grid_kls(Q, TWO)
    for alpha in (0.0, 0.3, 0.8, 1.0):
        t = quadrature_terms(Q, TWO, alpha)
        assert t["log_z"] <= 1e-9
        assert t["kl_q_n"] == pytest.approx((1 - alpha) * kl_qp + t["log_z"], abs=1e-4)
        assert t["kl_p_n"] == pytest.approx(alpha * kl_pq + t["log_z"], abs=1e-4)


@pytest.mark.parametrize("dual", [False, True], ids=["primal", "dual"])
def test_gradients_match_the_closed_form_gradient(dual: bool) -> None:
    """Gradients through reparameterised samples and self-normalised weights are consistent."""
    fit = GaussianFit(2, mean=_t([-0.4, 0.6]), scale=1.2)
    with torch.no_grad():
        fit.raw_tril[1, 0] = -0.3
    alpha = torch.tensor(0.3, dtype=DTYPE, requires_grad=True)
    params = [fit.mean, fit.raw_tril, alpha]
    q = fit()
    exact = torch.cat(
        [
            g.flatten()
            for g in torch.autograd.grad(gjs_mvn(q.mean, q.covariance, MU_P, COV_P, alpha, dual), params)
        ]
    )
    gen = torch.Generator().manual_seed(11)
    draws = torch.stack(
        [
            torch.cat(
                [
                    g.flatten()
                    for g in torch.autograd.grad(gjs_mc(fit(), ONE, alpha, dual, 1024, gen).value, params)
                ]
            )
            for _ in range(24)
        ]
    )
    mean, se = draws.mean(0), draws.std(0) / math.sqrt(len(draws))
    assert torch.all((mean - exact).abs() <= 5 * se + 1e-3)


def test_released_script_objective_vanishes_at_one_half() -> None:
    z = TWO.sample(500, torch.Generator().manual_seed(0))
    assert float(released_script_objective(Q, TWO, 0.5, z)) == pytest.approx(0.0, abs=1e-15)
    assert gjs_quadrature(Q, TWO, 0.5, True) > 0.1  # while the true dual is not zero


def test_user_errors_are_one_line_value_errors() -> None:
    with pytest.raises(ValueError, match="n_components"):
        make_mixture(0, 2, 0)
    with pytest.raises(ValueError, match="alpha must lie"):
        gjs_mc(Q, TWO, 1.5, True, 16, torch.Generator())
    with pytest.raises(ValueError, match="dimension"):
        gjs_mc(Q, make_mixture(2, 3, 0), 0.5, True, 16, torch.Generator())
    with pytest.raises(ValueError, match="1-D or 2-D"):
        gjs_quadrature(
            Gaussian(torch.zeros(3, dtype=DTYPE), torch.eye(3, dtype=DTYPE)), make_mixture(2, 3, 0), 0.5, True
        )
    with pytest.raises(ValueError, match="unknown objective"):
        fit_gaussian(TWO, "js", steps=1, n_samples=4, lr=0.1, alpha_lr=0.1, alpha0=0.5, seed=0)
    with pytest.raises(ValueError, match="sum to 1"):
        GaussianMixture(_t([0.5, 0.6]), torch.zeros(2, 1, dtype=DTYPE), torch.ones(2, 1, 1, dtype=DTYPE))


# --------------------------------------------------------------------------- fitting


def test_fit_reduces_the_objective_and_keeps_the_covariance_positive_definite() -> None:
    p = make_mixture(4, 2, seed=1)
    fit = fit_gaussian(
        p, "dual", steps=200, n_samples=128, lr=0.05, alpha_lr=0.01, alpha0=0.5, seed=0, record_every=20
    )
    assert fit.loss_history[-1] < 0.5 * fit.loss_history[0]
    assert len(fit.alpha_history) == 10 and all(0.0 <= a <= 1.0 for a in fit.alpha_history)
    assert torch.linalg.eigvalsh(torch.tensor(fit.covariance)).min() > 0
    # the parameterisation is PD for any raw value, however extreme
    model = GaussianFit(2)
    with torch.no_grad():
        model.raw_tril.fill_(-50.0)
    assert torch.linalg.eigvalsh(model().covariance).min() > 0


def test_forward_kl_fit_matches_the_mixture_moments() -> None:
    """The KL(p‖q) optimum over Gaussians is moment matching: an independent check of the loop."""
    p = make_mixture(3, 2, seed=2)
    fit = fit_gaussian(p, "fwdkl", steps=400, n_samples=256, lr=0.05, alpha_lr=0.01, alpha0=0.5, seed=0)
    torch.testing.assert_close(torch.tensor(fit.mean, dtype=DTYPE), p.mean(), atol=0.1, rtol=0)
    torch.testing.assert_close(torch.tensor(fit.covariance, dtype=DTYPE), p.covariance(), atol=0.25, rtol=0.1)
    assert math.isnan(fit.alpha_final) and fit.alpha_history == []


def test_fits_are_deterministic_given_the_seed() -> None:
    kwargs = {"steps": 30, "n_samples": 32, "lr": 0.05, "alpha_lr": 0.01, "alpha0": 0.5, "seed": 3}
    a = fit_gaussian(TWO, "primal", **kwargs)
    b = fit_gaussian(TWO, "primal", **kwargs)
    assert a.alpha_history == b.alpha_history and a.mean == b.mean


# --------------------------------------------------------------------------- results and cache

TINY = {
    **mixture_fit.SETTINGS["smoke"],
    "components": [2],
    "dims": [1],
    "seeds": [0],
    "steps": 6,
    "n_samples": 16,
    "n_eval": 64,
    "record_every": 2,
}


def test_results_are_written_reread_and_only_missing_rows_computed(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(mixture_fit.SETTINGS, "smoke", TINY)
    todo = configs("smoke")
    assert len(todo) == 2 * 1 * 4  # two panel settings, one seed, four objectives
    table = run_figure2("smoke", tmp_path)
    assert len(table) == 8 and missing_configs("smoke", tmp_path) == []
    assert {
        "panel",
        "n_components",
        "dim",
        "seed",
        "objective",
        "alpha_final",
        "config_key",
        "seconds",
    } <= set(table.columns)
    assert set(table[table.panel == "b"].n_components) == {5}  # 5 components per dimension
    reread = results.read_table(tmp_path / "figure2.csv")
    assert set(reread.config_key) == set(table.config_key)
    histories = results.read_json(tmp_path / "figure2_histories.json")
    assert set(histories) == set(table.config_key)
    dual = table[table.objective == "dual"].iloc[0]
    assert histories[dual.config_key]["alpha"][-1] == pytest.approx(dual.alpha_final, abs=1e-5)
    assert table[table.objective == "kl"].alpha_final.isna().all()

    # nothing is recomputed; a deleted row is the only one missing and the only one rerun
    real_run_one = mixture_fit.run_one
    monkeypatch.setattr(mixture_fit, "run_one", lambda c: pytest.fail("recomputed a finished run"))
    run_figure2("smoke", tmp_path)
    reread[reread.config_key != dual.config_key].to_csv(tmp_path / "figure2.csv", index=False)
    assert [mixture_fit.key_of(c) for c in missing_configs("smoke", tmp_path)] == [dual.config_key]
    calls: list[dict] = []
    monkeypatch.setattr(mixture_fit, "run_one", lambda c: (calls.append(c), real_run_one(c))[1])
    assert len(run_figure2("smoke", tmp_path)) == 8 and len(calls) == 1

    summary = summarise(table, "a")
    assert set(summary.columns) == {"objective", "n_components", "mean", "std", "count"}
    assert list(analysis.skew_table(table, "b").columns) == ["dual", "primal"]
    assert analysis.dual_trend(table, "b").startswith("from ")


def test_load_figure2_reports_missing_runs_without_training(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(analysis, "results_dir", lambda preset: tmp_path)
    monkeypatch.setitem(mixture_fit.SETTINGS, "cpu", TINY)
    real_run_one = mixture_fit.run_one
    monkeypatch.setattr(mixture_fit, "run_one", lambda c: pytest.fail("trained at the cpu preset"))
    with pytest.raises(ValueError, match="alphavae mixtures --preset cpu"):
        load_figure2("cpu")
    # some runs finished: they are shown and the rest counted, still without training
    monkeypatch.setattr(mixture_fit, "run_one", real_run_one)
    run_figure2("cpu", tmp_path, max_runs=3)
    monkeypatch.setattr(mixture_fit, "run_one", lambda c: pytest.fail("trained at the cpu preset"))
    res = load_figure2("cpu")
    assert len(res.table) == 3 and res.n_missing == 5 and res.n_total == 8


def test_cli_rejects_an_unknown_preset() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "alphavae_core", "mixtures", "--preset", "huge"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "unknown preset 'huge'" in out.stderr


# --------------------------------------------------------------------------- like for like with the paper


def test_ball_fit_is_isotropic_and_leaves_the_full_keys_alone(tmp_path, monkeypatch) -> None:
    kwargs = {"steps": 40, "n_samples": 32, "lr": 0.05, "alpha_lr": 0.01, "alpha0": 0.5, "seed": 0}
    fit = fit_gaussian(make_mixture(3, 3, seed=1), "dual", covariance="ball", **kwargs)
    cov = torch.tensor(fit.covariance)
    assert torch.allclose(cov, cov[0, 0] * torch.eye(3, dtype=cov.dtype)) and cov[0, 0] > 0
    with pytest.raises(ValueError, match="unknown covariance 'diag'"):
        fit_gaussian(TWO, "dual", covariance="diag", **kwargs)
    # full-covariance configurations carry no covariance entry, so committed keys do not change
    assert all("covariance" not in c for c in configs("cpu"))
    ball = configs("cpu", "ball")
    assert ball and all(c["covariance"] == "ball" and c["objective"] in ("dual", "primal") for c in ball)
    assert not {mixture_fit.key_of(c) for c in ball} & {mixture_fit.key_of(c) for c in configs("cpu")}
    assert mixture_fit.command("cpu", "ball") == "alphavae mixtures --preset cpu --covariance ball"
    # the ball runs go to their own table, and load_ball reads them without training
    monkeypatch.setitem(mixture_fit.SETTINGS, "smoke", TINY)
    monkeypatch.setitem(mixture_fit.BALL_SETTINGS, "smoke", {"components": [2], "dims": [1], "seeds": [0]})
    run_figure2("smoke", tmp_path, covariance="ball")
    assert (tmp_path / "figure2_ball.csv").exists() and not (tmp_path / "figure2.csv").exists()
    monkeypatch.setitem(mixture_fit.SETTINGS, "cpu", TINY)
    monkeypatch.setitem(mixture_fit.BALL_SETTINGS, "cpu", {"components": [2], "dims": [1], "seeds": [0]})
    res = sm.load_ball("cpu", root=tmp_path)
    assert len(res.table) == 4 and res.n_missing == 0  # 2 settings x 2 objectives (the same as smoke's)
    assert "4 of 4 Gaussian-ball runs" in sm.ball_status("cpu", res)
    assert "--covariance ball" in sm.ball_status("cpu", sm.load_ball("cpu", tmp_path / "x"))


def _table(alpha: dict[tuple[str, int, str], list[float]]) -> pd.DataFrame:
    """A results table: alpha[(panel, setting, objective)] lists one learnt skew per seed."""
    rows = []
    for (panel, x, obj), values in alpha.items():
        k, d = (x, 2) if panel == "a" else (5 * x, x)
        for seed, a in enumerate(values):
            rows.append({"panel": panel, "n_components": k, "dim": d, "objective": obj, "seed": seed,
                         "alpha_final": a, "kl_qp": 1.0, "kl_pq": 2.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_paper_claims_follow_the_numbers() -> None:
    table = _table(
        {
            ("a", 2, "dual"): [0.40, 0.42], ("a", 20, "dual"): [0.30, 0.32],
            ("a", 2, "primal"): [0.45, 0.47], ("a", 20, "primal"): [0.60, 0.62],
            ("b", 1, "dual"): [0.70, 0.72], ("b", 10, "dual"): [0.51, 0.52],
            ("b", 1, "primal"): [0.50, 0.50], ("b", 10, "primal"): [0.30, 0.30],
        }
    )  # fmt: skip
    claims = sm.paper_claims(table).set_index("claim")["verdict"]
    assert claims["dual skew decreases as the number of components increases (panel a)"] == "yes"
    assert claims["dual skew decreases as the dimension increases (panel b)"] == "yes"
    assert claims["skew tends toward ½ as dimension increases (dual)"] == "yes"
    assert claims["skew tends toward ½ as dimension increases (primal)"] == "no"
    # the dual leans to forward KL below 1/2 (0.41 -> 0.31: more with K), the primal above (0.46 -> 0.61)
    assert claims["with more components, the skew marginally favours forward KL (dual)"].startswith("yes")
    assert claims["with more components, the skew marginally favours forward KL (primal)"].startswith("yes")
    flat = _table({("a", 2, "dual"): [0.45, 0.45], ("a", 20, "dual"): [0.50, 0.50]})
    verdict = sm.paper_claims(flat).set_index("claim")["verdict"]
    assert verdict["with more components, the skew marginally favours forward KL (dual)"].startswith("no")


def test_released_values_compare_with_the_primal_curve() -> None:
    assert sm.RELEASED_TGJS_DIMS[1] == 0.730 and sm.RELEASED_TGJS_DIMS[10] == 0.507
    table = _table({("b", 1, "primal"): [0.5, 0.6], ("b", 1, "dual"): [0.4, 0.4]})
    out = sm.released_comparison(table)
    assert out.loc[1, "released 'tGJS' (primal)"] == 0.730
    assert out.loc[1, "ours, primal"] == "0.550 ± 0.071" and out.loc[1, "ours, dual"] == "0.400 ± 0.000"
    assert out.loc[10, "ours, primal"] == "-"


def test_convergence_and_schedule_tables_read_the_trajectories() -> None:
    table = _table({("b", 8, "dual"): [0.3], ("b", 8, "primal"): [0.2]})
    table["steps"], table["record_every"], table[results.KEY] = 12, 2, ["k0", "k1"]
    histories = {
        "k0": {"alpha": [0.5, 0.45, 0.40, 0.35, 0.33, 0.33]},  # after steps 2, 4, ..., 12
        "k1": {"alpha": [0.5, 0.5, 0.5, 0.2, 0.2, 0.2]},
    }
    res = analysis.Figure2Results(table, histories, 0, 2, Path("."))
    moves = sm.convergence_table(res, "b", (8,))
    assert moves.loc[(8, "dual", 0), "α, step 6 (decay starts)"] == 0.40
    # step 3 has no record of its own: it reads the one after step 2 (0.5)
    assert moves.loc[(8, "dual", 0), "moved, steps 3–6"] == pytest.approx(0.1)
    assert moves.loc[(8, "dual", 0), "moved, steps 6–12"] == pytest.approx(0.07)
    assert moves.loc[(8, "primal", 0), "moved, steps 6–12"] == pytest.approx(0.3)
    effect = sm.schedule_effect(res)
    assert effect.loc[("b", "primal"), "largest |Δα|"] == pytest.approx(0.3)
    assert analysis.low_skew_share(table, "b", "primal").loc[8] == "1 of 1"
    html = sm.convergence_html(res, dims=(8,))
    # answer first (where the seeds end, largest moves), every run collapsed under it
    assert html.index("0.33–0.33") < html.index("<details>") < html.index("0.450")
    assert "t-JS<sub>*</sub><sup>G<sub>α</sub></sup> (dual)" in html and "1 of 1" in html


def test_chapter3_html_tables_are_compact_typeset_and_answer_first() -> None:
    check = pd.DataFrame(
        {"case": ["one", "one", "two"], "divergence": ["primal", "dual", "primal"], "alpha": [0.0, 0.5, 1.0],
         "reference": [1.0, 2.0, 3.0], "estimate": [1.01234, 2.0, 2.9], "stderr": [0.01, 0.02, 0.1],
         "z": [1.234, 0.0, 1.0]}
    )  # fmt: skip
    html = sm.validation_html(check)
    compact, detail = html.split("<details>")
    assert compact.count("<tr") == 3 + 2  # one row per (case, divergence), two header rows
    assert "JS<sup>G<sub>α</sub></sup>" in compact and "1.23" in compact and "0.100" in compact
    assert "1.012" in detail and "1.01234" not in detail
    table = _table({("a", 2, "dual"): [0.4, 0.5], ("b", 10, "primal"): [0.3, 0.3]})
    assert "0.450\u00a0±\u00a00.071" in sm.skew_tables_html(table)
    fitted = pd.DataFrame({"objective": ["dual", "kl"], "learnt alpha": [0.5, float("nan")],
                           "KL(q||p)": [0.1, 0.2], "KL(p||q)": [0.3, 0.4]})  # fmt: skip
    shown = sm.fitted_html(fitted)
    assert "KL(<i>q</i>‖<i>p</i>)" in shown and "–" in shown and "nan" not in shown
