"""Open the built book in headless Chromium: shared by every browser test.

The book is built once, before pytest runs (``make html``, which ``make test`` runs first), into
``_build/html``. These helpers serve it on 127.0.0.1, drive Debian's Chromium through Playwright
(no browser download), and watch each page for console errors and for requests that leave the
site. A slider test in another module reuses them::

    from browser_helpers import open_page, read_number, set_slider

    def test_alpha_slider(browser, book_url):
        with open_page(browser, book_url + "book/01_divergences.html") as (page, watch):
            set_slider(page, "#explorer-alpha", 0.3)
            assert abs(read_number(page, "#explorer-kl-qp") - expected) < 1e-6
        watch.check()  # no console error, no request outside the site

``browser`` and ``book_url`` are pytest fixtures, defined in ``conftest.py`` from these helpers.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
SCREENSHOTS = REPO / "_build" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# The flags the README gives for starting Chromium by hand (Playwright adds a fresh profile).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
# The two screens every page is read on: a laptop and a phone (an iPhone 12-15's CSS viewport).
VIEWPORTS = {"laptop": VIEWPORT, "phone": {"width": 390, "height": 844}}


def find_chromium() -> str | None:
    """Debian's Chromium: $CHROMIUM, /usr/bin/chromium, or ``chromium`` on PATH; None if absent."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> str:
    """The Chromium executable, or skip the calling module with one line saying how to get it."""
    path = find_chromium()
    if path is None:
        pytest.skip(
            "no Chromium: install it with `apt-get install chromium` (see README)", allow_module_level=True
        )
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL ending in /."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class PageWatch:
    """What a page did while it was open: console errors, uncaught exceptions, and every request."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Fail on any console error, any request to another host, or any local request that failed."""
        problems = []
        if self.outside_requests:
            problems.append(
                f"{len(self.outside_requests)} request(s) outside the site: {self.outside_requests}"
            )
        if self.console_errors:
            problems.append(f"console errors: {self.console_errors}")
        if self.failed_requests:
            problems.append(f"failed requests: {self.failed_requests}")
        assert not problems, "; ".join(problems)


