"""The denoising chapter (the paper's Figure 5): test MSE against the clean image when the VAE is
trained and tested on noisy inputs, clamp(x + N(0, sigma^2), 0, 1), per regulariser and noise level.

The runs are listed by :func:`alphavae_core.experiments.catalogue.denoising_configs` and trained by
``alphavae grid --experiment denoising`` into ``results/<preset>/denoising.csv``. sigma = 0 is
chapter 4's Table 1 run where Table 1 has the regulariser (read from ``benchmarks.csv``); forward KL
is not in Table 1, so its sigma = 0 runs are part of the denoising grid.

The verdict pairs models by seed (:mod:`.seeds`), and a model whose mean rate is below
:data:`COLLAPSE_NATS` is called collapsed: its decoder sees (almost) nothing of the input, so its test
MSE is compared with :func:`mean_image_mse`, the error of predicting the mean training image.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import torch

from alphavae_core import data
from alphavae_core.chapters.benchmarks import format_mean_std, mean_std, montage
from alphavae_core.chapters.seeds import Paired, paired
from alphavae_core.config import TrainConfig
from alphavae_core.experiments.catalogue import DENOISING_REGULARISERS, benchmark_configs, denoising_configs
from alphavae_core.experiments.grid import decode_images, key_of, run_grid, table_paths
from alphavae_core.experiments.presets import check_preset
from alphavae_core.experiments.results import KEY, read_json, read_table
from alphavae_core.losses import TABLE1_REGULARISERS
from alphavae_core.paths import data_root, results_dir
from alphavae_core.plotting import colour, label

TABLE = "denoising"
TRAINABLE = ("tgjs", "tdgjs")
OTHERS = tuple(r for r in DENOISING_REGULARISERS if r not in TRAINABLE)  # kl, fwdkl, mmd
TEXT = {"kl": "KL(q‖p)", "fwdkl": "KL(p‖q)", "mmd": "MMD", "tgjs": "t-JS^Gα", "tdgjs": "t-JS*^Gα"}
# A mean rate below this many nats per image: the encoder passes (almost) nothing to the decoder.
# The collapsed runs seen at 5 epochs sit near 0.01; working encoders spend at least about 1.
COLLAPSE_NATS = 0.1
CHUNK = 10_000  # images per step of the mean-image baseline: bounded memory in float64


@dataclass(frozen=True)
class DenoisingSettings:
    """The runs the chapter expects at one preset and where their rows live."""

    preset: str
    folder: Path
    configs: tuple[TrainConfig, ...]  # the denoising grid (noise > 0, and forward KL at 0)
    clean_configs: tuple[TrainConfig, ...]  # sigma = 0: chapter 4's Table 1 runs
    compute: bool  # only smoke trains inside the chapter

    def __repr__(self) -> str:
        return f"DenoisingSettings(preset={self.preset!r}, expected runs={len(self.expected)})"

    @property
    def expected(self) -> tuple[TrainConfig, ...]:
        return self.configs + self.clean_configs


def chapter_settings(preset: str, folder: str | Path | None = None) -> DenoisingSettings:
    """The denoising runs of ``preset`` (``results/<preset>/`` unless ``folder`` is given)."""
    check_preset(preset)
    table1 = tuple(r for r in DENOISING_REGULARISERS if r in TABLE1_REGULARISERS)
    clean = benchmark_configs(preset, datasets=("mnist",), regularisers=table1, figure1=False)
    return DenoisingSettings(
        preset=preset,
        folder=Path(folder) if folder is not None else results_dir(preset),
        configs=tuple(denoising_configs(preset)),
        clean_configs=tuple(clean),
        compute=preset == "smoke",
    )


def compute(settings: DenoisingSettings) -> int:
    """Train the missing runs of the smoke preset (larger presets are computed outside the book)."""
    if not settings.compute:
        raise ValueError(
            f"preset {settings.preset!r} is computed outside the book: {grid_command(settings.preset)}"
        )
    trained = run_grid(
        list(settings.configs), settings.folder, device="auto", show_progress=False, table=TABLE
    )
    return trained + run_grid(
        list(settings.clean_configs), settings.folder, device="auto", show_progress=False
    )


def grid_command(preset: str) -> str:
    """The shell command that trains the denoising grid of ``preset``."""
    return f"alphavae grid --experiment denoising --preset {preset}"


def load_results(settings: DenoisingSettings) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rows (and histories) of the expected runs: the denoising table plus chapter 4's sigma = 0 rows."""
    rows, histories = [], {}
    for table, configs in ((TABLE, settings.configs), ("benchmarks", settings.clean_configs)):
        csv_path, json_path = table_paths(settings.folder, table=table)
        found = read_table(csv_path)
        wanted = {key_of(c) for c in configs}
        if not found.empty:
            rows.append(found[found[KEY].isin(wanted)])
        stored = read_json(json_path, default={}) or {}
        histories.update({k: v for k, v in stored.items() if k in wanted})
    columns = ["regulariser", "noise", "seed", "test_mse", "rate", "alpha_final", KEY]
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)
    return frame[columns].sort_values(["noise", "regulariser", "seed"]).reset_index(drop=True), histories


