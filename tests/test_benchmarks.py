"""Chapter 4's helpers on a synthetic results table: aggregation, missing runs, paper tables, figures."""

from __future__ import annotations

import math
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from alphavae_core.chapters import benchmarks as b
from alphavae_core.chapters.seeds import from_summaries, paired
from alphavae_core.chapters.skew_optimisation import alpha_star_eq16 as eq16_from_moments
from alphavae_core.divergences import gjs_normal, kl_normal
from alphavae_core.experiments.catalogue import benchmark_configs
from alphavae_core.experiments.grid import encode_images, key_of, table_paths
from alphavae_core.experiments.presets import SCALES
from alphavae_core.experiments.results import KEY, append_rows, write_json
from alphavae_core.losses import TABLE1_REGULARISERS

SEEDS = (0, 1, 2)
BASE = {"beta": 30.0, "mmd": 32.0, "kl": 25.0, "gjs": 24.0, "dgjs": 22.0, "tgjs": 21.0, "tdgjs": 20.0}


def _mse(c) -> float:
    """A made-up test MSE: regulariser base, +0.5 per seed, and a bowl in alpha0 for the sweep."""
    alpha = c.resolved().alpha0
    bowl = 0.0 if alpha is None else 4.0 * (alpha - 0.5) ** 2
    return BASE[c.regulariser] + 0.5 * c.seed + bowl + (1.0 if c.dataset == "fashion" else 0.0)


def _row(c) -> dict:
    r = c.resolved()
    final = {"tgjs": 0.1 + 0.02 * r.seed, "tdgjs": 0.4}.get(r.regulariser, r.alpha0)
    return {
        "dataset": r.dataset,
        "regulariser": r.regulariser,
        "alpha0": r.alpha0,
        "weight": r.weight,
        "seed": r.seed,
        "epochs": r.epochs,
        "test_mse": _mse(c),
        "rate": 10.0 + BASE[r.regulariser] / 10,
        "alpha_final": final,
        KEY: key_of(c),
    }


def _history(c, epochs: int = 3) -> dict:
    """Alpha per epoch and a real landscape of a fixed posterior that narrows each epoch."""
    r = c.resolved()
    grid = torch.linspace(0, 1, 21).view(-1, 1)
    land = []
    for e in range(epochs):
        mu, logvar = torch.full((1, 4), 0.5 + e), torch.full((1, 4), -1.0 - e)
        zeros = torch.zeros_like(mu)
        land.append(
            {
                "primal": gjs_normal(mu[None], logvar[None], grid).mean(-1).tolist(),  # (21,) as the trainer
                "dual": gjs_normal(mu[None], logvar[None], grid, dual=True).mean(-1).tolist(),
                "kl_qp": kl_normal(mu, logvar, zeros, zeros).item(),
                "kl_pq": kl_normal(zeros, zeros, mu, logvar).item(),
            }
        )
    alpha = [] if r.alpha0 is None else list(np.linspace(r.alpha0, 0.3, epochs + 1))
    recon = encode_images(torch.rand(8, 1, 32, 32, generator=torch.Generator().manual_seed(r.seed)))
    return {"alpha_history": alpha, "alpha_steps": [], "train_loss": [1.0] * epochs, "landscape": land,
            "reconstructions": recon}  # fmt: skip


@pytest.fixture(scope="module")
def cpu_results(tmp_path_factory):
    """The cpu preset's grid as synthetic rows, without Fashion-MNIST and one MNIST KL seed,
    plus one stale row of an unknown key; written in the results format."""
    folder = tmp_path_factory.mktemp("results") / "cpu"
    # the cpu preset's grid, pinned to three seeds so the expected numbers below hold whatever SCALES says
    settings = replace(
        b.chapter_settings("cpu", folder=folder), configs=tuple(benchmark_configs("cpu", seeds=SEEDS))
    )
    kept = [
        c for c in settings.configs if c.dataset == "mnist" and not (c.regulariser == "kl" and c.seed == 2)
    ]
    rows = [_row(c) for c in kept]
    stale = dict(rows[0], **{KEY: "000000000000", "test_mse": 1e6})
    csv_path, json_path = table_paths(folder)
    append_rows(csv_path, rows + [stale])
    write_json(json_path, {key_of(c): _history(c) for c in kept})
    loaded, histories = b.load_results(settings)
    return settings, loaded, histories


