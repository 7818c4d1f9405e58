"""Chapter 4's row labels: a model's name, then its divergence as :mod:`alphavae_core.plotting` spells it.

``model_label("tdgjs")`` is ``"α*-VAE (t-JS*^Gα)"`` in plain text (a table's text form, a terminal),
typeset with sub- and superscripts in ``"html"`` and as MyST inline maths in ``"markdown"``; the
divergence part is always :func:`alphavae_core.plotting.name`, the book's one source of names.
:func:`typeset` turns a plain-text cell that names regularisers into the HTML of a table cell.
"""

from __future__ import annotations

import html
import re

from alphavae_core.plotting import TEXT_NAMES, name

FORMS = ("text", "html", "markdown")
# The model each regulariser trains, per form (the paper writes the dual's model as alpha_*-VAE).
_MODELS: dict[str, tuple[str, str, str]] = {
    "beta": ("β-VAE", "β-VAE", r"$\beta$-VAE"),
    "kl": ("VAE", "VAE", "VAE"),
    "gjs": ("α-VAE, fixed α", "α-VAE, fixed α", r"$\alpha$-VAE, fixed $\alpha$"),
    "dgjs": ("α*-VAE, fixed α", "α<sub>*</sub>-VAE, fixed α", r"$\alpha_*$-VAE, fixed $\alpha$"),
    "tgjs": ("α-VAE", "α-VAE", r"$\alpha$-VAE"),
    "tdgjs": ("α*-VAE", "α<sub>*</sub>-VAE", r"$\alpha_*$-VAE"),
}


def _form(form: str) -> int:
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    return FORMS.index(form)


def model_name(key: str, form: str = "text") -> str:
    """The model a regulariser trains (``"α*-VAE"``); InfoVAE's name already says its divergence."""
    if key == "mmd":
        return name("mmd", form)
    if key not in _MODELS:
        raise ValueError(f"no model name for {key!r}; known: mmd, {', '.join(_MODELS)}")
    return _MODELS[key][_form(form)]


def model_label(key: str, form: str = "text") -> str:
    """A Table 1 row label: the model, then its divergence (``"β-VAE (β·KL(q‖p))"``)."""
    if key == "mmd":
        return name("mmd", form)
    divergence = name("kl" if key == "beta" else key, form)
    if key == "beta":  # beta-VAE: beta times the VAE's KL(q||p)
        divergence = r"$\beta\cdot" + divergence[1:] if form == "markdown" else "β·" + divergence
    return f"{model_name(key, form)} ({divergence})"


# Plain-text spellings and their typeset forms, longest first so that "t-JS*^Gα" is not read as "JS*^Gα".
def _pattern(form: str) -> tuple[re.Pattern[str], dict[str, str]]:
    pairs = [(TEXT_NAMES[k], name(k, form)) for k in TEXT_NAMES]
    pairs += [(model_name(k), model_name(k, form)) for k in _MODELS]
    table = {text: typeset for text, typeset in pairs if text != typeset}
    return re.compile("|".join(re.escape(t) for t in sorted(table, key=len, reverse=True))), table


_HTML, _MARKDOWN = _pattern("html"), _pattern("markdown")


def typeset(text: str) -> str:
    """``text`` as HTML: escaped, with every regulariser name it spells in plain text typeset."""
    pattern, table = _HTML
    return pattern.sub(lambda m: table[m.group(0)], html.escape(text, quote=False))


def markdown(text: str) -> str:
    """``text`` for generated Markdown prose: every regulariser name it spells as MyST inline maths."""
    pattern, table = _MARKDOWN
    return pattern.sub(lambda m: table[m.group(0)], text)