def missing_text(settings: DenoisingSettings, rows: pd.DataFrame) -> str:
    """Which expected runs have no row yet, and the command that computes them."""
    have = set(rows[KEY])
    lost = [c for c in settings.expected if key_of(c) not in have]
    if not lost:
        return f"All {len(settings.expected)} runs of preset {settings.preset!r} are in results/{settings.preset}/."
    seeds = sorted({c.seed for c in lost})
    return (
        f"{len(lost)} of {len(settings.expected)} runs of preset {settings.preset!r} have no results yet "
        f"(seeds {', '.join(map(str, seeds))}); the figure and tables below use the rest.\n"
        f"Compute them with: {grid_command(settings.preset)}"
    )


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (noise, regulariser): test MSE mean, std and seed count, and the mean rate (nats)."""
    out = [
        (sigma, r, *mean_std(part["test_mse"]), float(part["rate"].mean()))
        for (sigma, r), part in rows.groupby(["noise", "regulariser"], sort=True)
    ]
    return pd.DataFrame(out, columns=["noise", "regulariser", "mean", "std", "n", "rate"])


def noise_table(rows: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Test MSE (mean ± std over seeds) with sigma down the side and one column per regulariser."""
    s = summary(rows)
    s["cell"] = [format_mean_std(m, sd, digits) for m, sd in zip(s["mean"], s["std"])]
    table = s.pivot(index="noise", columns="regulariser", values="cell")
    table = table[[r for r in DENOISING_REGULARISERS if r in table.columns]].fillna("missing")
    table.columns = [TEXT[r] for r in table.columns]
    table.index.name = "σ"
    return table


def mean_image_mse(settings: DenoisingSettings) -> float:
    """Test MSE of predicting the mean training image for every test image (what a rate-0 model can do).

    Scored as ``test_mse`` is: per-image sum of squared errors against the clean test images in
    [0, 1], averaged over the test images, on the same training and test subsets as the grid."""
    config = settings.configs[0]
    root = str(data_root().expanduser().resolve())  # part of the cache key: tests swap the data root
    return _mean_image_mse(config.dataset, root, config.subset, config.test_subset)


@functools.lru_cache(maxsize=8)
def _mean_image_mse(dataset: str, root: str, subset: int | None, test_subset: int | None) -> float:
    """The cached computation behind :func:`mean_image_mse`, in float64, a chunk of images at a time."""
    train = data.load_images(dataset, "train", root=root, subset=subset)
    total = torch.zeros(train.shape[1:], dtype=torch.float64)
    for start in range(0, len(train), CHUNK):
        total += train[start : start + CHUNK].to(torch.float64).sum(0)
    mean = total / (255.0 * len(train))  # float64 throughout, not data.to_float's float32
    test = data.load_images(dataset, "test", root=root, subset=test_subset)
    sse = 0.0
    for start in range(0, len(test), CHUNK):
        diff = test[start : start + CHUNK].to(torch.float64) / 255.0 - mean
        sse += float(diff.pow(2).sum())
    return sse / len(test)