def is_local(url: str) -> bool:
    """True for the site itself (127.0.0.1 / localhost) and for data:, blob: and about: URLs."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


@contextmanager
def open_page(browser, url: str, *, wait_for_math: bool = True, viewport: dict | None = None):
    """Open ``url`` in a fresh context (``viewport``: :data:`VIEWPORT` unless given); yields ``(page, watch)``.

    Requests to any other host are recorded and aborted; console errors, uncaught exceptions and
    failed local requests are recorded. The page has loaded, its images have had the chance to
    load, and MathJax (where the page uses it) has finished typesetting.
    """
    context = browser.new_context(viewport=viewport or VIEWPORT, service_workers="block")
    watch = PageWatch()

    def route(route):
        request_url = route.request.url
        if is_local(request_url):
            route.continue_()
        else:
            watch.outside_requests.append(request_url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("request", lambda request: watch.requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and watch.console_errors.append(message.text))
    page.on("pageerror", lambda error: watch.console_errors.append(f"uncaught: {error}"))

    def finished(response):
        if response.status >= 400 and is_local(response.url):
            watch.failed_requests.append(f"{response.status} {response.url}")

    page.on("response", finished)
    try:
        page.goto(url, wait_until="load")
        wait_for_images(page)
        if wait_for_math:
            wait_for_mathjax(page)
        yield page, watch
    finally:
        context.close()


def wait_for_mathjax(page, timeout_ms: float = 60_000) -> None:
    """Wait until MathJax, where the page loads it, has typeset everything."""
    page.wait_for_function(
        "() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)",
        timeout=timeout_ms,
    )
    page.evaluate(
        "async () => { if (window.MathJax && window.MathJax.startup) await window.MathJax.startup.promise; }"
    )


_IMAGES_JS = """
() => Array.from(document.images).map(img => ({
  src: img.currentSrc || img.getAttribute('src') || '(no src)',
  ok: img.complete && img.naturalWidth > 0,
  inArticle: !!img.closest('article'),
}))
"""


def wait_for_images(page, timeout_ms: float = 10_000) -> None:
    """Make lazy images eager, then wait (up to ``timeout_ms``) for every <img> to have loaded."""
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => (i.loading = 'eager'))")
    try:
        page.wait_for_function(
            "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
            timeout=timeout_ms,
        )
    except Exception:  # the caller's image check names the images that did not load
        pass


def images(page) -> list[dict]:
    """Every <img> of the page: its source, whether it loaded, and whether it sits in the article."""
    return page.evaluate(_IMAGES_JS)


def math_report(page) -> dict:
    """Math on the page: elements, how many MathJax rendered, its errors, undefined macros, raw TeX.

    Raw TeX is looked for in visible text outside code (``pre``, ``code``) and outside rendered math.
    """
    return page.evaluate(
        r"""() => {
      const maths = Array.from(document.querySelectorAll('.math'));
      const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const raw = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || el.closest(skip) || !el.checkVisibility()) continue;
        const text = node.textContent;
        for (const token of ['\\(', '\\[', '$$']) {
          const at = text.indexOf(token);
          if (at >= 0) raw.push(text.slice(Math.max(0, at - 30), at + 40).trim());
        }
      }
      return {
        math: maths.length,
        rendered: maths.filter(m => m.querySelector('mjx-container')).length,
        containers: document.querySelectorAll('mjx-container').length,
        errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        // MathJax shows an undefined macro as red text (its noundefined extension)
        undefined: Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor=red]'))
          .map(t => t.textContent).filter(t => t.startsWith('\\')),
        raw: raw,
      };
    }"""
    )


_LAYOUT_JS = r"""
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const col = article.getBoundingClientRect();
  const name = el => {
    const math = el.closest('div.math');
    if (math) return 'equation ' +
      (math.querySelector('mjx-assistive-mml') || math).textContent.replace(/\s+/g, ' ').trim().slice(0, 60);
    const text = (el.innerText || el.getAttribute('alt') || '').replace(/\s+/g, ' ').trim().slice(0, 60);
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + text + '"';
  };
  // The box that shows an element: its nearest ancestor that clips (overflow-x not visible), or the
  // column. Content left of a scroll box can never be scrolled to; content right of it can, when
  // the box scrolls (auto/scroll) rather than hides. Checked up the chain to the column.
  const unreachable = el => {
    for (let cur = el; cur && cur !== article; ) {
      const r = cur.getBoundingClientRect();
      let box = cur.parentElement;
      while (box && box !== article && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
      if (!box || box === article) {
        const past = Math.max(col.left - r.left, r.right - col.right);
        return past > 1 ? {past: Math.round(past), by: 'column'} : null;
      }
      const b = box.getBoundingClientRect();
      const left = b.left + box.clientLeft, right = left + box.clientWidth;
      const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
      if (left - r.left > 1) return {past: Math.round(left - r.left), by: 'left'};
      if (!scrolls && r.right - right > 1) return {past: Math.round(r.right - right), by: 'hidden'};
      cur = box;
    }
    return null;
  };
  const visible = el => el.checkVisibility() && el.getBoundingClientRect().width > 0;
  const content = article.querySelectorAll(
    'div.math mjx-container[display=true] > mjx-math, div.math > span.eqno, table, img, pre, svg:not(mjx-container svg), canvas, iframe, video, :not(pre) > code');
  const overflow = [], equations = [];
  for (const el of content) {
    if (!visible(el)) continue;
    const bad = unreachable(el);
    if (!bad) continue;
    const math = el.closest('div.math');
    const numbered = math && (math.querySelector('span.eqno, mjx-labels, mjx-mlabeledtr') !== null);
    (numbered ? equations : overflow).push(name(el) + ': ' + bad.past + ' px cut (' + bad.by + ')');
  }
  // Display equations wider than the column (they scroll inside it rather than being cut).
  const scrolling = Array.from(article.querySelectorAll('div.math > mjx-container[display=true]'))
    .filter(c => visible(c) && c.scrollWidth > c.clientWidth + 1)
    .map(c => name(c) + ': ' + (c.scrollWidth - c.clientWidth) + ' px to scroll');
  const cramped = [];
  for (const table of article.querySelectorAll('table')) {
    if (!visible(table)) continue;
    const cells = Array.from(table.querySelectorAll('td, th')).filter(c => c.textContent.trim());
    const tight = cells.filter(c => {
      const s = getComputedStyle(c);
      return parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) < 8;
    });
    if (tight.length) cramped.push(name(table) + ': ' + tight.length + ' of ' + cells.length + ' cells');
  }
  const figures = [];
  for (const img of article.querySelectorAll('img')) {
    if (!visible(img)) continue;
    const alt = (img.getAttribute('alt') || '').trim();
    const file = (img.getAttribute('src') || '').split('/').pop();
    const caption = img.closest('figure') && img.closest('figure').querySelector('figcaption');
    const problems = [];
    if (!caption || !caption.textContent.trim()) problems.push('no caption');
    if (alt.length < 15 || /\.(png|jpe?g|svg|gif)$/i.test(alt) || alt.includes('_images/') || alt.includes(file))
      problems.push('alt text ' + JSON.stringify(alt.slice(0, 40)));
    if (problems.length) figures.push(file.slice(0, 16) + '…: ' + problems.join(', '));
  }
  const nav = performance.getEntriesByType('navigation')[0];
  const weight = {};
  for (const e of [nav, ...performance.getEntriesByType('resource')]) {
    if (!e) continue;
    const path = new URL(e.name).pathname;
    const kind = path.includes('/_images/') ? 'figures'
      : /fontawesome/i.test(path) ? 'icons'
      : path.includes('/mathjax/') ? 'mathjax'
      : /\.(woff2?|ttf|otf)$/.test(path) ? 'fonts'
      : e.entryType === 'navigation' ? 'html' : 'theme';
    weight[kind] = (weight[kind] || 0) + (e.transferSize || e.encodedBodySize || 0);
  }
  return {
    overflow, equations, scrolling, cramped, figures, weight,
    sideways: Math.max(0, document.documentElement.scrollWidth - window.innerWidth),
  };
}
"""


def layout_report(page) -> dict:
    """How the page reads at its current viewport, as a reader sees it.

    ``overflow``: main-column content (tables, figures, code, unnumbered equations) that extends past
    the column with no way to scroll to all of it; ``equations``: numbered equations so cut;
    ``scrolling``: display equations wider than the column, which the reader scrolls sideways;
    ``cramped``: tables whose cells have less than 8 px of horizontal padding; ``sideways``: how far
    the page body scrolls sideways (px); ``figures``: images of the article without a caption or
    with an alt text that is missing, too short, or a file name; ``weight``: bytes loaded by kind
    (html, theme, icons, fonts, mathjax, figures).
    """
    return page.evaluate(_LAYOUT_JS)


_SEARCH_JS = """
() => Array.from(document.querySelectorAll('.search-button__button, input[type=search], form[role=search]'))
  .filter(el => !el.closest('dialog, .bd-search-container') && el.checkVisibility()
    && el.getBoundingClientRect().width > 0)
  .map(el => (el.closest('.bd-sidebar-primary, .bd-header-article, header, footer') || document.body)
    .className.split(' ')[0] + ': ' + el.tagName.toLowerCase() + '.' + el.className.trim().split(/\\s+/).join('.'))
