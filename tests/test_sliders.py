"""Chapters 1 and 2's kernel-free explorers in headless Chromium, against the Python.

Opens the built pages (``_build/html``, built by ``make html``; ``make test`` builds it first),
moves every slider of each explorer to several positions as a reader would, and checks after each
move that the plot and the printed values changed, and that every printed value equals what
:mod:`alphavae_core` computes at the sliders' values:

* closed forms (KL both ways, primal and dual JS^Galpha, N_alpha; chapter 2's equation 16) to
  :data:`TOL` in float64, read from each value's ``data-value`` attribute (the printed text is that
  value rounded to 4 decimals, also checked);
* the exact minimisers of chapter 2 to :data:`STAR_TOL`: the page repeats ``exact_alpha_star``'s
  search (the best of 401 skews, then 60 bisection steps on the derivative), so both land on the
  same float64 zero of the derivative up to rounding.

The largest JavaScript-Python difference of each kind is written to
``_build/screenshots/sliders.json``, with a screenshot of each page after its sliders moved.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from browser_helpers import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    open_page,
    require_chromium,
    screenshot,
    set_slider,
)

from alphavae_core.chapters import skew_optimisation as skew
from alphavae_core.divergences import geometric_mean_normal, gjs_normal, kl_normal

CHROMIUM = require_chromium()  # skips this module, with one line, when no Chromium is installed
pytestmark = pytest.mark.browser

TOL = 1e-6  # closed forms: both sides are float64, so the real agreement is ~1e-15
STAR_TOL = 1e-9  # exact minimisers: same grid and bisection on both sides
REPORT: dict[str, dict] = {}

# Positions each slider visits, in order (the other sliders stay where the previous moves left them).
CHAPTER1 = {
    "alpha": (0.0, 0.13, 0.5, 0.87, 1.0),
    "mu": (-3.0, -1.2, 0.0, 2.5, 3.0),
    "logvar": (-3.0, -0.7, 0.0, 1.3, 2.0),
}
CHAPTER2 = {
    "mean": (0.0, 0.7, 2.3, 4.0),
    "logvar": (-8.0, -3.4, 0.0, 1.6, 4.0),
    "dim": (7, 64, 1),
}


def _t(*values: float) -> torch.Tensor:
    return torch.tensor([float(v) for v in values], dtype=torch.float64)


def _state(page, root: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The explorer's SVG markup, and each printed quantity's (data-value, text)."""
    return page.evaluate(
        """root => {
          const el = document.getElementById(root);
          const svg = Array.from(el.querySelectorAll('svg')).map(s => s.innerHTML).join('|');
          const values = {};
          el.querySelectorAll('[data-quantity]').forEach(c => {
            values[c.dataset.quantity] = [c.dataset.value, c.textContent.trim()];
          });
          return [svg, values];
        }""",
        root,
    )


def _sliders(page, root: str) -> dict[str, float]:
    return page.evaluate(
        """root => Object.fromEntries(Array.from(document.getElementById(root)
            .querySelectorAll('input[type=range]')).map(s => [s.dataset.param, Number(s.value)]))""",
        root,
    )


def _record(page_name: str, kind: str, value: float) -> None:
    """Keep the largest ``value`` of each kind per page, and rewrite the report."""
    entry = REPORT.setdefault(page_name, {})
    entry[kind] = max(entry.get(kind, 0.0), value)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "sliders.json").write_text(json.dumps(REPORT, indent=1, sort_keys=True))


def _check(page_name: str, kind: str, got: tuple[str, str], want: float, tol: float, what: str) -> None:
    """One printed value: its data-value within ``tol`` of ``want``, its text ``want`` to 4 decimals."""
    value, text = got
    if math.isnan(want):
        assert value == "NaN" and "every α" in text, f"{what}: expected 'every α' for q = p, got {got}"
        return
    diff = abs(float(value) - want)
    _record(page_name, kind, diff)
    assert diff <= tol, f"{what}: JavaScript {value} vs Python {want!r} (difference {diff:.2e})"
    shown = float(text.replace("\u2212", "-"))
    assert abs(shown - want) <= 0.5e-4 + 1e-12, f"{what}: printed {text!r} for {want:.6f}"


def _move_and_check(page, root: str, positions: dict, expected, page_name: str) -> int:
    """Move each slider through ``positions``; after each move check change and values. Returns moves."""
    moves = 0
    for name, targets in positions.items():
        for target in targets:
            before_svg, before_values = _state(page, root)
            before = _sliders(page, root)[name]
            took = set_slider(page, f"#{root}-{name}", target)
            assert took == pytest.approx(target), f"{name} slider took {took}, not {target}"
            svg, values = _state(page, root)
            if took != before:
                moves += 1
                assert svg != before_svg, f"moving {name} to {took} did not redraw the plot"
                assert values != before_values, f"moving {name} to {took} changed no printed value"
            expected(page_name, _sliders(page, root), values)
    return moves