def _pair(rows: pd.DataFrame, sigma: float, model: str, reference: str) -> Paired:
    """Test MSE of ``model`` minus ``reference`` at ``sigma``, seed by seed (only seeds both have)."""
    at = rows[rows["noise"] == sigma]
    a = at[at["regulariser"] == model].set_index("seed")["test_mse"]
    b = at[at["regulariser"] == reference].set_index("seed")["test_mse"]
    common = a.index.intersection(b.index)
    return paired((a[common] - b[common]).tolist())


def trainable_vs_rest(rows: pd.DataFrame, sigma: float) -> tuple[str | None, str | None, Paired]:
    """At ``sigma``: the better trainable-skew model and the best other one (by seed mean), and
    their paired difference (trainable minus other; negative means trainable skew is lower)."""
    s = summary(rows[rows["noise"] == sigma]).set_index("regulariser")["mean"]
    t = s.reindex(TRAINABLE).dropna()
    o = s.reindex(OTHERS).dropna()
    if t.empty or o.empty:
        return None, None, paired([])
    return t.idxmin(), o.idxmin(), _pair(rows, sigma, t.idxmin(), o.idxmin())


def _collapsed(part: pd.DataFrame) -> list[str]:
    """The regularisers of a summary slice whose mean rate is below :data:`COLLAPSE_NATS`."""
    return list(part.loc[part["rate"] < COLLAPSE_NATS, "regulariser"])


def ranking(rows: pd.DataFrame) -> pd.DataFrame:
    """Per noise level: the lowest mean test MSE; trainable skew against the rest, paired by seed;
    the ranks the paper's sanity checks read; and which posteriors have collapsed (mean rate, nats)."""
    s = summary(rows)
    out = []
    for sigma, part in s.groupby("noise"):
        part = part.sort_values("mean")
        best, other, diff = trainable_vs_rest(rows, sigma)
        gone = part[part["rate"] < COLLAPSE_NATS]
        out.append(
            {
                "σ": sigma,
                "lowest": TEXT[part["regulariser"].iloc[0]],
                "its test MSE": round(part["mean"].iloc[0], 1),
                "trainable − other": "-" if best is None else f"{TEXT[best]} − {TEXT[other]}",
                "paired difference": diff.text(),
                "trainable skew is": diff.word("lower", "higher"),
                "their rates (nats)": "-" if best is None else _rates(part, best, other),
                "rank of KL(q‖p)": _rank(part, "kl"),
                "rank of KL(p‖q)": _rank(part, "fwdkl"),
                "rank of MMD": _rank(part, "mmd"),
                "collapsed (rate)": ", ".join(
                    f"{TEXT[r]} ({v:.3f})" for r, v in zip(gone["regulariser"], gone["rate"])
                )
                or "-",
                "regularisers": len(part),
            }
        )
    return pd.DataFrame(out).set_index("σ")


def _rates(part: pd.DataFrame, model: str, reference: str) -> str:
    """``"6.2 vs 1.2"``: the mean rates (nats) of two regularisers in a summary slice."""
    rate = part.set_index("regulariser")["rate"]
    return f"{rate[model]:.1f} vs {rate[reference]:.1f}"


def _below_baseline(s: pd.DataFrame, baseline: float | None) -> list[float]:
    """Noise levels at which some regulariser's mean test MSE is below ``baseline`` (the mean
    training image); all levels without a baseline."""
    best = s.groupby("noise")["mean"].min()
    return [sigma for sigma, m in best.items() if baseline is None or m < baseline]


def _rank(part: pd.DataFrame, regulariser: str) -> int | str:
    """1-based place of ``regulariser`` in a slice sorted by mean test MSE ("-" if absent)."""
    names = list(part["regulariser"])
    return names.index(regulariser) + 1 if regulariser in names else "-"


