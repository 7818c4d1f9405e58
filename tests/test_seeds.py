"""The paired seed comparison: its interval against the t table, and its words."""

from __future__ import annotations

import math

import pytest

from alphavae_core.chapters.seeds import from_summaries, paired


def test_interval_is_the_t_table_times_the_standard_error() -> None:
    p = paired([-1.0, -1.2, -0.8])  # mean -1, s = 0.2
    assert p.mean == pytest.approx(-1.0) and p.n == 3
    assert p.half_width == pytest.approx(4.302653 * 0.2 / math.sqrt(3), rel=1e-6)  # t(0.975, 2)
    assert p.resolved and p.word() == "lower"
    assert p.text() == "-1.00 ± 0.50 (95% interval, 3 seeds)"


def test_unresolved_one_seed_and_no_seed_say_so() -> None:
    assert paired([0.3, -0.1, 0.5]).word() == "not resolved with 3 seeds"
    assert paired([2.0, 2.2, 1.8, 2.1, 1.9]).word("better", "worse") == "worse"
    one = paired([1.5, math.nan])
    assert (one.n, one.text(), one.word()) == (1, "+1.50 (one seed)", "not judged (one seed)")
    assert (paired([]).text(), paired([]).word()) == ("-", "not measured")


def test_largest_gain_and_summaries_without_a_spread() -> None:
    p = paired([-1.0, -1.2, -0.8])
    assert p.largest_gain() == pytest.approx(1.0 + p.half_width)  # reference minus model, upper end
    assert paired([1.0, 1.2, 0.8]).largest_gain() == 0.0  # the interval allows no gain
    unknown = from_summaries((8.0, math.nan, 5), (10.0, 0.2, 5))
    assert (unknown.mean, unknown.n, unknown.resolved) == (-2.0, 1, False)
    assert (
        from_summaries((8.0, 0.1, 5), (10.0, 0.1, 5))
        .text()
        .endswith("(95% interval, 5 seeds each, unpaired)")
    )