def test_paper_tables_hold_the_printed_numbers() -> None:
    assert b.paper_value("table1", "kl", "mnist") == (10.67, 0.27)
    assert b.paper_value("table1", "tdgjs", "celeba") == (259.52, 0.36)
    assert b.paper_value("table1", "beta", "fashion") == (13.32, None)
    assert b.paper_value("table3", "tgjs", "mnist") == (0.118, 0.001)
    assert b.paper_value("table3", "tdgjs", "fashion") == (0.377, 0.002)
    for table in (b.PAPER_TABLE1, b.PAPER_TABLE3):
        for by_dataset in table.values():
            assert tuple(by_dataset) == b.PAPER_DATASETS
    with pytest.raises(ValueError, match="unknown paper table 'table2'"):
        b.paper_value("table2", "kl", "mnist")
    with pytest.raises(ValueError, match="no entry for 'kl'"):
        b.paper_value("table3", "kl", "mnist")


def test_load_keeps_only_rows_of_the_preset(cpu_results) -> None:
    settings, rows, histories = cpu_results
    n_mnist = sum(c.dataset == "mnist" for c in settings.configs)  # the preset's sweep size may change
    assert len(rows) == n_mnist - 1 and KEY in rows
    assert "000000000000" not in set(rows[KEY])
    assert set(histories) == set(rows[KEY])


def test_missing_runs_and_status_name_them_and_the_command(cpu_results) -> None:
    settings, rows, _ = cpu_results
    lost = b.missing_runs(settings, rows)
    assert len(lost) == len(settings.configs) - len(rows)
    assert ((lost["dataset"] == "mnist") & (lost["regulariser"] == "kl") & (lost["seed"] == 2)).sum() == 1
    assert (lost["dataset"] == "fashion").sum() == 21 + 16  # Table 1 and the Figure 6 sweep
    text = b.status_text(settings, rows)
    assert "Fashion-MNIST: 21 Table 1 runs" in text and "MNIST: 1 Table 1 runs (kl)" in text
    assert "alphavae grid --preset cpu --datasets mnist,fashion" in text
    status = b.status_table(settings, rows)
    assert status.loc["MNIST", "status"] == "1 missing"
    assert status.loc["Fashion-MNIST", "runs found"] == 0
    assert status.loc["dSprites", "status"] == "optional, not computed"
    assert status.loc["Chairs", "status"].startswith("needs the dataset")
    assert status.loc["Chairs", "command"] == "alphavae grid --preset paper --datasets chairs"


def test_status_of_a_complete_preset(tmp_path) -> None:
    settings = b.chapter_settings("smoke", folder=tmp_path)
    append_rows(table_paths(tmp_path)[0], [_row(c) for c in settings.configs])
    rows, _ = b.load_results(settings)
    assert b.missing_runs(settings, rows).empty
    assert b.status_text(settings, rows).startswith(f"All {len(settings.configs)} runs of preset 'smoke'")
    empty, hist = b.load_results(b.chapter_settings("smoke", folder=tmp_path / "none"))
    assert empty.empty and hist == {}
    assert b.table1(empty).empty and b.claims(empty).empty and b.rate_table(empty).empty


def test_table1_mean_std_against_numpy(cpu_results) -> None:
    settings, rows, _ = cpu_results
    stats = b.summary(rows)
    values = [BASE["tgjs"] + 0.5 * s for s in SEEDS]
    assert stats.loc[("mnist", "tgjs"), "mean"] == pytest.approx(np.mean(values))
    assert stats.loc[("mnist", "tgjs"), "std"] == pytest.approx(np.std(values, ddof=1))
    assert stats.loc[("mnist", "kl"), "n"] == 2
    table = b.table1(rows, settings)
    scale = SCALES["cpu"]
    header = (
        f"ours ({scale.epochs['mnist']} ep., {len(scale.seeds)} seed{'s' if len(scale.seeds) > 1 else ''})"
    )
    ours = ("MNIST", header)
    assert table.loc["α-VAE (t-JS^Gα)", ours] == f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"
    assert table.loc["VAE (KL(q‖p))", ours].endswith("(n=2)") == (len(scale.seeds) > 2)
    assert table.loc["VAE (KL(q‖p))", ("MNIST", "paper")] == "10.67 ± 0.27"
    assert table.loc["β-VAE (β·KL(q‖p))", ("MNIST", "paper")] == "11.75"
    assert (table[("Fashion-MNIST", header)] == "missing").all()
    assert "dSprites" not in table.columns.get_level_values(0)


