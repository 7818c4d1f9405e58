"""Every page of the built book in headless Chromium, as a reader without a kernel or a network sees it.

Uses the HTML that ``make html`` built (``make test`` builds it first), served on 127.0.0.1. For
every page: no console error, every image loaded, math typeset by the local MathJax with no raw TeX
left (MathJax loaded only where there are maths), no request to any other host, every icon drawn,
one way to search, and each ``input[type=range]`` changes the page when moved.

Every page is also read on a laptop (1280×900) and on a phone (390×844), and at both widths: nothing
in the main column (equation, table, figure, code) extends past it without a way to scroll to all of
it, no numbered equation is cut, table cells have padding, the page does not scroll sideways, every
figure has a caption and an alt text that describes it, and the page stays within its weight budget
(:data:`FRAME_BUDGET`). On the pages in :data:`EQUATIONS_FIT` no display equation needs scrolling,
even on the phone. Search finds a term offline and its summaries show maths as text, and every
page numbers its exercises in the chapters' form ("Exercise 2.1", the primer's "Exercise 0.1"). A full-page screenshot of each page at each width goes to
``_build/screenshots/`` (``<page>.<screen>.png``) with ``report.json`` (per page and width: images,
math, sliders, requests, layout, bytes loaded). Slider tests that check values reuse ``browser_helpers``.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from browser_helpers import (
    HTML,
    REPO,
    SCREENSHOTS,
    VIEWPORTS,
    icons_report,
    images,
    layout_report,
    math_report,
    open_page,
    page_state,
    require_chromium,
    screenshot,
    search_entry_points,
    set_slider,
    wait_for_change,
)

require_chromium()  # skips this module, with one line, when no Chromium is installed
pytestmark = pytest.mark.browser


def _pages() -> list[str]:
    """Every HTML page of the build (relative to _build/html), less redirects and theme assets."""
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        rel = path.relative_to(HTML).as_posix()
        if rel.startswith(("_static/", "_sources/", "_images/")):
            continue
        if 'http-equiv="Refresh"' in path.read_text(errors="replace")[:2000]:
            continue  # index.html only redirects to the landing page
        pages.append(rel)
    return pages or ["(no built book: run `make html`)"]


PAGES = _pages()
REPORT: dict[str, dict] = {}
# Bytes a page may load besides its own HTML and figures (theme, icons, fonts, MathJax), uncompressed
# as the test server sends them, by whether the page has maths. Measured: 1.07 MB without maths (the
# theme's styles and scripts with the search index, 0.80 MB; Font Awesome's two webfonts, 0.27 MB),
# 2.27-2.38 MB with maths (MathJax, 1.20-1.31 MB, on those pages only). The budgets leave about 10 %
# for growth. (They were 2.56 and 3.76-3.88 MB while the theme's Font Awesome script, 1.49 MB, loaded
# on every page.)
FRAME_BUDGET = {False: 1_200_000, True: 2_600_000}
# Pages whose display equations all fit the column, on the phone too (split over lines).
EQUATIONS_FIT = {"book/00_primer.html", "book/08_appendix_speed.html"}
# Exercises are numbered by chapter ("Exercise 2.1"); the pages outside the numbered chapters have a
# label of their own (page_numbers in _config.yml).
EXERCISE_LABELS = {"book/00_primer.html": "0", "book/08_appendix_speed.html": "A"}
SEARCH_TERM = "skew"  # in the text of every chapter, and next to maths in many summaries


def _record(rel: str, entry: dict) -> None:
    REPORT[rel] = entry
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report.json").write_text(json.dumps(REPORT, indent=1, sort_keys=True))


def _move_every_slider(page) -> list[dict]:
    """Move each range input to its other end (or to the middle) and see whether the page changed."""
    results = []
    count = page.locator("input[type=range]").count()
    for i in range(count):
        selector = f":nth-match(input[type=range], {i + 1})"
        lo, hi, now = page.eval_on_selector(
            selector, "el => [Number(el.min || 0), Number(el.max || 100), Number(el.value)]"
        )
        target = hi if now != hi else lo
        before = page_state(page)
        took = set_slider(page, selector, target)
        changed = wait_for_change(page, before)
        if not changed and took == now:  # the far end was not reachable: try the middle
            took = set_slider(page, selector, (lo + hi) / 2)
            changed = wait_for_change(page, before)
        results.append({"slider": i + 1, "from": now, "to": took, "changed": changed})
    return results


def test_every_toc_entry_was_built() -> None:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]
    missing = [f for f in files if not (HTML / f"{f}.html").is_file()]
    assert not missing, f"not in _build/html (run `make html`): {missing}"


@pytest.mark.parametrize("screen", list(VIEWPORTS))
@pytest.mark.parametrize("rel", PAGES)
def test_page_in_chromium(browser, book_url, rel: str, screen: str) -> None:
    assert (HTML / rel).is_file(), rel
    with open_page(browser, book_url + rel, viewport=VIEWPORTS[screen]) as (page, watch):
        imgs = images(page)
        math = math_report(page)
        layout = layout_report(page)
        search = search_entry_points(page)
        icons = icons_report(page)
        screenshot(page, rel.removesuffix(".html").replace("/", "__") + f".{screen}")
        # sliders are moved once, on the laptop: the phone's page runs the same script
        sliders = _move_every_slider(page) if screen == "laptop" else []
    frame = sum(v for k, v in layout["weight"].items() if k not in ("html", "figures"))
    _record(
        f"{rel} {screen}",
        {
            "images": len(imgs),
            "figures": sum(i["inArticle"] for i in imgs),
            "images_not_loaded": [i["src"][:120] for i in imgs if not i["ok"]],
            "math": math["math"],
            "math_rendered": math["rendered"],
            "sliders": len(sliders),
            "sliders_that_changed_the_page": sum(s["changed"] for s in sliders),
            "requests": len(watch.requests),
            "outside_requests": watch.outside_requests,
            "console_errors": watch.console_errors,
            "layout": {
                k: layout[k] for k in ("overflow", "equations", "scrolling", "cramped", "sideways", "figures")
            },
            "search_entry_points": search,
            "icons": icons,
            "bytes": layout["weight"] | {"frame": frame, "total": sum(layout["weight"].values())},
        },
    )

    watch.check()
    broken = [i["src"][:120] for i in imgs if not i["ok"]]
    assert not broken, f"images that did not load: {broken}"
    assert math["rendered"] == math["math"], (
        f"MathJax typeset {math['rendered']} of {math['math']} math elements"
    )
    assert math["errors"] == 0, f"{math['errors']} MathJax error(s) on the page"
    assert not math["undefined"], f"undefined TeX macros: {sorted(set(math['undefined']))}"
    assert not math["raw"], f"raw TeX in the visible text: {math['raw'][:5]}"
    still = [s for s in sliders if not s["changed"]]
    assert not still, f"sliders that changed nothing on the page: {still}"

    assert not layout["overflow"], f"past the column, not scrollable: {layout['overflow'][:5]}"
    assert not layout["equations"], f"numbered equations cut: {layout['equations'][:5]}"
    assert not layout["cramped"], f"table cells without padding: {layout['cramped'][:5]}"
    assert layout["sideways"] == 0, f"the page scrolls {layout['sideways']} px sideways"
    assert not layout["figures"], f"figures without caption or alt text: {layout['figures'][:5]}"
    if rel in EQUATIONS_FIT:
        assert not layout["scrolling"], f"equations that scroll sideways: {layout['scrolling']}"
    assert len(search) == 1, f"{len(search)} search fields or buttons (one wanted): {search}"
    assert not icons["blank"], f"icons not drawn: {icons['blank']}"
    has_math = math["math"] > 0
    assert ("mathjax" in layout["weight"]) == has_math, f"MathJax loaded: {'mathjax' in layout['weight']}"
    budget = FRAME_BUDGET[has_math]
    assert frame <= budget, f"page frame {frame:,} bytes > budget {budget:,}: {layout['weight']}"


def test_search_finds_a_term_and_shows_maths_as_text(browser, book_url) -> None:
    """search.html, offline: results for SEARCH_TERM, none of whose summaries shows TeX."""
    with open_page(browser, book_url + f"search.html?q={SEARCH_TERM}") as (page, watch):
        # the status line is written once every result is listed; their summaries are fetched
        page.wait_for_function(
            "() => /found/.test((document.querySelector('#search-results .search-summary') || {}).textContent)",
            timeout=30_000,
        )
        page.wait_for_load_state("networkidle")
        results = page.eval_on_selector_all(
            "#search-results li",
            "lis => lis.map(li => [li.querySelector('a').textContent, "
            "(li.querySelector('p.context') || {textContent: ''}).textContent])",
        )
    watch.check()
    assert len(results) >= 8, f"search for {SEARCH_TERM!r} found {len(results)} pages"
    tex = [(title, summary) for title, summary in results if re.search(r"\\[A-Za-z]+|\\[()[\]]|\$", summary)]
    assert not tex, f"summaries with TeX: {tex[:3]}"


@pytest.mark.parametrize("rel", PAGES)
def test_exercises_numbered_per_page(browser, book_url, rel: str) -> None:
    """A page's exercises are "Exercise <label>.1", "<label>.2"...: the chapter's number, or the
    page's own label (the primer's 0, the appendix's A); cross-references read the same numbers."""
    with open_page(browser, book_url + rel, wait_for_math=False) as (page, watch):
        titles = page.eval_on_selector_all(
            "div.exercise > p.admonition-title .caption-number", "els => els.map(e => e.textContent.trim())"
        )
        refs = page.eval_on_selector_all(
            "a[href^='#'] span.std-numref",
            "els => els.map(e => [e.parentElement.hash, e.textContent.trim()])",
        )
        ids = page.eval_on_selector_all("div.exercise", "els => els.map(e => e.id)")
    if not titles:
        return
    chapter = re.match(r"book/0?(\d+)_", rel)
    label = EXERCISE_LABELS.get(rel) or (chapter and chapter.group(1))
    assert label, f"exercises on a page with no chapter number or label: {titles}"
    assert titles == [f"Exercise {label}.{i}" for i in range(1, len(titles) + 1)]
    by_id = dict(zip(ids, titles))
    wrong = [(href, text) for href, text in refs if href[1:] in by_id and text != by_id[href[1:]]]
    assert not wrong, f"references that name another number: {wrong}"
