"""The denoising chapter's analysis (the paper's Figure 5), on rows whose answers are known."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from alphavae_core import data
from alphavae_core.chapters import denoising
from alphavae_core.chapters.seeds import paired
from alphavae_core.chapters.tables import NBSP
from alphavae_core.experiments.catalogue import DENOISING_REGULARISERS
from alphavae_core.experiments.results import KEY
from alphavae_core.plotting import HTML_NAMES


def _noise_rows(best_at_high: str = "tdgjs", seeds: tuple[int, ...] = (0, 1, 2)) -> pd.DataFrame:
    """KL(q‖p) lowest at sigma 0 and 1 (then KL(p‖q), MMD, t-JS^Gα, t-JS*^Gα, one apart); at sigma 3
    ``best_at_high`` drops to 10. Seed s adds 0.1 s to every model, so paired differences have no
    spread. Every rate is 5 nats (nothing collapsed)."""
    rows = []
    for sigma in (0.0, 1.0, 3.0):
        for i, r in enumerate(DENOISING_REGULARISERS):
            base = 20 + 5 * sigma + i
            if sigma == 3.0 and r == best_at_high:
                base = 10
            for seed in seeds:
                rows.append((r, sigma, seed, base + 0.1 * seed, 5.0, np.nan, f"{r}{sigma}{seed}"))
    return pd.DataFrame(
        rows, columns=["regulariser", "noise", "seed", "test_mse", "rate", "alpha_final", KEY]
    )


def _cells(rows: pd.DataFrame, sigma: float, regulariser: str) -> pd.Series:
    return (rows["noise"] == sigma) & (rows["regulariser"] == regulariser)


def test_ranking_pairs_the_better_trainable_model_with_the_best_other_by_seed() -> None:
    ranking = denoising.ranking(_noise_rows())
    assert ranking.loc[3.0, "lowest"] == "t-JS*^Gα" and ranking.loc[1.0, "lowest"] == "KL(q‖p)"
    assert ranking.loc[3.0, "trainable − other"] == "t-JS*^Gα − KL(q‖p)"
    assert ranking.loc[3.0, "paired difference"] == "-25.00 ± 0.00 (95% interval, 3 seeds)"
    assert ranking.loc[3.0, "trainable skew is"] == "lower"
    # at sigma 1 the better trainable model is t-JS^Gα (28 < 29), three above KL(q‖p)
    assert ranking.loc[1.0, "trainable − other"] == "t-JS^Gα − KL(q‖p)"
    assert ranking.loc[1.0, "trainable skew is"] == "higher"
    assert ranking.loc[0.0, "collapsed (rate)"] == "-"


def test_verdict_counts_resolved_unresolved_and_not_lowest_complete_levels() -> None:
    rows = _noise_rows()
    assert denoising.verdict(rows) == (
        "Of the 3 noise levels with all five regularisers, trainable skew has the lowest mean test MSE "
        "with a resolved paired difference at 1 (σ = 3), the lowest but not resolved at none, and not "
        r"the lowest at 2 (σ = 0, where $\mathrm{KL}(q\|p)$ is lowest; σ = 1, where $\mathrm{KL}(q\|p)$ is "
        "lowest). The trainable-skew model spends more nats than the model it beats at 0 of the 1 resolved "
        "win (the table gives each difference and both rates)."
    )
    # at sigma 1, t-JS*^Gα beats KL(q‖p) on average, seed by seed by -1.0, +0.5, -0.2: not resolved
    offsets = np.array([-1.0, 0.5, -0.2])
    rows.loc[_cells(rows, 1.0, "tdgjs"), "test_mse"] = (
        rows.loc[_cells(rows, 1.0, "kl"), "test_mse"].to_numpy() + offsets
    )
    expected = paired(offsets)
    assert not expected.resolved and expected.mean < 0
    assert denoising.ranking(rows).loc[1.0, "paired difference"] == expected.text()
    assert denoising.ranking(rows).loc[1.0, "trainable skew is"] == "not resolved with 3 seeds"
    text = denoising.verdict(rows)
    assert "resolved paired difference at 1 (σ = 3), the lowest but not resolved at 1 (σ = 1)" in text
    assert r"not the lowest at 1 (σ = 0, where $\mathrm{KL}(q\|p)$ is lowest)." in text


def test_verdict_counts_only_complete_levels_and_one_seed_is_never_resolved() -> None:
    incomplete = _noise_rows()[lambda r: ~_cells(r, 1.0, "mmd")]
    text = denoising.verdict(incomplete)
    assert (
        text.startswith("Of the 2 noise levels")
        and "Not counted, as they still lack a regulariser: σ = 1." in text
    )
    one = _noise_rows(seeds=(0,))
    assert "lowest but not resolved at 1 (σ = 3)" in denoising.verdict(one)
    assert "At σ = 0, 1, 3 fewer than two seeds are paired so far" in denoising.verdict(one)
    assert denoising.ranking(one).loc[3.0, "trainable skew is"] == "not judged (one seed)"
    # a seed the other model lacks is left out of the pairing
    rows = _noise_rows()[lambda r: ~(_cells(r, 3.0, "kl") & (r["seed"] == 2))]
    assert denoising.ranking(rows).loc[3.0, "paired difference"].endswith("(95% interval, 2 seeds)")


def test_collapse_is_named_and_its_rank_is_not_read() -> None:
    rows = _noise_rows()
    rows.loc[_cells(rows, 3.0, "mmd"), "rate"] = 0.01
    assert denoising.ranking(rows).loc[3.0, "collapsed (rate)"] == "InfoVAE (MMD) (0.010)"
    text = denoising.sanity_text(rows, baseline=52.9)
    mmd = text.split("**MMD at high noise.**")[1].split("**")[0]
    assert mmd.startswith(
        " InfoVAE (MMD) ranks 3 of 5 at σ = 0 and 3 of 5 at σ = 1, the highest noise level where it"
    )
    assert "it has collapsed (mean rate below 0.1 nats) at σ = 3, where its rank is not read." in mmd
    assert "of 5 at σ = 3" not in mmd
    rows.loc[rows["regulariser"] == "mmd", "rate"] = 0.01  # collapsed everywhere
    assert "InfoVAE (MMD) has collapsed already at σ = 0 (mean rate 0.010 nats)." in denoising.sanity_text(
        rows
    )
    assert "InfoVAE (MMD) at σ = 3 (mean rate 0.010 nats, test MSE 37.1)" in text
    everywhere = denoising.collapse_text(rows)  # one clause per regulariser, with the range of its values
    assert "InfoVAE (MMD) at σ = 0, 1, 3 (mean rate 0.010 nats, test MSE 22.1–37.1);" not in everywhere
    assert "InfoVAE (MMD) at σ = 0, 1, 3 (mean rate 0.010 nats, test MSE 22.1–37.1)." in everywhere
    assert "predicting the mean training image scores 52.9" in text
    assert "no regulariser beats the mean training image" not in text
    assert "At σ = 0, 1, 3 no regulariser beats the mean training image" in denoising.sanity_text(
        rows, baseline=1.0
    )
    assert "No posterior has collapsed" in denoising.sanity_text(_noise_rows())


def test_reverse_kl_rank_moves_are_worded_as_worse_or_kept() -> None:
    worse = denoising.sanity_text(_noise_rows("tdgjs"))
    assert (
        r"$\mathrm{KL}(q\|p)$ ranks 1 of 5 at σ = 0 and 2 of 5 at σ = 3: it moves to a worse rank." in worse
    )
    kept = denoising.sanity_text(_noise_rows("kl"))
    assert r"$\mathrm{KL}(q\|p)$ ranks 1 of 5 at σ = 0 and 1 of 5 at σ = 3: it keeps its rank." in kept


def test_forward_against_reverse_kl_per_noise_level() -> None:
    text = denoising.forward_reverse_text(_noise_rows("fwdkl"))
    assert "forward KL has the lower mean at 1 of 3 noise levels (1 resolved)" in text
    # each level's difference is in the folded table, not in the sentence
    assert "σ = 1: +1.00" not in text
    folded = denoising.ranking_table(_noise_rows("fwdkl")).html.split("<details>")[1]
    assert folded.count(f"+1.00{NBSP}±{NBSP}0.00</b> higher") == 2
    assert f"-25.00{NBSP}±{NBSP}0.00</b> lower" in folded
    assert "forward KL gains on reverse KL as σ grows, as the paper expects" in text
    rows = _noise_rows()
    assert "forward KL does not gain on reverse KL" in denoising.forward_reverse_text(rows)
    rows.loc[_cells(rows, 3.0, "kl"), "rate"] = 0.02
    assert f"<td>{HTML_NAMES['kl']} 0.020</td>" in denoising.ranking_table(rows).html  # collapsed
    assert denoising.forward_reverse_text(rows[rows["regulariser"] != "fwdkl"]).startswith("No noise level")


def test_noise_table_marks_missing_cells() -> None:
    rows = _noise_rows("kl")
    rows = rows[~((rows["noise"] == 3.0) & (rows["regulariser"] == "mmd"))]
    table = denoising.noise_table(rows)
    assert table.loc[3.0, "InfoVAE (MMD)"] == "missing"
    assert table.loc[0.0, "KL(q‖p)"] == "20.1 ± 0.1"


def test_curves_draw_bars_only_with_spread_and_the_mean_image_line() -> None:
    rows = _noise_rows()
    rows = rows[~(_cells(rows, 3.0, "kl") & (rows["seed"] > 0))]  # KL(q‖p) has one seed at sigma 3
    fig = denoising.plot_noise_curves(rows, baseline=52.9)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 5 and len(bars[0].lines[0].get_xdata()) == 2  # KL(q‖p): sigma 0 and 1 only
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].endswith("n = 1–3") and labels[1].endswith("n = 3")
    line = next(li for li in ax.get_lines() if li.get_label() == "mean training image (rate 0)")
    assert list(line.get_ydata()) == [52.9, 52.9]
    plt.close(fig)
    fig = denoising.plot_noise_curves(_noise_rows(seeds=(0,)))
    assert not [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    plt.close(fig)


def test_verdict_text_is_markdown_paragraphs() -> None:
    text = denoising.verdict_text(_noise_rows(), baseline=52.9)
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 5 and paragraphs[0] == denoising.verdict(_noise_rows())
    rows = _noise_rows()
    rows.loc[_cells(rows, 3.0, "tdgjs"), "rate"] = 0.01
    # typeset names: the asterisk is a subscript inside the maths, never Markdown emphasis
    assert r"$\text{t-JS}_*^{G_\alpha}$ at σ = 3 (mean rate 0.010 nats" in denoising.verdict_text(rows)


def test_tables_for_the_page_typeset_names_and_mark_the_lowest() -> None:
    rows = _noise_rows()
    summary = denoising.noise_summary(rows)
    assert summary.text.startswith(denoising.noise_table(rows).to_string())
    assert f"<b>20.1{NBSP}±{NBSP}0.1</b>" in summary.html  # KL(q‖p) is lowest at sigma 0
    assert summary.html.count("<b>") == 3 and HTML_NAMES["tdgjs"] in summary.html
    table = denoising.ranking_table(rows)
    page = table.html.split("<details>")[0]
    assert page.count("<tr>") == 1 + 3 and "rank of" not in page
    assert (
        f'{HTML_NAMES["tdgjs"]}</span> − <span style="white-space:nowrap">{HTML_NAMES["kl"]}</span></td>'
        in page
    )
    assert "t-JS*^Gα" not in table.html and "t-JS*^Gα" in table.text


def test_claims_markdown_escapes_outside_the_maths_only() -> None:
    table = denoising.claims_markdown(_noise_rows())
    # a table cell would read the maths' \| as an escaped bar and typeset a single one: ‖ is \Vert
    assert r"$\mathrm{KL}(q\Vert p)$ ranks" in table and r"q\|p" not in table
    assert all(line.count(" | ") == 2 for line in table.splitlines())


def test_mean_image_mse_matches_an_independent_computation(data_root) -> None:
    settings = denoising.chapter_settings("smoke")  # 512 training and 256 test images
    train = data.load_images("mnist", "train", subset=512).numpy().astype(np.float64) / 255
    test = data.load_images("mnist", "test", subset=256).numpy().astype(np.float64) / 255
    expected = ((test - train.mean(axis=0)) ** 2).reshape(256, -1).sum(axis=1).mean()
    assert denoising.mean_image_mse(settings) == pytest.approx(expected, rel=1e-12)
    # no constant image does better than the mean one: the blank image, for instance
    assert expected < (test**2).reshape(256, -1).sum(axis=1).mean()


def test_examples_default_to_the_lowest_and_highest_noise_level(data_root) -> None:
    settings = denoising.chapter_settings("smoke")
    fig = denoising.plot_examples(settings, _noise_rows().iloc[:0], {})
    assert [ax.get_title() for ax in fig.axes] == ["σ = 0.5", "σ = 2"]
    assert fig.get_size_inches()[0] <= 7  # one level per row, the column's width: not shrunk on the page
    plt.close(fig)


def test_noisy_inputs_are_the_trainers_fixed_test_noise(data_root) -> None:
    from alphavae_core.trainer import Trainer

    settings = denoising.chapter_settings("smoke")
    sigma = settings.configs[-1].noise
    config = next(c for c in settings.configs if c.noise == sigma)
    clean, noisy = denoising.noisy_inputs(settings, sigma, n=4)
    trainer = Trainer([config], "cpu")
    inputs, _ = trainer.reconstructions(0, 4)
    assert np.allclose(noisy.numpy(), inputs.numpy())
    assert clean.shape == noisy.shape == (4, 1, 32, 32)


def test_a_level_where_every_model_is_worse_than_the_mean_image_is_not_counted() -> None:
    rows = _noise_rows()  # at sigma 3 the best model scores 10.0-10.2, every other one 35 or more
    # a baseline of 30: at sigma 1 (the best mean is 25.1) some model still beats it; at sigma 3 too
    assert "resolved paired difference at 1 (σ = 3)" in denoising.verdict(rows, baseline=30.0)
    rows.loc[_cells(rows, 3.0, "tdgjs"), "test_mse"] += 30.0  # now every model at sigma 3 is above 30
    text = denoising.verdict(rows, baseline=30.0)
    assert "Of the 3 noise levels with all five regularisers, 2 have a model better than the mean" in text
    assert (
        "Not counted: σ = 3, where every model's test MSE is at or above the mean training image's (30.0)"
        in text
    )
    # the rank of the reverse KL is read at sigma 1, not at sigma 3
    assert r"$\mathrm{KL}(q\|p)$ ranks 1 of 5 at σ = 0 and 1 of 5 at σ = 1" in denoising.sanity_text(
        rows, baseline=30.0
    )
    claims = denoising.claims_table(rows, baseline=30.0)
    assert claims.iloc[0]["this book"].startswith("no: ")
    assert set(claims["this book"].str.split(":").str[0]) <= {"yes", "no"}
    table = denoising.claims_markdown(rows, baseline=30.0).splitlines()
    assert len(table) == 2 + len(claims) and table[2].startswith("| trainable skew gives the lowest")


def test_every_win_carries_its_rates_and_the_forward_kl_trend_ends_before_collapse() -> None:
    rows = _noise_rows()
    rows.loc[rows["regulariser"] == "tdgjs", "rate"] = 7.5
    text = denoising.verdict(rows)
    assert "spends more nats than the model it beats at 1 of the 1 resolved win" in text
    assert denoising.ranking(rows).loc[3.0, "their rates (nats)"] == "7.5 vs 5.0"
    assert f"<td>7.5{NBSP}vs{NBSP}5.0</td>" in denoising.ranking_table(rows).html
    fwd = _noise_rows("fwdkl")
    fwd.loc[_cells(fwd, 3.0, "kl"), "rate"] = 0.02  # collapsed at sigma 3: the trend ends at sigma 1
    assert (
        "From σ = 0 to σ = 1 (the highest level where neither has collapsed"
        in denoising.forward_reverse_text(fwd)
    )


def test_rate_answer_compares_each_alpha_vae_with_the_vae() -> None:
    rows = _noise_rows()
    rows.loc[rows["regulariser"] == "tgjs", "rate"] = 6.0
    rows.loc[(rows["regulariser"] == "tgjs") & (rows["noise"] == 3.0), "rate"] = 2.0
    answer = denoising.rate_answer(rows)
    assert answer.loc[3.0, "t-JS^Gα > KL(q‖p)"] == False  # noqa: E712 - a numpy bool
    assert answer.loc[1.0, "t-JS^Gα > KL(q‖p)"] == True  # noqa: E712
    assert answer["t-JS*^Gα > KL(q‖p)"].sum() == 0 and answer.loc[0.0, "KL(q‖p)"] == 5.0
    text = denoising.rate_answer_text(rows)
    assert text.startswith("t-JS^Gα spends more nats than KL(q‖p) at σ = 0, 1;")
    assert "t-JS*^Gα spends more nats than KL(q‖p) at none" in text