def test_a_spread_that_rounds_to_zero_keeps_one_significant_figure() -> None:
    assert b.format_mean_std(8.5562, np.std([8.5585, 8.5538], ddof=1), 2) == "8.56 ± 0.003"
    assert b.format_mean_std(10.674, 0.268) == "10.67 ± 0.27"
    assert b.format_mean_std(0.3612, 8.2e-5, 3) == "0.361 ± 0.00008"  # decimals, not 8e-05
    assert b.format_mean_std(0.36, 0.0, 3) == "0.360 ± 0.000"
    assert (
        b.format_mean_std(0.4, 7e-17, 3) == "0.400 ± 0.000"
    )  # float noise of equal values  # identical seeds stay exactly zero
    assert b.format_mean_std(0.36, None, 3) == "0.360" and b.format_mean_std(float("nan"), 0.1) == "-"


def test_table3_and_claims(cpu_results) -> None:
    settings, rows, _ = cpu_results
    t3 = b.table3(rows, settings)
    assert t3.loc["α-VAE (t-JS^Gα)", ("MNIST", "ours")] == "0.120 ± 0.020"  # all the preset's seeds: no mark
    assert b.table3(rows[rows["seed"] != 2], settings).loc["α-VAE (t-JS^Gα)", ("MNIST", "ours")].endswith(
        "(n=2)"
    ) == (len(SCALES["cpu"].seeds) > 2)
    assert t3.loc["α*-VAE (t-JS*^Gα)", ("MNIST", "paper")] == "0.360 ± 0.000"
    assert t3.loc["α*-VAE (t-JS*^Gα)", ("Fashion-MNIST", "ours")] == "missing"
    claims = b.claims(rows).set_index("claim")
    assert claims.loc["lowest test MSE", "ours"] == "α*-VAE (t-JS*^Gα)"
    # synthetic rows: seed s is the regulariser's base + 0.5 s, so the paired differences are constant
    # (zero-width interval), over the 2 seeds the VAE has; the difference of the means would be -4.75
    assert claims.loc["α*-VAE (t-JS*^Gα) beats VAE (KL)", "ours"].startswith(
        "yes: -5.00 ± 0.00 (95% interval"
    )
    assert claims.loc["α*-VAE beats fixed α = 0.5", "ours"].startswith("yes: -2.00 ± 0.00")
    assert claims.loc["learnt α of α-VAE (t-JS^Gα) agrees across seeds", "ours"] == "no: std 0.020"
    text = b.verdict_text(rows, settings)
    assert "**MNIST**" in text and "4 hold with the 95% interval below zero" in text


def test_beats_verdicts_follow_the_one_rule() -> None:
    assert b.beats(paired([-2.0, -2.2, -1.8])) == "yes: -2.00 ± 0.50 (95% interval, 3 seeds)"
    assert b.beats(paired([-0.1, 0.3, -0.5])).startswith("not resolved: -0.10 ± ")
    assert b.beats(paired([1.0, 1.2, 0.8])).startswith("no: +1.00")
    assert b.beats(paired([-2.0])) == "lower on the means, spread unknown: -2.00"
    assert b.beats(paired([])) == "no results"
    # the paper's rows: Welch's interval from (mean, std, 5 seeds), against scipy's own
    welch = from_summaries((8.82, 0.04, 5), (10.67, 0.27, 5))
    ref = stats.ttest_ind_from_stats(8.82, 0.04, 5, 10.67, 0.27, 5, equal_var=False)
    va, vb = 0.04**2 / 5, 0.27**2 / 5
    se, df = math.sqrt(va + vb), (va + vb) ** 2 / (va**2 / 4 + vb**2 / 4)  # Welch-Satterthwaite
    assert 2 * stats.t.sf(abs(ref.statistic), df) == pytest.approx(ref.pvalue, rel=1e-9)  # scipy's df
    assert welch.half_width == pytest.approx(stats.t.ppf(0.975, df) * se, rel=1e-9)
    assert welch.resolved == (ref.pvalue < 0.05)
    assert b.beats(welch).startswith("yes: -1.85 ± ")