"""


def search_entry_points(page) -> list[str]:
    """The search fields and buttons a reader can see (where each sits: sidebar, header...).

    Left out: the search dialog they open, and the search page's own field (the search itself).
    """
    return page.evaluate(_SEARCH_JS)


_ICONS_JS = """
() => {
  const icons = Array.from(document.querySelectorAll('i[class*="fa-"], span[class*="fa-"]'))
    .filter(el => el.checkVisibility() && el.getBoundingClientRect().width > 0);
  const blank = [];
  for (const el of icons) {
    const before = getComputedStyle(el, '::before');
    const family = before.fontFamily.split(',')[0].trim();
    const drawn = before.content !== 'none' && before.content !== 'normal'
      && document.fonts.check(`${before.fontWeight} 16px ${family}`, before.content.replace(/"/g, ''));
    if (!drawn) blank.push(el.className);
  }
  return {icons: icons.length, svg: document.querySelectorAll('svg.svg-inline--fa').length, blank};
}
"""


def icons_report(page) -> dict:
    """Font Awesome icons on the page: how many are visible as webfont glyphs (``icons``), how many
    the old SVG script drew (``svg``), and the classes of visible icons with no glyph (``blank``)."""
    page.evaluate("() => document.fonts.ready")
    return page.evaluate(_ICONS_JS)


def set_slider(page, selector: str, value: float) -> float:
    """Move the ``input[type=range]`` at ``selector`` to ``value`` as a reader would.

    Sets the value through the element's own setter (so the browser clamps and snaps it to
    min/max/step) and fires ``input`` then ``change``. Returns the value the slider took.
    """
    return page.eval_on_selector(
        selector,
        """(el, value) => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      setter.call(el, String(value));
      el.dispatchEvent(new Event('input', {bubbles: true}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      return Number(el.value);
    }""",
        value,
    )


def read_text(page, selector: str) -> str:
    """The visible text of the first element at ``selector``, stripped."""
    return page.inner_text(selector).strip()


_NUMBER = re.compile(r"[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+−]?\d+)?")


def read_number(page, selector: str) -> float:
    """The first number in the text at ``selector`` (a Unicode minus counts as a minus sign)."""
    text = read_text(page, selector)
    match = _NUMBER.search(text)
    if match is None:
        raise AssertionError(f"no number in {selector!r}: {text!r}")
    return float(match.group().replace("−", "-"))


def page_state(page) -> str:
    """A fingerprint of what the page shows: visible text, image sources, SVG markup and canvas
    pixels, shadow DOM included (Bokeh draws in shadow roots). Equal fingerprints: nothing changed."""
    return page.evaluate(
        """() => {
      const parts = [document.body.innerText];
      const visit = root => {
        root.querySelectorAll('img').forEach(i => parts.push(i.currentSrc || i.src));
        root.querySelectorAll('svg').forEach(s => parts.push(s.outerHTML));
        root.querySelectorAll('canvas').forEach(c => { try { parts.push(c.toDataURL()); } catch (e) {} });
        root.querySelectorAll('*').forEach(el => { if (el.shadowRoot) { parts.push(el.shadowRoot.textContent); visit(el.shadowRoot); } });
      };
      visit(document);
      const text = parts.join('\\u0000');
      let hash = 2166136261;
      for (let i = 0; i < text.length; i++) { hash ^= text.charCodeAt(i); hash = Math.imul(hash, 16777619); }
      return text.length + ':' + (hash >>> 0).toString(16);
    }"""
    )


def wait_for_change(page, before: str, timeout_ms: float = 3_000) -> bool:
    """Wait until :func:`page_state` differs from ``before``; True if it did within the timeout."""
    deadline = timeout_ms / 100
    for _ in range(int(deadline) + 1):
        if page_state(page) != before:
            return True
        page.wait_for_timeout(100)
    return False


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as ``_build/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
