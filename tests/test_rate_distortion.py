"""The rate-distortion chapter's analysis, on rows whose answers are known."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from alphavae_core.chapters import rate_distortion as rd
from alphavae_core.chapters.tables import NBSP
from alphavae_core.experiments.results import KEY
from alphavae_core.plotting import label

T3 = 4.302653  # t(0.975, 2): the 95% interval's factor with three seeds


def _line(rate: float) -> float:
    return 40 - 8 * math.log(rate)


def _rd_rows(extra: list[tuple] = ()) -> pd.DataFrame:
    """KL: distortion = 40 - 8 log(rate); the alpha-VAE sits `offset` below that line, per seed."""
    rows = list(extra)
    for seed, offset in ((0, 1.0), (1, 1.2), (2, 0.8)):
        for w, rate in zip((0.1, 0.5, 1.0, 2.0), (40.0, 20.0, 10.0, 5.0)):
            rows.append(("kl", w, seed, rate, _line(rate)))
        for w, rate in zip((0.5, 1.0), (30.0, 15.0)):
            rows.append(("tdgjs", w, seed, rate, _line(rate) - offset))
        rows.append(("tdgjs", 4.0, seed, 3.0, 1.0))  # below the KL curve's smallest rate: left out
    frame = pd.DataFrame(rows, columns=["regulariser", "weight", "seed", "rate", "test_mse"])
    frame["train_rate"], frame["train_mse"] = frame["rate"], frame["test_mse"] - 1
    frame["alpha_final"], frame[KEY] = np.nan, [f"k{i}" for i in range(len(frame))]
    return frame


def test_matched_rate_recovers_the_offset_below_the_reference_curve() -> None:
    table = rd.matched_rate(_rd_rows(), "tdgjs", "kl")
    # linear interpolation in log rate is exact for a curve linear in log rate
    half = T3 * 0.2 / math.sqrt(3)
    assert table.loc[1.0, "difference"] == f"-1.00 ± {half:.2f} (95% interval, 3 seeds)"
    assert table.loc[0.5, "verdict"] == "lower" and table.loc[0.5, "seeds"] == 3
    assert table.loc[4.0, "seeds"] == 0 and table.loc[4.0, "left out"] == 3
    overview = rd.matched_overview(_rd_rows(), ("tdgjs",))
    # one row per lambda: resolved differences carry their word, in bold in the page
    assert f"<b>-1.00{NBSP}±{NBSP}{half:.2f}</b> lower" in overview.html
    assert overview.text.splitlines()[2].split() == ["0.5", "-1.00", "±", f"{half:.2f}", "lower"]
    assert overview.text.splitlines()[4].split() == ["4", "–"]  # below the KL curve: no reading


def test_a_rising_reference_curve_is_held_to_its_best_point_at_fewer_nats() -> None:
    """At 5 epochs a tiny lambda under-trains: the VAE's curve rises again at high rate. A model
    spending more nats is compared with the best the VAE reached with no more, not with the chord."""
    rising = [("kl", 0.01, s, 80.0, 30.0) for s in range(3)] + [
        ("tdgjs", 0.1, s, 60.0, 12.0) for s in range(3)
    ]
    rows = _rd_rows(rising)
    best = _line(40.0)  # the lambda = 0.1 point, at 40 nats, is the lowest at <= 60 nats
    curve = rows[(rows["regulariser"] == "kl") & (rows["seed"] == 0)]
    assert rd.best_at_rate(60.0, curve) == pytest.approx(best)
    assert rd.best_at_rate(200.0, curve) == pytest.approx(best)  # beyond: the best reached
    assert math.isnan(rd.best_at_rate(4.0, curve))  # below: never extrapolated
    assert rd.matched_rate(rows).loc[0.1, "verdict"] == "higher"  # 12 against 10.49


def test_matched_rate_within_the_interval_is_not_resolved() -> None:
    rows = _rd_rows()
    rows.loc[rows["regulariser"] == "tdgjs", "test_mse"] += 1.0  # offsets 0, -0.2, +0.2
    assert rd.matched_rate(rows).loc[1.0, "verdict"] == "not resolved with 3 seeds"
    row = rd.matched_overview(rows, ("tdgjs",)).text.splitlines()[3]
    assert row.split() == ["1", "+0.00", "±", "0.50"]  # no word: not resolved


def test_matched_overview_with_one_seed_gives_the_difference_without_a_verdict() -> None:
    text = rd.matched_overview(_rd_rows()[lambda r: r["seed"] == 0], ("tdgjs",)).text
    assert "-1.00 (one seed)" in text and "lower" not in text.splitlines()[3]
    assert "one seed, so no interval and no verdict" in text


def test_matched_overview_puts_every_model_side_by_side_and_folds_the_detail() -> None:
    rows = _rd_rows(
        [("tgjs", w, s, r, _line(r) + 0.5) for s in range(3) for w, r in ((0.5, 25.0), (1.0, 12.0))]
    )
    table = rd.matched_overview(rows, ("tgjs", "tdgjs"))
    head = table.text.splitlines()[0].split()
    assert head == ["t-JS^Gα", "t-JS*^Gα"]
    # typeset names in the page, never the plain ones; the per-model detail folded under <details>
    assert "t-JS<sup>G<sub>α</sub></sup>" in table.html and "t-JS^Gα" not in table.html
    page, folded = table.html.split("<details>")
    assert "plain interpolation" not in page and folded.count("plain interpolation") == 3
    assert table.html.count("<table") == 3


def test_gain_split_adds_up_to_the_gain_and_keeps_the_books_sign_at_equal_rate() -> None:
    split = rd.gain_split(_rd_rows(), "tdgjs", 1.0)
    # KL at lambda = 1: rate 10, 40 - 8 log 10; tdgjs: rate 15, 40 - 8 log 15 - offset
    by_rate = 8 * math.log(1.5)
    assert split["by_rate"][0] == pytest.approx(by_rate) and split["by_rate"][1] == pytest.approx(0, abs=1e-9)
    # model minus the VAE's best at its rate, as in matched_rate: the same number, the same sign
    assert split["equal_rate"][:2] == pytest.approx((-1.0, 0.2))
    assert split["paired"].text() == rd.matched_rate(_rd_rows()).loc[1.0, "difference"]
    assert split["total"][0] == pytest.approx(split["by_rate"][0] - split["equal_rate"][0])
    assert split["total"][0] == pytest.approx(by_rate + 1.0) and split["total"][2] == 3
    table = rd.gain_split_table(_rd_rows(), ("tdgjs",), 1.0)
    assert table.text.splitlines()[2].split() == [
        "t-JS*^Gα", f"{by_rate + 1:.2f}", "±", "0.20", "15.0", "±", "0.0", "10.0", "±", "0.0",
        f"{by_rate:.2f}", "±", "0.00", "-1.00", "±", "0.50", "lower",
    ]  # fmt: skip
    assert "over 3 seeds" in table.text and "t-JS<sub>*</sub>" in table.html
    one = rd.gain_split_table(_rd_rows()[lambda r: r["seed"] == 0], ("tdgjs",), 1.0)
    assert "-1.00 (one seed)" in one.text
    assert rd.gain_split_table(_rd_rows(), ("tdgjs",), 2.0).text.startswith("No seed has both")


def test_equivalent_kl_weight_interpolates_weight_against_rate_in_log_log() -> None:
    rows = _rd_rows()
    # tdgjs at lambda = 1 has rate 15: between KL's (1.0, 10) and (0.5, 20) in log-log
    expected = math.exp(np.interp(math.log(15), [math.log(10), math.log(20)], [math.log(1.0), math.log(0.5)]))
    assert rd.equivalent_kl_weight(rows, "tdgjs", 1.0) == pytest.approx(expected)
    assert math.isnan(rd.equivalent_kl_weight(rows, "tdgjs", 4.0))
    assert (
        rd.equivalent_weight_text(rows, ("tdgjs",), 1.0)
        == rf"At λ = 1, $\text{{t-JS}}_*^{{G_\alpha}}$ spends as much rate as a VAE with λ ≈ {expected:.2f}."
    )
    both = rows[rows["regulariser"] == "tdgjs"].assign(regulariser="dgjs")
    text = rd.equivalent_weight_text(pd.concat([rows, both]), ("dgjs", "tdgjs"), 1.0)
    assert text.endswith(f"(α = ½) and $\\text{{t-JS}}_*^{{G_\\alpha}}$ spend as much rate as a VAE with λ ≈ "
                         f"{expected:.2f} and {expected:.2f} respectively.")  # fmt: skip


def test_curve_table_and_figure_from_rows() -> None:
    rows = _rd_rows()
    table = rd.curve_table(rows)
    assert list(table.index.get_level_values(0).unique()) == ["KL(q‖p)", "t-JS*^Gα"]
    assert set(table["seeds"]) == {3}
    summary = rd.curve_summary(rows)
    assert summary.text.splitlines()[0].split() == ["KL(q‖p)", "t-JS*^Gα"]
    assert summary.text.splitlines()[4].split() == [
        "0.5",
        "20.0",
        f"{_line(20):.1f}",
        "30.0",
        f"{_line(30) - 1:.1f}",
    ]
    assert summary.html.count("<table") == 2 and "<details>" in summary.html
    fig = rd.plot_rate_distortion(rows)
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)


def test_figure_labels_every_vae_point_once_and_clear_of_the_curves() -> None:
    """Each of the VAE's lambdas is written once, in the close-up if its point is there, and no label
    covers a point of any curve."""
    rows = _rd_rows()
    fig = rd.plot_rate_distortion(rows)
    full, close = fig.axes
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert sorted(labels) == sorted(f"λ={w:g}" for w in (0.1, 0.5, 1.0, 2.0))
    assert close.get_xlim()[0] < 15 < 30 < close.get_xlim()[1]  # the skewed points at lambda >= 0.1
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        points = ax.transData.transform(rows[["rate", "test_mse"]].to_numpy(float))
        for t in ax.texts:
            box = Text.get_window_extent(t, renderer)
            assert not any(box.contains(x, y) for x, y in points), t.get_text()
    plt.close(fig)


def test_answer_names_the_lambdas_and_the_largest_gain_the_intervals_allow() -> None:
    better = rd.answer_text(_rd_rows())
    assert better.startswith(
        r"At λ = 0.5, 1, $\text{t-JS}_*^{G_\alpha}$ reconstructs better than the best $\mathrm{KL}(q\|p)$ model"
    )
    assert "(95% interval below zero)" in better
    rows = _rd_rows()
    rows.loc[rows["regulariser"] == "tdgjs", "test_mse"] += 1.0  # per-seed differences 0, -0.2, +0.2
    unresolved = rd.answer_text(rows)
    assert unresolved.startswith(
        r"At no λ with two or more seeds (λ = 0.5, 1) is $\text{t-JS}_*^{G_\alpha}$'s distortion resolved lower"
    )
    bound = f"{T3 * 0.2 / math.sqrt(3):.2f}"
    assert f"allow a gain at equal rate of at most {bound} (λ = 0.5), {bound} (λ = 1) per image" in unresolved
    rows.loc[rows["regulariser"] == "tdgjs", "test_mse"] += 1.0
    assert "At λ = 0.5, 1 it is resolved higher." in rd.answer_text(rows)
    assert rd.answer_text(_rd_rows()[lambda r: r["seed"] == 0]).endswith("no answer.")


def test_settings_per_dataset_expect_that_dataset_and_name_its_command(tmp_path) -> None:
    mnist = rd.chapter_settings("cpu", tmp_path)
    fashion = rd.chapter_settings("cpu", tmp_path, dataset="fashion")
    assert {c.dataset for c in mnist.configs} == {"mnist"}
    assert {c.dataset for c in fashion.configs} == {"fashion"}
    assert [c.regulariser for c in fashion.configs] == [c.regulariser for c in mnist.configs]
    empty = rd.load_results(fashion)
    assert empty.empty
    text = rd.missing_text(fashion, empty)
    assert text.startswith(
        f"{len(fashion.configs)} of {len(fashion.configs)} Fashion-MNIST runs of preset 'cpu'"
    )
    assert text.endswith("alphavae grid --experiment rate_distortion --preset cpu --datasets fashion")
    assert rd.grid_command("cpu") == "alphavae grid --experiment rate_distortion --preset cpu"


def test_a_dataset_without_a_grid_is_refused_in_one_line() -> None:
    with pytest.raises(
        ValueError, match=r"^no rate-distortion grid for dataset 'celeba': use one of mnist, fashion$"
    ):
        rd.chapter_settings("cpu", dataset="celeba")


def test_close_up_title_names_a_single_skewed_model() -> None:
    """The close-up's title names one skewed model, or the group, and one lambda by its value (chapter
    7's reading at one epoch), or the lambdas it frames."""
    rows = _rd_rows()
    fig = rd.plot_rate_distortion(rows)
    assert fig.axes[1].get_title() == f"close-up: {label('tdgjs')} at λ ≥ 0.1"
    plt.close(fig)
    one = rows[(rows["regulariser"] == "kl") | (rows["weight"] == 1.0)]
    fig = rd.plot_rate_distortion(one)
    assert fig.axes[1].get_title() == f"close-up: {label('tdgjs')} at λ = 1"
    plt.close(fig)
    two = pd.concat([one, one[one["regulariser"] == "tdgjs"].assign(regulariser="tgjs", test_mse=12.0)])
    fig = rd.plot_rate_distortion(two)
    assert fig.axes[1].get_title() == "close-up: the skewed models at λ = 1"
    plt.close(fig)


