"""Chapters 1-3 read well on a laptop (1280x900) and on a phone (390x844), in headless Chromium.

Uses the built book (``_build/html``; ``make html`` builds it) and the shared ``browser_helpers``.
What a reader of these chapters sees, checked where it can go wrong:

* figures are shown at (nearly) their natural size on a laptop, so their text is as legible as it
  was drawn: a figure wider than the column is shrunk, and its labels with it;
* the kernel-free explorers of chapters 1 and 2 keep every tick label inside its SVG, clear of the
  rotated axis label, wherever the sliders go (the largest divergences run to millions of nats);
* every display equation fits a phone's column, numbered or not, so no line needs scrolling;
* tables and printed outputs fit the laptop's column without scrolling sideways, and chapter 3
  shows its tables as HTML (long ones collapsed under a short answer), not as printed text.
"""

from __future__ import annotations

import itertools

import pytest
from browser_helpers import VIEWPORTS, open_page, require_chromium, set_slider

require_chromium()  # skips this module, with one line, when no Chromium is installed
pytestmark = pytest.mark.browser

PAGES = ("book/01_divergences.html", "book/02_skew_optimisation.html", "book/03_synthetic_mixtures.html")
# A figure shown at less than this fraction of its natural width has visibly smaller text.
MIN_SCALE = 0.85
# Each explorer's sliders and the values they visit: every combination of the extremes.
EXPLORERS = {
    "chapter 1": (
        "book/01_divergences.html",
        "explorer",
        {"alpha": (0, 1), "mu": (-3, 3), "logvar": (-3, 2)},
    ),
    "chapter 2": (
        "book/02_skew_optimisation.html",
        "skew-explorer",
        {"mean": (0, 4), "logvar": (-8, 4), "dim": (1, 64)},
    ),
}

_FIGURES_JS = """() => Array.from(document.querySelectorAll('article img')).filter(i => i.checkVisibility())
  .map(i => ({src: i.getAttribute('src').split('/').pop(), natural: i.naturalWidth,
              shown: i.getBoundingClientRect().width}))"""

_LABELS_JS = """root => {
  const out = [];
  for (const svg of document.getElementById(root).querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    const texts = Array.from(svg.querySelectorAll('text')).filter(t => t.textContent.trim()
      && t.getAttribute('visibility') !== 'hidden');
    const rotated = texts.filter(t => (t.getAttribute('transform') || '').startsWith('rotate'));
    const axis = rotated.map(t => t.getBoundingClientRect());
    for (const t of texts) {
      const r = t.getBoundingClientRect();
      const outside = Math.max(box.left - r.left, r.right - box.right, box.top - r.top, r.bottom - box.bottom);
      const clash = rotated.includes(t) ? 0 : Math.max(0, ...axis.map(a =>
        Math.min(r.right, a.right) - Math.max(r.left, a.left) > 0
          && Math.min(r.bottom, a.bottom) - Math.max(r.top, a.top) > 0
          ? Math.min(r.right, a.right) - Math.max(r.left, a.left) : 0));
      out.push({svg: svg.id, text: t.textContent, outside: outside, clash: clash});
    }
  }
  return out;
}"""

_EQUATIONS_JS = """() => {
  const article = document.querySelector('article.bd-article');
  const col = article.getBoundingClientRect();
  return Array.from(article.querySelectorAll('div.math mjx-container[display=true]'))
    .filter(c => c.checkVisibility()).map(c => {
      const parts = Array.from(c.querySelectorAll('mjx-math, mjx-labels, mjx-mtd, mjx-mlabeledtr'))
        .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
      const left = Math.min(...parts.map(r => r.left)), right = Math.max(...parts.map(r => r.right));
      return {tex: (c.querySelector('mjx-assistive-mml') || c).textContent.slice(0, 50),
              past: Math.round(Math.max(col.left - left, right - col.right, c.scrollWidth - c.clientWidth))};
    });
}"""

_WIDE_JS = """() => {
  const article = document.querySelector('article.bd-article');
  const col = article.getBoundingClientRect();
  const out = [];
  for (const t of article.querySelectorAll('table')) {
    if (!t.checkVisibility()) continue;
    const r = t.getBoundingClientRect();
    if (r.right > col.right + 1 || r.left < col.left - 1)
      out.push('table "' + t.innerText.slice(0, 40).replace(/\\s+/g, ' ') + '": ' + Math.round(r.width) + ' px');
  }
  // tables anywhere, and printed outputs (code cells' sources are code, and scroll as code does)
  for (const box of article.querySelectorAll('table, .cell_output pre')) {
    if (!box.checkVisibility()) continue;
    let el = box.parentElement;
    for (; el && el !== article; el = el.parentElement) {
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') {
        out.push(box.tagName.toLowerCase() + ' "' + box.innerText.slice(0, 40).replace(/\\s+/g, ' ')
          + '" scrolls ' + (el.scrollWidth - el.clientWidth) + ' px');
        break;
      }
    }
    if (box.tagName === 'PRE' && box.scrollWidth > box.clientWidth + 1)
      out.push('pre "' + box.innerText.slice(0, 40).replace(/\\s+/g, ' ') + '" scrolls '
        + (box.scrollWidth - box.clientWidth) + ' px');
  }
  return out;
}"""


