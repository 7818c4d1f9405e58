"""Readable search results: the search page loads ``_static/search-snippets.js``.

Sphinx cuts each result's summary from the page's HTML as it was built, before MathJax typesets
it, so a summary read ``\\(q_\\phi(z\\mid x)\\)``. The script turns each math element into plain
Unicode text first (``q_φ(z|x)``), offline, without loading MathJax on the search page. Only
search.html needs it, so only that page loads it (``defer``: it runs after ``searchtools.js``
defines ``Search`` and before the search runs). The script lives in ``_ext/static``, added to
``html_static_path`` here: Jupyter Book loads every script in the book's ``_static`` on every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

STATIC = Path(__file__).parent / "static"
SCRIPT = "search-snippets.js"  # in STATIC, copied to the build's _static


def add_to_search_page(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if pagename == "search":
        app.add_js_file(SCRIPT, loading_method="defer")


def add_static_path(app: Sphinx, config: Any) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", add_static_path)
    app.connect("html-page-context", add_to_search_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