def test_no_rows_yet_draws_an_empty_figure_and_says_so() -> None:
    none = _rd_rows().iloc[0:0]
    fig = rd.plot_rate_distortion(none)
    assert all(len(line.get_xdata()) == 0 for line in fig.axes[0].lines)
    plt.close(fig)
    assert rd.matched_rate(none).empty
    assert rd.answer_text(none).endswith("no answer.")


def test_both_readings_where_the_reference_curve_rises_again() -> None:
    rising = [("kl", 0.01, s, 80.0, 30.0) for s in range(3)] + [
        ("tdgjs", 0.1, s, 60.0, 12.0 + 0.1 * s) for s in range(3)
    ]
    rows = _rd_rows(rising)
    # plain interpolation in log rate between (40, line(40)) and (80, 30), at 60 nats
    t = (math.log(60) - math.log(40)) / (math.log(80) - math.log(40))
    plain = (1 - t) * _line(40.0) + t * 30.0
    diffs = [12.0 + 0.1 * s - plain for s in range(3)]
    expected = (
        f"{np.mean(diffs):+.2f} ± {T3 * np.std(diffs, ddof=1) / math.sqrt(3):.2f} (95% interval, 3 seeds)"
    )
    assert rd.matched_rate(rows).loc[0.1, "plain interpolation"].startswith(expected)
    assert rd.matched_rate(rows).loc[1.0, "plain interpolation"] == "same"
    text = rd.readings_text(rows)
    assert "The two readings differ at 1 of the 3 points compared" in text
    assert "at λ = 0.1 (the rule: higher; plain interpolation: lower)" in text
    assert rd.readings_text(_rd_rows()).endswith("The two readings agree for every model at every λ.")


def test_dropping_reference_points_and_a_rerun_say_what_changes() -> None:
    rows = _rd_rows()
    # without KL at lambda = 0.5 the model's lambda = 1 point (15 nats) is read between 10 and 40 nats:
    # the chord lies above the convex line, so the difference grows but stays "lower"
    assert rd.without_reference_points(rows, (0.5,)).endswith(
        r"no verdict of $\text{t-JS}_*^{G_\alpha}$ changes."
    )
    rerun = rows[rows["weight"] == 1.0][["regulariser", "seed", "test_mse", "rate"]].copy()
    rerun.loc[rerun["regulariser"] == "tdgjs", "test_mse"] += 0.9  # the rerun loses most of the gain
    text = rd.rerun_text(rows, rerun)
    assert "differs from them by up to 0.90 per image" in text
    assert "-0.10 ± 0.50 (95% interval, 3 seeds), not resolved with 3 seeds, instead of -1.00" in text
    assert text.endswith("the sign survives the rerun, and the size exceeds the rerun spread.")