def test_verdict_counts_the_sweep_claims(cpu_results) -> None:
    settings, rows, histories = cpu_results
    table = b.claims(rows)
    count = b.claims_count(table, "MNIST")
    assert sum(len(v) for v in count.values()) == 6  # 4 pairwise, Figures 1 and 4
    fig1 = "t-skew beats KL from every initial α (paper's Figures 1 and 6)"
    fig4 = "learnt α ends at one value from every initial α (paper's Figure 4)"
    # the synthetic sweep ends at one alpha per model and beats the VAE from every start
    assert fig1 in count["held"] and fig4 in count["held"] and not count["failed"]
    worse = rows.copy()
    sweep = (worse["regulariser"] == "tgjs") & (worse["alpha0"] == 1.0) & (worse["dataset"] == "mnist")
    worse.loc[sweep, ["test_mse", "alpha_final"]] = [30.0, 0.7]
    count = b.claims_count(b.claims(worse), "MNIST")
    assert fig1 in count["failed"] and fig4 in count["failed"] and len(count["held"]) == 4
    lost = b.sweep_losses(worse, "mnist")
    assert lost[["α₀", "test MSE", "final α"]].values.tolist() == [[1.0, 30.0, 0.7]]
    text = b.verdict_text(worse, settings)
    assert "4 hold and 2 fail" in text and "from α₀ = 1: 30.00 (final α 0.700)" in text


def test_endpoint_check_pairs_equal_objectives(cpu_results) -> None:
    _, rows, _ = cpu_results
    check = b.endpoint_check(rows)
    assert list(check["run"]) == ["JS^Gα at α = 0", "JS*^Gα at α = 1", "JS^Gα at α = 1"]
    assert list(check["same objective as"]) == ["VAE (KL(q‖p))", "VAE (KL(q‖p))", "JS*^Gα at α = 0"]


def test_grid_minimum_recovers_a_parabola_vertex() -> None:
    x = np.linspace(0, 1, 21)
    for vertex in (0.123, 0.5, 0.871):
        a, v = b.grid_minimum(3.0 * (x - vertex) ** 2 + 2.0)
        assert a == pytest.approx(vertex, abs=1e-12) and v == pytest.approx(2.0, abs=1e-12)
    assert b.grid_minimum([[1.0], [2.0], [3.0]]) == (0.0, 1.0)  # nested, minimum at the edge


def test_eq16_matches_the_skew_module_and_minimises_eq18() -> None:
    mu, logvar = torch.tensor([[0.3, -1.2, 2.0]]), torch.tensor([[-0.5, -2.0, 0.7]])
    zeros = torch.zeros_like(mu)
    kl_qp, kl_pq = kl_normal(mu, logvar, zeros, zeros).item(), kl_normal(zeros, zeros, mu, logvar).item()
    star = b.alpha_star_eq16(kl_qp, kl_pq)
    assert star == pytest.approx(eq16_from_moments(mu, logvar).item(), rel=1e-6)
    alpha = np.linspace(0, 1, 100001)
    eq18 = alpha**2 * kl_pq + (1 - alpha) ** 2 * kl_qp  # this book's convention
    assert alpha[np.argmin(eq18)] == pytest.approx(star, abs=1e-5)
    assert math.isnan(b.alpha_star_eq16(0.0, 0.0))


def test_figure_helpers_draw_synthetic_histories(cpu_results) -> None:
    settings, rows, histories = cpu_results
    f1 = b.plot_figure1(rows, "mnist")
    assert len(f1.axes[0].lines) >= 5  # two sweeps and three baselines
    f3 = b.plot_landscapes(rows, histories, "mnist")
    assert all(ax.get_yscale() == "log" for ax in f3.axes[:2])
    f4 = b.plot_alpha_trajectories(rows, histories, "mnist")
    starts = set(SCALES["cpu"].figure1_alpha0) | {0.5}
    assert len(f4.axes[0].lines) == len(starts)  # one trajectory per initial alpha of the sweep
    originals = torch.rand(8, 1, 32, 32)
    f5 = b.plot_reconstructions(rows, histories, "mnist", originals)
    assert f5.axes[0].get_images()[0].get_array().shape == (8 * 32, 8 * 32)
    for fig in (b.plot_figure1(rows, "fashion"), b.plot_landscapes(rows, {}, "fashion")):
        assert any("yet" in t.get_text() for ax in fig.axes for t in ax.texts)
    no_primal = b.plot_figure1(rows[~rows["regulariser"].isin(["gjs", "tgjs"])], "mnist")
    assert not no_primal.axes[0].lines and len(no_primal.axes[1].lines) >= 4  # no baselines alone
    plt.close("all")


