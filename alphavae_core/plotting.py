"""One figure style and one palette for every chapter, and the plumbing of the book's explorers.

Each regulariser (and each divergence direction) has one colour everywhere in the book; a fixed-skew
divergence and its trainable version share a hue, light (fixed) and dark (trainable). Series that
are not regularisers (example posteriors, starting skews) take :data:`EXAMPLE_COLOURS`, which no
regulariser uses.

Explorers come in two front ends that draw the same thing: :func:`live_panels` (ipywidgets, needs a
live kernel) and :func:`kernel_free_html` (a self-contained HTML/SVG/JavaScript control that
computes in the page, for the static book).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

# Keys are the regulariser names of ``alphavae_core.losses`` plus the two KL directions.
PALETTE: dict[str, str] = {
    "kl": "#4c72b0",  # KL(q||p), the ELBO's reverse KL: blue
    "fwdkl": "#dd8452",  # KL(p||q), forward KL: orange
    "beta": "#8c8c8c",  # grey
    "mmd": "#937860",  # brown
    "gjs": "#6cc070",  # primal JS^Galpha, fixed skew: light green ...
    "tgjs": "#1b6b35",  # ... and trainable (alpha-VAE): dark green
    "dgjs": "#a08fd8",  # dual JS_*^Galpha, fixed skew: light purple ...
    "tdgjs": "#4b2a8c",  # ... and trainable (alpha*-VAE): dark purple
}

LABELS: dict[str, str] = {
    "kl": r"KL$(q\|p)$",
    "fwdkl": r"KL$(p\|q)$",
    "beta": r"$\beta$-VAE",
    "mmd": "InfoVAE (MMD)",
    "gjs": r"JS$^{G_\alpha}$ (fixed $\alpha$)",
    "dgjs": r"JS$_*^{G_\alpha}$ (fixed $\alpha$)",
    "tgjs": r"t-JS$^{G_\alpha}$ ($\alpha$-VAE)",
    "tdgjs": r"t-JS$_*^{G_\alpha}$ ($\alpha_*$-VAE)",
}

# The same names for tables and prose. ``TEXT_NAMES`` is plain Unicode (a table's text form, a
# terminal); ``HTML_NAMES`` typesets sub- and superscripts in an HTML table cell (no MathJax needed);
# ``MARKDOWN_NAMES`` is MyST inline maths for generated prose. One source, so a chapter never spells
# a regulariser its own way.
TEXT_NAMES: dict[str, str] = {
    "kl": "KL(q‖p)",
    "fwdkl": "KL(p‖q)",
    "beta": "β-VAE",
    "mmd": "InfoVAE (MMD)",
    "gjs": "JS^Gα",
    "dgjs": "JS*^Gα",
    "tgjs": "t-JS^Gα",
    "tdgjs": "t-JS*^Gα",
}
_GA = "<sup>G<sub>α</sub></sup>"
HTML_NAMES: dict[str, str] = {
    "kl": "KL(<i>q</i>‖<i>p</i>)",
    "fwdkl": "KL(<i>p</i>‖<i>q</i>)",
    "beta": "β-VAE",
    "mmd": "InfoVAE (MMD)",
    "gjs": f"JS{_GA}",
    "dgjs": f"JS<sub>*</sub>{_GA}",
    "tgjs": f"t-JS{_GA}",
    "tdgjs": f"t-JS<sub>*</sub>{_GA}",
}
MARKDOWN_NAMES: dict[str, str] = {
    "kl": r"$\mathrm{KL}(q\|p)$",
    "fwdkl": r"$\mathrm{KL}(p\|q)$",
    "beta": r"$\beta$-VAE",
    "mmd": "InfoVAE (MMD)",
    "gjs": r"$\mathrm{JS}^{G_\alpha}$",
    "dgjs": r"$\mathrm{JS}_*^{G_\alpha}$",
    "tgjs": r"$\text{t-JS}^{G_\alpha}$",
    "tdgjs": r"$\text{t-JS}_*^{G_\alpha}$",
}


def name(key: str, form: str = "text") -> str:
    """A regulariser's name as ``form`` = ``"text"``, ``"html"`` or ``"markdown"``."""
    names = {"text": TEXT_NAMES, "html": HTML_NAMES, "markdown": MARKDOWN_NAMES}.get(form)
    if names is None:
        raise ValueError(f"form must be text, html or markdown, not {form!r}")
    if key not in names:
        raise ValueError(f"no name for {key!r}; known: {', '.join(names)}")
    return names[key]