@pytest.mark.parametrize("rel", PAGES)
def test_figures_shown_near_their_natural_size(browser, book_url, rel: str) -> None:
    with open_page(browser, book_url + rel, viewport=VIEWPORTS["laptop"]) as (page, watch):
        figures = page.evaluate(_FIGURES_JS)
    watch.check()
    assert figures, f"no figure on {rel}"
    small = [
        f"{f['src'][:16]}…: {f['natural']} px shown at {f['shown']:.0f} px ({f['shown'] / f['natural']:.0%})"
        for f in figures
        if f["shown"] < MIN_SCALE * f["natural"]
    ]
    assert not small, f"figures shrunk below {MIN_SCALE:.0%} of their natural width: {small}"


@pytest.mark.parametrize("screen", list(VIEWPORTS))
@pytest.mark.parametrize("explorer", list(EXPLORERS))
def test_explorer_tick_labels_stay_inside_their_svg(browser, book_url, explorer: str, screen: str) -> None:
    rel, root, sliders = EXPLORERS[explorer]
    problems = []
    with open_page(browser, book_url + rel, viewport=VIEWPORTS[screen]) as (page, watch):
        page.locator(f"#{root}").scroll_into_view_if_needed()
        for values in itertools.product(*sliders.values()):
            setting = dict(zip(sliders, values, strict=True))
            for name, value in setting.items():
                took = set_slider(page, f"#{root}-{name}", value)
                assert took == value, f"{name} took {took}, not {value}"
            labels = page.evaluate(_LABELS_JS, root)
            assert len(labels) >= 10, f"too few labels drawn at {setting}: {labels}"
            problems += [
                f"{setting} {lab['svg']} {lab['text']!r}: {lab['outside']:.1f} px outside"
                for lab in labels
                if lab["outside"] > 0.5
            ]
            problems += [
                f"{setting} {lab['svg']} {lab['text']!r} overlaps the axis label by {lab['clash']:.1f} px"
                for lab in labels
                if lab["clash"] > 0.5
            ]
    watch.check()
    assert not problems, f"{len(problems)} tick labels cut or crowded: {problems[:6]}"


@pytest.mark.parametrize("rel", PAGES)
def test_display_equations_fit_a_phone(browser, book_url, rel: str) -> None:
    with open_page(browser, book_url + rel, viewport=VIEWPORTS["phone"]) as (page, watch):
        equations = page.evaluate(_EQUATIONS_JS)
    watch.check()
    assert equations, f"no display equation on {rel}"
    wide = [f"{e['tex']!r}: {e['past']} px too wide" for e in equations if e["past"] > 1]
    assert not wide, f"display equations wider than a 390 px phone's column: {wide}"


@pytest.mark.parametrize("rel", PAGES)
def test_tables_and_outputs_fit_a_laptop_column(browser, book_url, rel: str) -> None:
    with open_page(browser, book_url + rel, viewport=VIEWPORTS["laptop"]) as (page, watch):
        wide = page.evaluate(_WIDE_JS)
    watch.check()
    assert not wide, f"wider than the column at 1280 px: {wide}"


def test_chapter3_shows_html_tables_answer_first(browser, book_url) -> None:
    rel = "book/03_synthetic_mixtures.html"
    with open_page(browser, book_url + rel, viewport=VIEWPORTS["laptop"]) as (page, watch):
        report = page.evaluate(
            """() => {
          const outputs = Array.from(document.querySelectorAll('article .cell_output'));
          // a printed table: several lines whose columns are lined up with runs of spaces
          const texts = outputs.flatMap(o => Array.from(o.querySelectorAll('pre')))
            .map(p => p.innerText.trim())
            .filter(t => t.split('\\n').filter(line => /\\S {2,}\\S/.test(line)).length >= 3);
          const tables = outputs.flatMap(o => Array.from(o.querySelectorAll('table')));
          const closed = Array.from(document.querySelectorAll('article .cell_output details'))
            .filter(d => !d.open && d.querySelector('table'));
          return {texts, tables: tables.length, visible: tables.filter(t => t.checkVisibility()).length,
                  closed: closed.length,
                  names: Array.from(document.querySelectorAll('article .cell_output table sup')).length};
        }"""
        )
    watch.check()
    assert not report["texts"], f"printed text tables: {[t[:60] for t in report['texts']]}"
    assert report["visible"] >= 8, report
    assert report["closed"] >= 3, f"long tables should be collapsed under their answer: {report}"
    assert report["names"] >= 4, f"regularisers should be typeset (HTML_NAMES): {report}"