def test_montage_and_compute_guard(tmp_path) -> None:
    colour = b.montage([torch.zeros(3, 3, 4, 5), torch.ones(3, 3, 4, 5)])
    assert colour.shape == (8, 15, 3) and colour[:4].max() == 0 and colour[4:].min() == 1
    with pytest.raises(ValueError, match="computed outside the book"):
        b.compute(b.chapter_settings("cpu", folder=tmp_path))
    assert b.chapter_settings("cpu").landscape_dataset == "fashion"
    assert "expected runs=" in repr(b.chapter_settings("smoke"))


def test_paired_wins_alpha_track_and_settings_tables(cpu_results) -> None:
    settings, rows, histories = cpu_results
    claims = b.claims(rows).set_index("claim")
    assert claims.loc["α*-VAE (t-JS*^Gα) beats VAE (KL)", "ours"].endswith("lower on 2 of 2 seeds")
    assert "(95% interval, 2 seeds)" in claims.loc["α*-VAE (t-JS*^Gα) beats VAE (KL)", "ours"]
    track = b.alpha_vs_eq16(rows, histories, "mnist")
    assert list(track.index) == [1, 2, 3]
    assert track["learnt α"].tolist() == pytest.approx(np.linspace(0.5, 0.3, 4)[1:], abs=1e-3)
    assert b.alpha_vs_eq16(rows, histories, "fashion").empty
    regs = b.regulariser_table()
    assert list(regs.index) == list(TABLE1_REGULARISERS) and regs.loc["beta", "weight"] == "4"
    assert regs.loc["tdgjs", "skew α"] == "learnt, from 0.5" and regs.loc["kl", "skew α"] == "-"
    travel = b.alpha_travel(settings, rows, histories)
    scale = SCALES["cpu"]
    steps = scale.epochs["mnist"] * math.ceil(60_000 / scale.batch_size["mnist"])
    assert travel.loc["MNIST", "steps per run"] == steps
    lr = float(travel.loc["MNIST", "α learning rate"])
    assert travel.loc["MNIST", "steps × lr"] == pytest.approx(steps * lr, abs=1e-3)
    assert b.ADAM_STEP_CEILING == pytest.approx(0.1 / math.sqrt(0.001))
    # the synthetic histories move alpha linearly from alpha0 to 0.3 in 3 epochs: alpha0 = 1 travels 0.7
    assert travel.loc["MNIST", "largest travel (measured)"] == pytest.approx(0.7, abs=1e-3)
    assert travel.loc["MNIST", "from α₀"] == "1"
    per_epoch = steps / scale.epochs["mnist"] * lr
    ratio = travel.loc["MNIST", "largest one-epoch move / (epoch's steps × lr)"]
    assert ratio == pytest.approx(0.7 / 3 / per_epoch, abs=0.01)
    assert math.isnan(travel.loc["Fashion-MNIST", "largest travel (measured)"])  # no Fashion-MNIST rows
    assert b.scale_table(settings).loc["MNIST", "paper epochs"] == 100


def test_rate_beside_every_beats_kl_verdict(cpu_results) -> None:
    _, rows, histories = cpu_results
    claims = b.claims(rows, histories).set_index("claim")
    # synthetic rates are 10 + BASE / 10: tdgjs 12.0, kl 12.5
    assert claims.loc["α*-VAE (t-JS*^Gα) beats VAE (KL)", b.RATE_COLUMN] == "-0.50 (12.00 vs 12.50)"
    assert claims.loc["lowest test MSE", b.RATE_COLUMN] == ""
    sweep = claims.loc["t-skew beats KL from every initial α (paper's Figures 1 and 6)", b.RATE_COLUMN]
    assert sweep.startswith("-0.")
    rates = b.rate_table(rows)
    assert rates.loc[("MNIST", "VAE (KL(q‖p))"), "rate − VAE's (nats)"] == 0
    assert rates.loc[("MNIST", "α*-VAE (t-JS*^Gα)"), "rate − VAE's (nats)"] == pytest.approx(-0.5)
    assert "rate–distortion chapter" in b.verdict_text(rows, b.chapter_settings("cpu"))


