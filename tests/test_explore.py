"""Chapter 1's explorer: the widget, the shared drawing function, the kernel-free control and the figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from alphavae_core.chapters.divergences.explorer import (
    SCRIPTS,
    SLIDERS,
    alpha_explorer,
    alpha_explorer_html,
    divergence_curves,
    draw_alpha_panel,
    plot_divergence_vs_alpha,
    plot_geometric_means,
)
from alphavae_core.divergences import geometric_mean_normal, gjs_normal, kl_normal

MAX_HTML_BYTES = 40_000
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def test_curves_match_closed_forms_and_endpoints():
    c = divergence_curves(1.0, -1.0)
    mu, lv = torch.tensor([1.0], dtype=torch.float64), torch.tensor([-1.0], dtype=torch.float64)
    zero = torch.zeros(1, dtype=torch.float64)
    assert c["alpha"][0] == 0.0 and c["alpha"][-1] == 1.0
    i = int(np.argmin(np.abs(c["alpha"] - 0.3)))
    assert c["primal"][i] == pytest.approx(float(gjs_normal(mu, lv, float(c["alpha"][i]))))
    assert c["kl_qp"] == pytest.approx(float(kl_normal(mu, lv, zero, zero)))
    assert c["primal"][0] == pytest.approx(c["kl_qp"]) and c["primal"][-1] == pytest.approx(c["kl_pq"])
    assert c["dual"][0] == pytest.approx(c["kl_pq"]) and c["dual"][-1] == pytest.approx(c["kl_qp"])


@pytest.mark.parametrize("mu, logvar, alpha", [(1.0, -1.0, 0.0), (-3.0, 2.0, 0.5), (3.0, -3.0, 1.0)])
def test_draw_alpha_panel_runs(mu, logvar, alpha):
    fig, axes = plt.subplots(1, 2)
    draw_alpha_panel(axes, mu, logvar, alpha)
    assert len(axes[0].lines) == 3  # p, q, N_alpha
    assert len(axes[1].lines) >= 4  # primal, dual, two KL references
    draw_alpha_panel(axes, mu, logvar, 0.25)  # redrawing clears first
    assert len(axes[0].lines) == 3
    plt.close(fig)


def test_widget_builds_and_redraws():
    ui = alpha_explorer()
    alpha, mu, logvar = ui.children[:3]
    assert (alpha.min, alpha.max) == (0.0, 1.0)
    for a, m, lv in [(0.2, 1.0, -1.0), (0.9, -2.0, 1.5)]:
        alpha.value, mu.value, logvar.value = a, m, lv
        ui.update()
    assert ui.kwargs == {"alpha": 0.9, "mu": -2.0, "logvar": 1.5}
    assert not plt.get_fignums()  # every redraw closes its figure


def test_html_control_is_self_contained_and_deterministic():
    html = alpha_explorer_html()
    assert html == alpha_explorer_html()  # same bytes on every run: nbval compares it as is
    assert len(html.encode()) < MAX_HTML_BYTES
    for name in ("alpha", "mu", "logvar"):
        lo, hi, step = SLIDERS[name]
        assert re.search(
            rf'<input type="range" id="explorer-{name}"[^>]*min="{lo:g}" max="{hi:g}" step="{step:g}"', html
        )
    for name in ("kl-qp", "kl-pq", "primal", "dual", "densities", "curves"):
        assert f'id="explorer-{name}"' in html
    # nothing is fetched: no src/href attributes, and the only URL is the SVG namespace
    assert not re.search(r"\b(src|href)\s*=", html)
    assert set(re.findall(r"https?://[^'\"\s)]+", html)) == {SVG_NAMESPACE}
    assert html.count("<script>") == 1 and "if (root) mountAlphaExplorer(root, {" in html


def test_html_control_rejects_values_off_its_sliders():
    with pytest.raises(ValueError, match="logvar must lie in"):
        alpha_explorer_html(logvar=5.0)


@pytest.mark.skipif(shutil.which("node") is None, reason="no node: the browser test checks the JavaScript")
def test_javascript_closed_forms_match_python():
    """The page's closed forms (closed_forms.js) against alphavae_core.divergences, without a browser."""
    points = [(a, m, s) for a in (0.0, 0.3, 1.0) for m in (-3.0, 0.0, 1.7) for s in (-3.0, 0.0, 2.0)]
    script = "\n".join(p.read_text() for p in SCRIPTS[:2]) + (
        f"\nconsole.log(JSON.stringify({json.dumps(points)}.map(([a, m, s]) => "
        "[gjsNormal(m, s, a, false), gjsNormal(m, s, a, true), klNormal(m, s, 0, 0), klNormal(0, 0, m, s),"
        " ...geometricMeanNormal(m, s, 0, 0, a)])));"
    )
    values = json.loads(
        subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    )
    t = lambda x: torch.tensor([float(x)], dtype=torch.float64)  # noqa: E731
    for (a, m, s), got in zip(points, values, strict=True):
        mean_a, lv_a = geometric_mean_normal(t(m), t(s), t(0), t(0), a)
        want = [
            gjs_normal(t(m), t(s), a), gjs_normal(t(m), t(s), a, dual=True), kl_normal(t(m), t(s), t(0), t(0)),
            kl_normal(t(0), t(0), t(m), t(s)), mean_a, lv_a,
        ]  # fmt: skip
        assert np.allclose(got, [float(w) for w in want], rtol=0, atol=1e-12), (a, m, s)


def test_static_figures():
    examples = {"a": (1.0, -1.0), "b": (0.0, 1.0), "c": (2.0, 0.0)}
    axes = plot_divergence_vs_alpha(examples)
    assert len(axes) == 3 and all(len(ax.lines) == 4 for ax in axes)
    assert axes[0].get_ylabel() == "divergence (nats)" and axes[2].get_ylabel() == "divergence (nats)"
    # two panels a row, so the figure fits a book column (~7 in at 110 dpi) at its natural size
    fig = axes[0].figure
    assert fig.get_figwidth() <= 6.6
    spare = [ax for ax in fig.axes if not any(ax is a for a in axes)]
    assert len(spare) == 1 and spare[0].get_legend() is not None and not spare[0].axison
    ax = plot_geometric_means(1.0, -1.0, (0.0, 0.5, 1.0))
    assert len(ax.lines) == 5 and ax.get_legend() is not None
    plt.close("all")