def _expected_chapter1(page_name: str, s: dict[str, float], values: dict) -> None:
    alpha, mu, lv, zero = s["alpha"], _t(s["mu"]), _t(s["logvar"]), _t(0.0)
    mean_a, lv_a = geometric_mean_normal(mu, lv, zero, zero, alpha)
    where = f"at α={alpha}, mean={s['mu']}, log-variance={s['logvar']}"
    for quantity, want in {
        "kl-qp": kl_normal(mu, lv, zero, zero),
        "kl-pq": kl_normal(zero, zero, mu, lv),
        "primal": gjs_normal(mu, lv, alpha),
        "dual": gjs_normal(mu, lv, alpha, dual=True),
        "n-alpha-mean": mean_a,
        "n-alpha-var": lv_a.exp(),
    }.items():
        _check(page_name, "closed forms", values[quantity], float(want), TOL, f"{quantity} {where}")


def _expected_chapter2(page_name: str, s: dict[str, float], values: dict) -> None:
    d = int(s["dim"])
    mu, lv = _t(*[s["mean"]] * d), _t(*[s["logvar"]] * d)
    where = f"at mean={s['mean']}, log-variance={s['logvar']}, d={d}"
    kl_pq, kl_qp = skew.kl_directions(mu, lv)
    eq16 = float(skew.alpha_star_eq16(mu, lv))
    for quantity, want in {"kl-pq": kl_pq, "kl-qp": kl_qp, "eq16": eq16}.items():
        _check(page_name, "closed forms", values[quantity], float(want), TOL, f"{quantity} {where}")
    for direction, dual in (("primal", False), ("dual", True)):
        star = float(skew.exact_alpha_star(mu, lv, dual=dual))
        _check(
            page_name, "minimisers", values[f"{direction}-star"], star, STAR_TOL, f"{direction} α* {where}"
        )
        if math.isnan(star):
            continue
        _check(
            page_name,
            "minimisers",
            values[f"{direction}-gap"],
            star - eq16,
            STAR_TOL,
            f"{direction} gap {where}",
        )
        at_js_star = float(values[f"{direction}-star"][0])
        at_min = float(gjs_normal(mu, lv, at_js_star, dual=dual))
        _check(
            page_name, "closed forms", values[f"{direction}-min"], at_min, TOL, f"{direction} minimum {where}"
        )


@pytest.fixture(scope="module")
def in_browser():
    """``run(fn, *args)`` calls ``fn(browser, *args)`` with a headless Chromium of this module's own.

    Playwright's sync API allows one instance per thread, and ``tests/test_browser.py`` holds one in
    the main thread for the whole session; so this module drives its Chromium from a thread of its
    own (assertions raised there propagate to the test).
    """
    from playwright.sync_api import sync_playwright

    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sliders-chromium")

    def start():
        playwright = sync_playwright().start()
        return playwright, playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=CHROMIUM_ARGS
        )

    playwright, chromium = worker.submit(start).result()
    yield lambda fn, *args: worker.submit(fn, chromium, *args).result()
    worker.submit(lambda: (chromium.close(), playwright.stop())).result()
    worker.shutdown()


def test_chapter1_explorer_agrees_with_python(in_browser, book_url) -> None:
    in_browser(_chapter1, book_url)


def test_chapter2_explorer_agrees_with_python(in_browser, book_url) -> None:
    in_browser(_chapter2, book_url)


def _chapter1(browser, base_url: str) -> None:
    page_name = "book/01_divergences.html"
    with open_page(browser, base_url + page_name) as (page, watch):
        assert page.locator("#explorer input[type=range]").count() == 3
        moves = _move_and_check(page, "explorer", CHAPTER1, _expected_chapter1, page_name)
        screenshot(page, "sliders__01_divergences")
    watch.check()
    _record(page_name, "slider moves", moves)
    assert moves >= 12


def _chapter2(browser, base_url: str) -> None:
    page_name = "book/02_skew_optimisation.html"
    with open_page(browser, base_url + page_name) as (page, watch):
        root = "skew-explorer"
        assert page.locator(f"#{root} input[type=range]").count() == 3
        moves = _move_and_check(page, root, CHAPTER2, _expected_chapter2, page_name)
        # q = p: every skew minimises, and the page says so instead of printing a number
        _move_and_check(page, root, {"mean": (0.0,), "logvar": (0.0,)}, _expected_chapter2, page_name)
        assert "every α" in page.inner_text(f"#{root}-primal-star")
        screenshot(page, "sliders__02_skew_optimisation")
    watch.check()
    _record(page_name, "slider moves", moves)
    assert moves >= 9
