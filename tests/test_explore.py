"""Chapter 1's explorer: the widget, the shared drawing function and the static animation."""

from __future__ import annotations

import base64
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from alphavae_core.chapters.divergences.explorer import (
    SETTINGS,
    alpha_animation,
    alpha_explorer,
    divergence_curves,
    draw_alpha_panel,
    plot_divergence_vs_alpha,
)
from alphavae_core.divergences import gjs_normal, kl_normal
from alphavae_core.experiments.presets import PRESET_NAMES, select

MAX_HTML_BYTES = 800_000


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


def test_animation_html_size_and_frames():
    html = alpha_animation(n_frames=21)
    assert len(html.encode()) < MAX_HTML_BYTES
    frames = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(frames) == 21
    assert base64.b64decode(frames[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.get_fignums()


def test_animation_rejects_bad_frame_count():
    with pytest.raises(ValueError, match="n_frames .*1"):
        alpha_animation(n_frames=1)


def test_static_figure():
    ax = plot_divergence_vs_alpha({"a": (1.0, -1.0), "b": (0.0, 1.0)})
    assert len(ax.lines) == 8
    plt.close("all")


def test_settings_cover_every_preset():
    for preset in PRESET_NAMES:
        assert 2 <= select(SETTINGS, preset)["n_frames"] <= 41