# Distributions drawn in density plots (none of them a regulariser's colour).
DENSITY_COLOURS: dict[str, str] = {"p": "#4c4c4c", "q": "#17a2b8", "n_alpha": "#c44e52"}

# Series that are not regularisers: example posteriors, starting skews, learning rates.
EXAMPLE_COLOURS: tuple[str, ...] = ("#222222", "#c44e52", "#17a2b8", "#b5b51f", "#e377c2")

# Resolution of the PNGs a chapter stores. Legible legends at ~1.9x the bytes of 80 dpi.
FIGURE_DPI = 110
# matplotlib's canvas resolution, which is also what a figure's text repr reports
# ("<Figure size 512x288 ...>", compared by nbval). Kept apart from FIGURE_DPI so that changing
# the stored resolution does not change any chapter's compared outputs.
CANVAS_DPI = 80


def apply_style() -> None:
    """Set the book's matplotlib style (call once, in a chapter's imports cell).

    In IPython, figures are displayed as PNGs at :data:`FIGURE_DPI`.
    """
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    mpl.rcParams.update(
        {
            "figure.dpi": CANVAS_DPI,
            "savefig.dpi": FIGURE_DPI,
            "figure.figsize": (6.4, 3.6),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "figure.constrained_layout.use": True,
        }
    )
    _inline_png_dpi(FIGURE_DPI)


def _inline_png_dpi(dpi: int) -> None:
    """Make IPython's inline display render figures at ``dpi`` (it ignores ``savefig.dpi``)."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing is displayed inline
        return
    if get_ipython() is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png", dpi=dpi)


def colour(name: str) -> str:
    """The colour of a regulariser or KL direction; ``ValueError`` for an unknown name."""
    if name not in PALETTE:
        raise ValueError(f"no colour for {name!r}; known: {', '.join(PALETTE)}")
    return PALETTE[name]


def label(name: str) -> str:
    """The legend label of a regulariser or KL direction."""
    if name not in LABELS:
        raise ValueError(f"no label for {name!r}; known: {', '.join(LABELS)}")
    return LABELS[name]


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 3.6, **kwargs):
    """``plt.subplots`` with the book's default size."""
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def live_panels(draw, ncols: int = 2, width: float = 8.0, height: float = 3.0, **sliders):
    """An ``ipywidgets.interactive`` that redraws ``draw(axes, **values)`` when a slider moves.

    Needs a live kernel; the static book shows a :func:`kernel_free_html` control instead.
    """
    import ipywidgets as widgets
    from IPython.display import display

    def update(**values) -> None:
        fig, axes = new_figure(ncols=ncols, width=width, height=height)
        draw(axes, **values)
        display(fig)
        plt.close(fig)

    return widgets.interactive(update, **sliders)


# ---------------------------------------------------------------------- kernel-free controls

_CONTROL_CSS = """
.avx{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:.5em 0 1em}
.avx-sliders{display:grid;grid-template-columns:max-content minmax(8em,1fr) 4.5em;gap:.2em .8em;
 align-items:center;max-width:40em}
.avx-sliders input[type=range]{width:100%}
.avx-sliders output{font-variant-numeric:tabular-nums;text-align:right}
.avx-panels{display:flex;flex-wrap:wrap;gap:.5em 1.5em;margin:.4em 0}
.avx-panel{flex:1 1 320px;max-width:460px}
.avx-panel svg{width:100%;height:auto;display:block;overflow:visible}
.avx-panel .avx-title{font-weight:600;font-size:13px;text-align:center}
.avx-legend{display:flex;flex-wrap:wrap;gap:.1em 1em;font-size:12.5px;justify-content:center}
.avx-legend span::before{content:"";display:inline-block;width:1.6em;height:0;margin:0 .35em .25em 0;
 vertical-align:middle;border-top:2.5px var(--avx-dash,solid) var(--avx-colour,#000)}
.avx-legend span.avx-dot::before{width:.55em;height:.55em;border:0;border-radius:50%;
 background:var(--avx-colour,#000)}
.avx table.avx-values{border-collapse:collapse;font-size:13px;margin:.3em 0}
.avx table.avx-values td,.avx table.avx-values th{padding:.15em .8em;border-bottom:1px solid #ddd;
 text-align:left}
.avx table.avx-values td.avx-num{text-align:right;font-variant-numeric:tabular-nums}
.avx svg text{font-size:14.5px;fill:#333}
.avx svg .avx-grid{stroke:#e6e6e6}
.avx svg .avx-axis{stroke:#555}
"""


