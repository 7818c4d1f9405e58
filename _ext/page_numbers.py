"""Numbers for the figures and exercises of pages outside the numbered chapters.

Sphinx numbers what sits in a numbered chapter by chapter ("Exercise 2.1", ``numfig_secnum_depth:
1``) but counts everything on unnumbered pages with one counter across the whole book, so the
primer's exercises were 1-4 and the appendix's went on at 5. Each such page gets a label of its
own (``page_numbers`` in _config.yml: the primer is 0, the appendix A) and its own count: "Exercise
0.1", "Exercise A.1", "Figure 0.2", in the chapters' form. Cross-references ({numref}) and
"Solution to Exercise A.1" follow, since they read the same numbers.

An unnumbered page that numbers something and has no label is reported as a warning (the build
runs with --warningiserror), rather than numbered on from another page.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)


def number_per_page(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Renumber each unnumbered page's figures, tables and exercises from 1, after its label."""
    labels: dict[str, str] = app.config.page_numbers
    renumbered = []
    for docname, kinds in env.toc_fignumbers.items():
        if env.toc_secnumbers.get(docname) or not kinds:
            continue  # a numbered chapter keeps Sphinx's numbers
        if docname not in labels:
            logger.warning(
                "%s numbers %s outside the numbered chapters: give it a label in page_numbers",
                docname,
                ", ".join(sorted(kinds)),
                location=docname,
            )
            continue
        for kind, numbers in kinds.items():
            in_order = sorted(numbers, key=numbers.__getitem__)  # Sphinx counted in page order
            kinds[kind] = {node_id: (labels[docname], i) for i, node_id in enumerate(in_order, 1)}
        renumbered.append(docname)
    return renumbered


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("page_numbers", {}, "env", types=[dict])
    # after Sphinx's own numbering (TocTreeCollector, priority 500), which runs on every build
    app.connect("env-get-updated", number_per_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
