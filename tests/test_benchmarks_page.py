"""Chapter 4 as a reader sees it: typeset names, narrow tables that keep every number, figures that
fit the book's column, and a committed notebook without walls of plain text."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch
from PIL import Image
from test_benchmarks import cpu_results  # noqa: F401 - the synthetic cpu grid, a fixture

from alphavae_core.chapters import benchmarks as b
from alphavae_core.paths import REPO_ROOT
from alphavae_core.plotting import FIGURE_DPI, HTML_NAMES, MARKDOWN_NAMES, TEXT_NAMES, apply_style

PLAIN = re.compile(r"\^G|α\*-VAE")  # a name left in plain text (typeset HTML and MyST have neither)
# The book's column is about 670-720 px wide on a 1280 px laptop: a figure this wide or narrower is
# shown at 85 % of its natural size or more.
WIDEST_FIGURE_PX = 790


class _Cells(HTMLParser):
    """The rows of an HTML table: per row, its cells' colspans."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[int]] = []
        self.rowspans: list[int] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append(int(a.get("colspan", 1)))
            self.rowspans.append(int(a.get("rowspan", 1)))


def test_row_labels_come_from_the_shared_names() -> None:
    assert b.model_label("tdgjs") == "α*-VAE (t-JS*^Gα)"  # the labels the tables printed before
    assert b.model_label("beta") == "β-VAE (β·KL(q‖p))" and b.model_label("mmd") == "InfoVAE (MMD)"
    for key in ("kl", "gjs", "dgjs", "tgjs", "tdgjs"):
        assert b.model_label(key).endswith(f"({TEXT_NAMES[key]})")
        assert b.model_label(key, "html").endswith(f"({HTML_NAMES[key]})")
        assert b.model_label(key, "markdown").endswith(f"({MARKDOWN_NAMES[key]})")
    assert b.model_label("tdgjs", "html").startswith("α<sub>*</sub>-VAE")
    assert not hasattr(b, "TEXT_LABELS")  # no chapter-local spelling of the names
    # the longest name wins: t-JS*^Gα is not read as JS*^Gα
    assert b.typeset("t-JS*^Gα < JS^Gα") == f"{HTML_NAMES['tdgjs']} &lt; {HTML_NAMES['gjs']}"
    with pytest.raises(ValueError, match="form must be"):
        b.model_label("kl", "latex")


def test_html_table_spans_match_the_columns() -> None:
    frame = pd.DataFrame(
        [["1", "2", "3", "4"], ["5", "6", "7", "8"], ["9", "10", "11", "12"]],
        index=pd.MultiIndex.from_tuples([("MNIST", "kl"), ("MNIST", "gjs"), ("Fashion", "kl")]),
        columns=pd.MultiIndex.from_tuples([("A", "ours"), ("A", "paper"), ("B", "ours"), ("B", "paper")]),
    )
    parsed = _Cells()
    parsed.feed(b.views.html_table(frame, corner="run"))
    widths = [sum(row) - 1 for row in parsed.rows]  # less the row-label cell
    # header rows span 2 + 4 columns; the first body row of a group carries the group's label
    assert widths[:2] == [5, 5] and widths[2] == 5 and widths[3] == 4 and widths[4] == 5
    assert 2 in parsed.rowspans  # MNIST spans its two rows
    assert "&lt;b&gt;" in b.views.html_table(pd.DataFrame({"x": ["<b>"]}))  # cells are escaped


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+\.\d+", text.replace("−", "-")))