def _md(text: str) -> str:
    """``text`` safe inside Markdown: the asterisk of t-JS*^Gα must not start emphasis."""
    return text.replace("*", r"\*")


def _levels(sigmas: Sequence[float]) -> str:
    """``"σ = 0.5, 1"`` or ``"none"``."""
    return "σ = " + ", ".join(f"{s:g}" for s in sigmas) if len(sigmas) else "none"


def _count(sigmas: Sequence[float]) -> str:
    """``"2 (σ = 0.5, 1)"``, or ``"none"`` for no noise level: a count with the levels it counts."""
    return f"{len(sigmas)} ({_levels(sigmas)})" if len(sigmas) else "none"


def _complete(rows: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Noise levels with all five regularisers, and those still lacking one."""
    count = rows.groupby("noise")["regulariser"].nunique()
    full = count == len(DENOISING_REGULARISERS)
    return sorted(count.index[full]), sorted(count.index[~full])


def verdict(rows: pd.DataFrame, baseline: float | None = None) -> str:
    """Is trainable skew lowest at every noise level (the paper's claim)? Counts the levels where the
    better trainable model is lowest with a resolved paired difference (the book's rule,
    :mod:`.seeds`), lowest but not resolved, and not lowest; only levels with all five regularisers
    count. With ``baseline`` (:func:`mean_image_mse`), a level where even the lowest model is no
    better than the mean training image is not counted as a win: there no model has learnt the
    digit. Each resolved level carries the two models' rates."""
    if rows.empty:
        return "No denoising results yet."
    complete, partial = _complete(rows)
    tail = f" (Not counted, as they still lack a regulariser: {_levels(partial)}.)" if partial else ""
    if not complete:
        return "No noise level has all five regularisers yet, so the claim cannot be judged." + tail
    s = summary(rows)
    useful = set(_below_baseline(s, baseline))
    resolved, unresolved, lost, one_seed, useless = [], [], [], [], []
    means = s.set_index(["noise", "regulariser"])["mean"]
    rates = s.set_index(["noise", "regulariser"])["rate"]
    for sigma in complete:
        best, other, diff = trainable_vs_rest(rows, sigma)
        if sigma not in useful:
            useless.append(sigma)
        elif means[sigma, best] >= means[sigma, other]:  # chosen by seed means, as the table's "lowest" is
            lost.append(f"σ = {sigma:g}, where {_md(TEXT[means[sigma].idxmin()])} is lowest")
        elif diff.resolved and diff.mean < 0:
            resolved.append(sigma)
        else:
            unresolved.append(sigma)
        if diff.n < 2:
            one_seed.append(sigma)
    lost_at = "; ".join(lost)
    counted = [sigma for sigma in complete if sigma not in useless]
    head = (
        f"Of the {len(complete)} noise level{'s' * (len(complete) != 1)} with all five regularisers"
        + (
            f", {len(counted)} have a model better than the mean training image; at those, trainable skew"
            if useless
            else ", trainable skew"
        )
        + f" has the lowest mean test MSE with a resolved paired difference at {_count(resolved)}, the "
        f"lowest but not resolved at {_count(unresolved)}, and not the lowest at "
        f"{f'{len(lost)} ({lost_at})' if lost else 'none'}."
    )
    if resolved:
        head += (
            " Each win with the two models' mean rates: "
            + "; ".join(
                f"σ = {sigma:g}: {_md(TEXT[b])} − {_md(TEXT[o])} {d.text()}, at {rates[sigma, b]:.1f} nats "
                f"against {rates[sigma, o]:.1f}"
                for sigma in resolved
                for b, o, d in [trainable_vs_rest(rows, sigma)]
            )
            + "."
        )
    if useless:
        head += (
            f" Not counted: {_levels(useless)}, where every model's test MSE is at or above the mean "
            f"training image's ({baseline:.1f}), whatever its rank."
        )
    caveat = (
        f" At {_levels(one_seed)} fewer than two seeds are paired so far, so there is no interval."
        if one_seed
        else ""
    )
    return head + caveat + tail


def _rank_check(
    s: pd.DataFrame, name: str, levels: Sequence[float], expect: str, baseline: float | None = None
) -> str:
    """One regulariser's rank among the five at the lowest complete noise level and at the highest
    one where it has not collapsed and some model beats the mean training image (``baseline``); the
    levels where it has collapsed are named instead of ranked, since a rank among near-constant
    outputs says nothing, and so are the levels where every model is worse than the mean image."""
    useless = [sigma for sigma in levels if sigma not in set(_below_baseline(s, baseline))]
    levels = [sigma for sigma in levels if sigma not in useless]
    if not levels:
        return f"Every model is worse than the mean training image at every level: no rank of {_md(TEXT[name])} is read."
    places = {}
    for sigma in levels:
        part = s[s["noise"] == sigma].sort_values("mean")
        rate = float(part.loc[part["regulariser"] == name, "rate"].iloc[0])
        places[sigma] = (_rank(part, name), rate)
    who = _md(TEXT[name])
    alive = [sigma for sigma in levels if places[sigma][1] >= COLLAPSE_NATS]
    dead = [sigma for sigma in levels if places[sigma][1] < COLLAPSE_NATS]
    low = levels[0]
    if low in dead:
        text = f"{who} has collapsed already at σ = {low:g} (mean rate {places[low][1]:.3f} nats)"
    elif alive[-1] == low:
        text = f"{who} ranks {places[low][0]} of 5 at σ = {low:g}"
    else:
        r0, r1 = places[low][0], places[alive[-1]][0]
        move = (
            "moves to a worse rank" if r1 > r0 else "moves to a better rank" if r1 < r0 else "keeps its rank"
        )
        where = ", the highest noise level where it has not collapsed" if dead else ""
        text = f"{who} ranks {r0} of 5 at σ = {low:g} and {r1} of 5 at σ = {alive[-1]:g}{where}: it {move}"
    if dead and low not in dead:
        text += (
            f"; it has collapsed (mean rate below {COLLAPSE_NATS:g} nats) at {_levels(dead)}, "
            f"where its rank is not read"
        )
    if useless:
        text += (
            f"; at {_levels(useless)} every model is worse than the mean training image, so no rank is read"
        )
    return f"{text}. The paper expects {expect}."


def forward_reverse_text(rows: pd.DataFrame, baseline: float | None = None) -> str:
    """The forward-against-reverse KL check, per noise level: KL(p‖q) minus KL(q‖p), paired by seed.
    The trend is read from the lowest level to the highest one where neither has collapsed and some
    model beats the mean training image (``baseline``)."""
    s = summary(rows)
    both = sorted(
        set(s.loc[s["regulariser"] == "kl", "noise"]) & set(s.loc[s["regulariser"] == "fwdkl", "noise"])
    )
    if not both:
        return "No noise level has both forward and reverse KL yet."
    parts, lower, resolved, means, ends = [], 0, 0, [], []
    useful = set(_below_baseline(s, baseline))
    for sigma in both:
        diff = _pair(rows, sigma, "fwdkl", "kl")
        gone = _collapsed(s[(s["noise"] == sigma) & s["regulariser"].isin(["kl", "fwdkl"])])
        note = f", {' and '.join(TEXT[r] for r in gone)} collapsed" if gone else ""
        parts.append(f"σ = {sigma:g}: {diff.text()}{note}")
        lower += int(diff.mean < 0)
        resolved += int(diff.resolved and diff.mean < 0)
        means.append(diff.mean)
        if not gone and sigma in useful:
            ends.append((sigma, diff))
    text = (
        f"Test MSE of KL(p‖q) minus KL(q‖p), paired by seed: {'; '.join(parts)}. Forward KL has the lower "
        f"mean at {lower} of {len(both)} noise levels ({resolved} resolved)."
    )
    if len(ends) > 1:
        (s0, d0), (s1, d1) = ends[0], ends[-1]
        gains = d1.mean < d0.mean
        cut = (
            " (the highest level where neither has collapsed and some model beats the mean training image)"
            if s1 != both[-1]
            else ""
        )
        text += (
            f" From σ = {s0:g} to σ = {s1:g}{cut} the difference goes from {d0.mean:+.2f} to "
            f"{d1.text()}, {d1.word()}: forward KL {'gains' if gains else 'does not gain'} on reverse KL as σ grows"
            f"{', as the paper expects' if gains else ', against the paper’s expectation'}."
        )
    return text


def collapse_text(rows: pd.DataFrame, baseline: float | None = None) -> str:
    """Which (noise level, regulariser) cells have collapsed, with their test MSE beside the
    mean-image baseline a rate-0 model can reach."""
    s = summary(rows)
    gone = s[s["rate"] < COLLAPSE_NATS]
    if gone.empty:
        return f"No posterior has collapsed: every mean rate is at least {COLLAPSE_NATS:g} nats."
    cells = "; ".join(
        f"{_md(TEXT[r])} at σ = {sigma:g} (rate {q:.3f} nats, test MSE {m:.1f})"
        for sigma, r, q, m in zip(gone["noise"], gone["regulariser"], gone["rate"], gone["mean"])
    )
    text = (
        f"Collapsed posteriors (mean rate below {COLLAPSE_NATS:g} nats): {cells}. Such an encoder passes "
        f"almost nothing about the input to the decoder, which then draws about the same image for every input"
    )
    if baseline is not None:
        text += f"; predicting the mean training image scores {baseline:.1f}, so these errors measure how near the decoder comes to that image"
    text += ", not how robust a representation is to noise."
    if baseline is not None:  # levels where even the best model does no better than transmitting nothing
        best = s.groupby("noise")["mean"].min()
        none = [sigma for sigma, m in best.items() if m >= baseline]
        if none:
            text += (
                f" At {_levels(none)} no regulariser beats the mean training image: after this training, "
                f"no model recovers anything of the digit that the mean image lacks."
            )
    return text


def sanity_text(rows: pd.DataFrame, baseline: float | None = None) -> str:
    """The paper's sanity checks as Markdown paragraphs: reverse KL at high noise, forward against
    reverse KL per noise level, MMD at high noise; and which posteriors have collapsed."""
    complete, _ = _complete(rows)
    s = summary(rows)
    if len(complete) < 2:
        ranks = ["Too few noise levels with all five regularisers yet to compare ranks."] * 2
    else:
        ranks = [
            _rank_check(s, "kl", complete, "the reverse KL to move to a worse rank as noise grows", baseline),
            _rank_check(s, "mmd", complete, "MMD to hold up at high noise", baseline),
        ]
    return "\n\n".join(
        [
            f"**Reverse KL at high noise.** {ranks[0]}",
            f"**Forward against reverse KL.** {forward_reverse_text(rows, baseline)}",
            f"**MMD at high noise.** {ranks[1]} {MMD_CAVEAT}",
            f"**Collapse.** {collapse_text(rows, baseline)}",
        ]
    )


def verdict_text(rows: pd.DataFrame, baseline: float | None = None) -> str:
    """The verdict and the sanity checks, as Markdown paragraphs separated by blank lines."""
    return verdict(rows, baseline) + "\n\n" + sanity_text(rows, baseline)


MMD_CAVEAT = (
    "As in chapter 4's Table 1, this book's MMD compares sampled codes with samples of the prior, as "
    "InfoVAE defines it, while the paper's released code takes it between the posterior's moments "
    "(μ, log σ²) and a standard normal: the check is of InfoVAE's MMD, not of the regulariser behind "
    "the paper's curve."
)


def claims_table(rows: pd.DataFrame, baseline: float | None = None) -> pd.DataFrame:
    """The paper's Figure 5 claims, each answered yes or no from the rows, with the reason."""
    s = summary(rows)
    complete, _ = _complete(rows)
    useful = [sigma for sigma in complete if sigma in set(_below_baseline(s, baseline))]
    wins = {sigma: trainable_vs_rest(rows, sigma) for sigma in complete}
    resolved = [sg for sg in useful if wins[sg][2].resolved and wins[sg][2].mean < 0]
    lowest = all(wins[sg][2].mean < 0 for sg in complete) and bool(complete)
    out = [
        (
            "trainable skew gives the lowest test error at every noise level",
            'yes, "consistently"',
            f"{'yes' if len(resolved) == len(complete) else 'no'}: lowest with a resolved paired "
            f"difference at {_count(resolved)} of {len(complete)} levels"
            + ("" if lowest else "; not lowest at some level")
            + (
                f"; at {_levels([sg for sg in complete if sg not in useful])} every model is worse than "
                f"the mean training image"
                if len(useful) < len(complete)
                else ""
            ),
        )
    ]
    for name, claim in (("kl", "reverse KL performs poorly at higher noise levels"),
                        ("mmd", "MMD is robust at high noise")):  # fmt: skip
        text = _rank_check(s, name, complete, "", baseline).split(". The paper expects")[0]
        if "moves to a worse rank" in text:
            answer = "yes" if name == "kl" else "no"
        elif "has collapsed" in text and name == "mmd":
            answer = "no"
        else:
            answer = "no" if name == "kl" else "yes"
        out.append((claim, "yes", f"{answer}: {text}"))
    fr = forward_reverse_text(rows, baseline)
    gains = "forward KL gains" in fr
    out.append(
        (
            "forward KL becomes more appropriate at higher noise",
            "yes",
            f"{'yes' if gains else 'no'}: {'from ' + fr.split(' From ')[-1] if ' From ' in fr else fr}",
        )
    )
    return pd.DataFrame(out, columns=["claim", "the paper (Figure 5)", "this book"]).set_index("claim")


def claims_markdown(rows: pd.DataFrame, baseline: float | None = None) -> str:
    """:func:`claims_table` as a Markdown table, every cell whole (``|`` escaped)."""
    table = claims_table(rows, baseline)
    lines = ["| claim | the paper (Figure 5) | this book |", "| --- | --- | --- |"]
    for claim, row in table.iterrows():
        cells = [claim, *row.tolist()]
        lines.append("| " + " | ".join(_md(str(c)).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def rate_answer(rows: pd.DataFrame) -> pd.DataFrame:
    """Exercise ex-denoising-rate: mean rate (nats) per noise level of the VAE and the two α-VAEs,
    and whether each α-VAE spends more than the VAE."""
    rates = rows.pivot_table(index="noise", columns="regulariser", values="rate")
    out = pd.DataFrame({TEXT[r]: rates[r].round(2) for r in ("kl", *TRAINABLE)})
    for r in TRAINABLE:
        out[f"{TEXT[r]} > {TEXT['kl']}"] = rates[r] > rates["kl"]
    out.index.name = "σ"
    return out


def plot_noise_curves(rows: pd.DataFrame, baseline: float | None = None, ax=None) -> plt.Figure:
    """Test MSE against sigma, one line per regulariser (the paper's Figure 5). Error bars are one
    seed std, drawn only where there are two or more seeds; the legend gives the seed count, and
    ``baseline`` (see :func:`mean_image_mse`) is drawn as a grey dashed line."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8))
    s = summary(rows)
    for r in DENOISING_REGULARISERS:
        part = s[s["regulariser"] == r]
        if part.empty:
            continue
        lo, hi = int(part["n"].min()), int(part["n"].max())
        seeds = f"n = {lo}" if lo == hi else f"n = {lo}–{hi}"
        dashed = "--" if r in ("kl", "fwdkl") else "-"
        ax.plot(
            part["noise"],
            part["mean"],
            color=colour(r),
            ls=dashed,
            marker="o",
            ms=4,
            label=f"{label(r)}, {seeds}",
        )
        spread = part[part["n"] > 1]  # one seed has no spread: a zero-width bar would claim one
        if not spread.empty:
            ax.errorbar(
                spread["noise"], spread["mean"], yerr=spread["std"], color=colour(r), ls="none", capsize=3
            )
    if baseline is not None:
        ax.axhline(baseline, color="0.55", ls="--", lw=1, label="mean training image (rate 0)")
    ax.set_xlabel("input noise σ")
    ax.set_ylabel("test MSE vs clean image\n(squared error per image)")
    ax.legend(fontsize="small", ncols=2)
    return ax.figure


def noisy_inputs(settings: DenoisingSettings, sigma: float, n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` clean test images and the noisy versions every model was scored on (fixed noise)."""
    config = next(c for c in settings.configs if c.noise == sigma)
    full = data.load_images("mnist", "test", subset=config.test_subset)
    noise = data.fixed_test_noise(tuple(full.shape), sigma, seed=0)[:n]  # the trainer's draw, then cut
    clean = data.to_float(full[:n])
    return clean, (clean + noise).clamp(0.0, 1.0)


def plot_examples(
    settings: DenoisingSettings,
    rows: pd.DataFrame,
    histories: Mapping[str, Any],
    sigmas: Sequence[float] | None = None,
    regularisers: Sequence[str] = ("kl", "tdgjs"),
    seed: int = 0,
) -> plt.Figure:
    """Noisy input, reconstructions and the clean image for a few test digits at each ``sigma``
    (by default the lowest and the highest noise level above 0 in ``settings``)."""
    if sigmas is None:
        levels = sorted({c.noise for c in settings.configs if c.noise > 0})
        sigmas = (levels[0], levels[-1])
    fig, axes = plt.subplots(1, len(sigmas), figsize=(4.2 * len(sigmas), 3.2), squeeze=False)
    for ax, sigma in zip(axes[0], sigmas):
        clean, noisy = noisy_inputs(settings, sigma)
        strips, names = [noisy], ["noisy input"]
        for r in regularisers:
            run = rows[(rows["noise"] == sigma) & (rows["regulariser"] == r) & (rows["seed"] == seed)]
            hist = histories.get(run[KEY].iloc[0]) if len(run) else None
            if hist and "reconstructions" in hist:
                strips.append(decode_images(hist["reconstructions"])[: len(clean)])
                names.append(TEXT[r])
        strips.append(clean)
        names.append("clean image")
        ax.imshow(montage(strips), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        h = clean.shape[-2]
        ax.set_yticks([h * (i + 0.5) for i in range(len(names))], names, fontsize="small")
        ax.set_xticks([])
        ax.grid(False)
        ax.set_title(f"σ = {sigma:g}", fontsize="medium")
    return fig


def rate_answer_text(rows: pd.DataFrame) -> str:
    """Exercise ex-denoising-rate's answer in words, from :func:`rate_answer`: at which noise levels
    each α-VAE spends more nats than the VAE, and how each rate moves as sigma grows."""
    rates = rows.pivot_table(index="noise", columns="regulariser", values="rate")
    lines = []
    for r in TRAINABLE:
        more = [sigma for sigma in rates.index if rates.loc[sigma, r] > rates.loc[sigma, "kl"]]
        where = "every noise level" if len(more) == len(rates) else _levels(more)
        lines.append(f"{TEXT[r]} spends more nats than {TEXT['kl']} at {where}")
    moves = []
    for r in ("kl", *TRAINABLE):
        col = rates[r]
        falls = bool((col.diff().dropna() < 0).all())
        moves.append(
            f"{TEXT[r]}'s from {col.iloc[0]:.2f} to {col.iloc[-1]:.2f} nats"
            f"{' (falling at every step)' if falls else ' (not at every step)'}"
        )
    return (
        "; ".join(lines)
        + f". From σ = {rates.index[0]:g} to σ = {rates.index[-1]:g} the rates fall: "
        + ", ".join(moves)
        + "."
    )