def slider_markup(prefix: str, name: str, text: str, lo: float, hi: float, step: float, value: float) -> str:
    """One labelled ``input[type=range]`` with id ``{prefix}-{name}`` and its ``<output>``."""
    ident = f"{prefix}-{name}"
    return (
        f'<label for="{ident}">{text}</label>'
        f'<input type="range" id="{ident}" data-param="{name}" min="{lo:g}" max="{hi:g}" '
        f'step="{step:g}" value="{value:g}" aria-label="{html.escape(text)}">'
        f'<output id="{ident}-value" for="{ident}">{value:g}</output>'
    )


def sliders_markup(prefix: str, ranges: Mapping[str, tuple[float, float, float]], items) -> str:
    """Every slider of an explorer from ``(name, text, value)`` items, each value checked against its
    ``(lo, hi, step)`` range first (``ValueError`` naming the slider)."""
    for name, _, value in items:
        lo, hi, _ = ranges[name]
        if not lo <= value <= hi:
            raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}], got {value}")
    return "".join(slider_markup(prefix, name, text, *ranges[name], value) for name, text, value in items)


def value_row(prefix: str, name: str, text: str, unit: str = "") -> str:
    """A table row printing one computed quantity: ``<td id="{prefix}-{name}" data-value=...>``."""
    return (
        f'<tr><th scope="row">{text}</th><td class="avx-num" id="{prefix}-{name}" '
        f'data-quantity="{name}" data-value=""></td><td>{unit}</td></tr>'
    )


def legend_markup(items: Sequence[tuple[str, str, str]]) -> str:
    """An HTML legend: ``(text, colour, style)`` with style ``solid``, ``dashed``, ``dotted`` or ``dot``."""
    spans = []
    for text, col, style in items:
        if style == "dot":
            spans.append(f'<span class="avx-dot" style="--avx-colour:{col}">{text}</span>')
        else:
            spans.append(f'<span style="--avx-colour:{col};--avx-dash:{style}">{text}</span>')
    return '<div class="avx-legend">' + "".join(spans) + "</div>"


def kernel_free_html(root_id: str, body: str, scripts: Sequence[Path], mount: str, config: dict) -> str:
    """A self-contained control for the static book: markup, style and JavaScript in one string.

    ``body`` is the control's markup (sliders, SVG panels, value table), placed in
    ``<div class="avx" id="root_id">``. The JavaScript files in ``scripts`` are inlined, in order,
    inside one function scope (no globals, nothing fetched), followed by the call
    ``mount(root, config)`` with ``config`` serialised as JSON; ``root`` is the control's element,
    found from the script itself. The output is the same bytes on
    every call with the same arguments, so notebooks store it without nbval exemptions.
    """
    sources = []
    for path in scripts:
        text = Path(path).read_text(encoding="utf-8")
        if "</script" in text.lower():
            raise ValueError(f"{path} contains '</script', which would end the inline script early")
        sources.append(f"// ---- {Path(path).name}\n{text.strip()}\n")
    payload = json.dumps(config, sort_keys=True, allow_nan=False).replace("</", "<\\/")
    # The control is the element just before this script (Jupyter may run the script before the
    # output is attached to the page, when getElementById cannot find it yet).
    find_root = (
        "const here = document.currentScript;\n"
        f"const root = here && here.previousElementSibling && here.previousElementSibling.id === {json.dumps(root_id)}"
        f" ? here.previousElementSibling : document.getElementById({json.dumps(root_id)});\n"
    )
    script = (
        "(function () {\n'use strict';\n"
        + find_root
        + "\n".join(sources)
        + f"\nif (root) {mount}(root, {payload});\n}})();"
    )
    return (
        f'<div class="avx" id="{root_id}">\n<style>{_CONTROL_CSS.strip()}</style>\n{body}\n</div>\n'
        f"<script>\n{script}\n</script>\n"
    )