def test_views_keep_every_number_and_typeset_every_name(cpu_results) -> None:  # noqa: F811
    settings, rows, histories = cpu_results
    pairs = [
        (b.table1(rows, settings), b.table1_view(rows, settings)),
        (b.table3(rows, settings), b.table3_view(rows, settings)),
        (b.rate_table(rows), b.rate_view(rows)),
        (b.claims(rows, histories), b.claims_view(rows, histories)),
        (b.table3_ordering(rows, histories), b.ordering_view(rows, histories)),
        (b.alpha_travel(settings, rows, histories), b.travel_view(settings, rows, histories)),
    ]
    for frame, shown in pairs:
        numbers = _numbers(frame.to_string())
        assert numbers, frame
        missing = {n for n in numbers if n not in _numbers(shown.html) and f"{float(n):g}" not in shown.html}
        assert not missing, (missing, shown.html[:300])
        assert not PLAIN.search(shown.html), shown.html
        assert shown._repr_html_() == shown.html and repr(shown)
    # Table 1's notes sit under the table, marked on their rows, not in a wide column
    t1 = b.table1_view(rows, settings).html
    assert ">note<" not in t1.split("</thead>")[0] and "(μ, log σ²)" in t1 and "β-VAE (β·KL(" in t1


def test_claims_answer_first_with_the_detail_one_click_away(cpu_results) -> None:  # noqa: F811
    _, rows, histories = cpu_results
    table = b.claims(rows, histories)
    summary = b.claims_summary(table)
    # one row per claim (not per claim and dataset) and a last row that counts them
    assert len(summary) == table["claim"].nunique() + 1 and list(summary.columns) == ["MNIST"]
    assert summary.loc["α*-VAE beats the VAE", "MNIST"] == "holds, rate −0.50 nats"
    assert summary.iloc[-1]["MNIST"] == "6 of 6 hold, 0 fail"
    assert summary.loc["optimal α falls, then settles (Fig. 3): primal", "MNIST"].endswith("(book's check)")
    html = b.claims_view(rows, histories).html
    short, _, detail = html.partition("<details")
    assert "95% interval," not in short and detail.count("95% interval,") >= 4  # the intervals: in the detail
    assert detail.startswith(' class="avx-bench-more"><summary>Every claim')


def test_verdict_prose_typesets_the_names(cpu_results) -> None:  # noqa: F811
    settings, rows, _ = cpu_results
    text = b.verdict_text(rows, settings)
    assert MARKDOWN_NAMES["tdgjs"] in text and not PLAIN.search(text)


def test_every_figure_fits_the_column_at_full_size(cpu_results) -> None:  # noqa: F811
    settings, rows, histories = cpu_results
    apply_style()
    figures = {
        "figure 1": b.plot_figure1(rows, "mnist"),
        "figure 3": b.plot_landscapes(rows, histories, "mnist"),
        "figure 4": b.plot_alpha_trajectories(rows, histories, "mnist"),
        "reconstructions": b.plot_reconstructions(rows, histories, "mnist", torch.rand(8, 1, 32, 32)),
    }
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")  # as IPython stores it
        width = Image.open(buffer).size[0]
        assert width <= WIDEST_FIGURE_PX, f"{name}: {width} px wide, shown below 85 % at 1280 px"
        small = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_fontsize() < 8]
        legends = [lg for lg in [*fig.legends, *(ax.get_legend() for ax in fig.axes)] if lg]
        assert not small and all(t.get_fontsize() >= 8 for lg in legends for t in lg.get_texts()), name
    plt.close("all")


def test_the_committed_chapter_reads_well() -> None:
    """The executed notebook: names typeset in its HTML tables, no plain-text table dumps."""
    nb = json.loads((REPO_ROOT / "book" / "04_benchmarks.ipynb").read_text())
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        for out in cell.get("outputs", []):
            html = "".join(out.get("data", {}).get("text/html", ""))
            if "avx-selfcheck" in html:  # the course's self-check quiz, built by alphavae_core.course
                continue
            assert not PLAIN.search(html), f"code cell {i}: {PLAIN.search(html)}"
            text = "".join(out.get("text", ""))
            long = [line for line in text.splitlines() if len(line) > 90]
            assert len(text.splitlines()) <= 4 and not long, f"code cell {i} prints a table: {text[:200]}"