def test_figure3_claim_on_the_landscape_minima(cpu_results) -> None:
    _, rows, histories = cpu_results
    minima = b.landscape_minima(rows, histories, "mnist", "tgjs")
    assert list(minima.index) == [1, 2, 3] and list(minima.columns) == list(SEEDS)
    assert b.falls_then_settles(minima.iloc[:2]) == "too few epochs with a landscape"
    frame = pd.DataFrame({0: [0.40, 0.30, 0.25, 0.24], 1: [0.41, 0.31, 0.26, 0.245]})
    assert b.falls_then_settles(frame).startswith("yes: falls, then settles, 0.405 → 0.242")
    moving = pd.DataFrame({0: [0.40, 0.30, 0.22, 0.15], 1: [0.41, 0.30, 0.23, 0.16]})
    assert b.falls_then_settles(moving).startswith("falls, not settled yet")
    rising = pd.DataFrame({0: [0.30, 0.35, 0.36], 1: [0.31, 0.35, 0.37]})
    assert b.falls_then_settles(rising).startswith("no: does not fall (higher)")
    # the book's rule: a fall whose 95% interval over seeds includes zero is no fall
    noisy = pd.DataFrame({0: [0.40, 0.38, 0.37], 1: [0.30, 0.35, 0.36], 2: [0.35, 0.33, 0.32]})
    assert b.falls_then_settles(noisy).startswith("no: does not fall (not resolved with 3 seeds)")
    assert b.falls_then_settles(pd.DataFrame({0: [0.4, 0.3, 0.2]})).startswith("not judged (one seed)")
    claims = b.claims(rows, histories)
    fig3 = claims[claims["claim"].str.contains("Figure 3")]
    assert list(fig3["paper"]) == ["not shown", "not shown"] and len(fig3) == 2
    assert "Figure 3" not in " ".join(b.claims(rows)["claim"])  # only with histories


def test_pipeline_check_is_kept_apart(cpu_results, tmp_path) -> None:
    settings, rows, histories = cpu_results
    extra = [c for c in settings.optional_configs if c.dataset == "dsprites" and c.seed == 0]
    both = pd.concat([rows, pd.DataFrame([_row(c) for c in extra])], ignore_index=True)
    main, checks = b.split_rows(both, settings)
    assert set(main["dataset"]) == {"mnist"} and set(checks["dataset"]) == {"dsprites"}
    table = b.pipeline_check(both, settings)
    assert table.loc[("dSprites", "VAE (KL(q‖p))"), "test MSE, paper"] == "7.78 ± 0.24"
    assert table.loc[("dSprites", "VAE (KL(q‖p))"), "learnt α (from 0.5)"] == "-"
    assert table.loc[("dSprites", "α-VAE (t-JS^Gα)"), "steps per run"] == 2 * math.ceil(20_000 / 256)
    assert "pipeline check" in b.pipeline_note(both, settings).lower()
    assert b.pipeline_check(rows, settings).empty
    assert "dSprites" not in " ".join(b.claims(main)["dataset"])


def test_sweep_status_names_missing_runs_and_the_command(cpu_results) -> None:
    settings, rows, _ = cpu_results
    text = b.sweep_status(settings, rows, "fashion")
    assert text.startswith("Fashion-MNIST initial-α sweep: 0 of 16 runs")
    assert "tdgjs: α₀ = 0, 0.25, 0.75, 1" in text
    assert "alphavae grid --preset cpu --datasets fashion" in text
    assert (
        b.sweep_status(settings, rows, "mnist")
        == "MNIST initial-α sweep: 16 of 16 runs (seed 0) are in the results."
    )
    assert "has no dSprites" in b.sweep_status(settings, rows, "dsprites")


def test_table3_ordering_and_table1_notes(cpu_results) -> None:
    settings, rows, histories = cpu_results
    order = b.table3_ordering(rows, histories)
    assert order.loc[("α-VAE (t-JS^Gα)", "MNIST"), "learnt α, paper"] == 0.118
    assert order.loc[("α-VAE (t-JS^Gα)", "MNIST"), "reconstruction loss"] == "mse"
    assert order.loc[("α-VAE (t-JS^Gα)", "MNIST"), "training loss per image, last epoch"] == 1.0
    table = b.table1(rows, settings)
    assert "(μ, log σ²)" in table.loc["InfoVAE (MMD)", ("note", "")]
