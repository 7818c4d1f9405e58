"""Keep every built page whole offline.

Notebook outputs can carry links to a CDN that the book does not need. Today the one such link is
matplotlib's JavaScript animation (``Animation.to_jshtml``), whose HTML starts with a stylesheet
link to Font Awesome 4.4 on maxcdn for its play/pause icons. The theme already ships Font Awesome
6 locally (its ``fa fa-play`` classes still resolve), so the link is dropped from the page body.

The browser test (``tests/test_browser.py``) fails on any request outside the site, so a new
outside link from a notebook output shows up there; add its pattern here (or make the asset local).
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx

# <link ...href="https://maxcdn.bootstrapcdn.com/font-awesome/...css"> from matplotlib's jshtml
DROPPED = (
    re.compile(
        r"<link\b[^>]*\bhref=[\"']https?://maxcdn\.bootstrapcdn\.com/font-awesome/[^\"']*[\"'][^>]*>",
        re.IGNORECASE,
    ),
)


def drop_outside_links(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    body = context.get("body")
    if not body:
        return
    for pattern in DROPPED:
        body = pattern.sub("", body)
    context["body"] = body


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", drop_outside_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
