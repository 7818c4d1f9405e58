"""The book's exercises that have a computable answer, as graded assignment questions.

Each solution is a function here whose body is the code the book's solution cell shows
(``tests/test_course.py`` holds the two to the same lines). The assignment's instructor notebook
carries that body as its solution, and its hidden test calls :func:`check`, which runs the same
function: the book, the solutions and the tests cannot disagree.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import torch

from alphavae_core import divergences as dv
from alphavae_core.errors import UserError


def bhattacharyya_solution(mu, logvar):
    var, var_bar = logvar.exp(), (logvar.exp() + 1) / 2  # p = N(0, I)
    bhattacharyya = (mu**2 / (8 * var_bar) + 0.5 * torch.log(var_bar / var.sqrt())).sum()
    return bhattacharyya


def swap_solution(mu, logvar, mu2, logvar2, dual):
    swapped = dv.gjs_normal(mu2, logvar2, 0.7, dual, mu_prior=mu, logvar_prior=logvar)
    return swapped


def bubeck_solution(q_b):
    from alphavae_core.chapters import skew_optimisation as skew

    grid = torch.linspace(0, 1, 2001, dtype=torch.float64)
    curv = skew.curvature(*q_b, grid)
    lam_e, beta_e = float(curv.min()), float(curv.max())
    return lam_e, beta_e


def mixture_start_solution(p, settings, a0):
    from alphavae_core.chapters.synthetic_mixtures import fit_gaussian, fit_options

    f = fit_gaussian(p, "dual", seed=0, **{**fit_options(settings), "alpha0": a0})
    return f.alpha_final


def _double(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _mixture_inputs() -> dict:
    from alphavae_core.chapters import synthetic_mixtures as mixture_fit
    from alphavae_core.experiments.presets import select

    return {
        "p": mixture_fit.make_mixture(5, 2, seed=0),
        "settings": select(mixture_fit.SETTINGS, "cpu"),
        "a0": 0.1,
    }


@dataclass(frozen=True)
class Exercise:
    """One graded question: the book's exercise ``label``, what the student sets, and how it is checked."""

    label: str
    chapter: str
    prompt: str
    setup: str  # code the student is given (imports and inputs), run before the answer cell
    solution: Callable
    inputs: Callable[[], dict]  # the same inputs as ``setup``, built by the library
    answer: str  # the names the student's cell must set, e.g. "lam_e, beta_e"
    public: str  # the public check (an assertion on the answer's form, not its value)
    tolerance: float  # relative
    points: int = 1

    @property
    def name(self) -> str:
        return self.label.removeprefix("ex-").replace("-", "_")

    def solution_lines(self) -> list[str]:
        """The solution's body, without its return: the lines the book's solution cell shows."""
        body = inspect.getsource(self.solution).split(":\n", 1)[1]
        lines = textwrap.dedent(body).splitlines()
        return [line for line in lines if line.strip() and not line.startswith(("return ", "from "))]

    def solution_imports(self) -> list[str]:
        body = textwrap.dedent(inspect.getsource(self.solution).split(":\n", 1)[1])
        return [line for line in body.splitlines() if line.startswith("from ")]

    def reference(self):
        return self.solution(**self.inputs())


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "ex-div-bhattacharyya",
        "01_divergences",
        "The dual at α = 1/2 is the Bhattacharyya distance. For p = N(0, I) and the diagonal q below, "
        "compute it from the Gaussian formula ⅛ Δᵀ Σ̄⁻¹ Δ + ½ log(det Σ̄ / √(det Σ_q det Σ_p)) with "
        "Σ̄ = (Σ_q + Σ_p)/2, without calling `dv.gjs_normal`, and store it (nats) in `bhattacharyya`.",
        "import torch\n\nmu = torch.tensor([1.0, -0.5], dtype=torch.float64)\n"
        "logvar = torch.tensor([-1.0, 0.5], dtype=torch.float64)",
        bhattacharyya_solution,
        lambda: {"mu": _double([1.0, -0.5]), "logvar": _double([-1.0, 0.5])},
        "bhattacharyya",
        "assert float(bhattacharyya) > 0, 'a distance between different Gaussians is positive'",
        1e-6,
    ),
    Exercise(
        "ex-div-swap",
        "01_divergences",
        "Swapping q and p flips the skew. With `dv.gjs_normal`, compute the primal divergence at "
        "skew 0.7 with q and p swapped (`mu2, logvar2` as the posterior, `mu, logvar` as the prior) "
        "and store it in `swapped`.",
        "import torch\n\nfrom alphavae_core import divergences as dv\n\n"
        "mu = torch.tensor([1.0, -0.5], dtype=torch.float64)\n"
        "logvar = torch.tensor([-1.0, 0.5], dtype=torch.float64)\n"
        "mu2 = torch.tensor([0.3, 2.0], dtype=torch.float64)\n"
        "logvar2 = torch.tensor([0.4, -0.2], dtype=torch.float64)\n"
        "dual = False  # the primal",
        swap_solution,
        lambda: {
            "mu": _double([1.0, -0.5]),
            "logvar": _double([-1.0, 0.5]),
            "mu2": _double([0.3, 2.0]),
            "logvar2": _double([0.4, -0.2]),
            "dual": False,
        },
        "swapped",
        "assert float(swapped) >= 0, 'a divergence is never negative'",
        1e-6,
    ),
    Exercise(
        "ex-skew-bubeck",
        "02_skew_optimisation",
        "Give Bubeck's theorem its constants: on a grid of 2001 skews in [0, 1], find the smallest "
        "and largest exact second derivative of the primal for q = N(3, e^−6) (`skew.curvature`), "
        "and store them in `lam_e` and `beta_e` (floats).",
        "import torch\n\nfrom alphavae_core.chapters import skew_optimisation as skew\n\n"
        "q_b = (torch.tensor([3.0]), torch.tensor([-6.0]))  # N(3, e^-6)",
        bubeck_solution,
        lambda: {"q_b": (torch.tensor([3.0]), torch.tensor([-6.0]))},
        "lam_e, beta_e",
        "assert 0 < lam_e < beta_e, 'the smallest curvature is positive and below the largest'",
        1e-6,
    ),
    Exercise(
        "ex-mix-start",
        "03_synthetic_mixtures",
        "Fit the dual objective to the 5-component mixture `p` with the skew starting at "
        "α₀ = 0.1 (`fit_gaussian` with `fit_options(settings)`, seed 0) and store the learnt skew in "
        "`learnt`. This trains for a minute or less.",
        "from alphavae_core.chapters import synthetic_mixtures as mixture_fit\n"
        "from alphavae_core.chapters.synthetic_mixtures import fit_gaussian, fit_options, make_mixture\n"
        "from alphavae_core.experiments.presets import select\n\n"
        'p = make_mixture(5, 2, seed=0)\nsettings = select(mixture_fit.SETTINGS, "cpu")\na0 = 0.1',
        mixture_start_solution,
        _mixture_inputs,
        "learnt",
        "assert 0 <= learnt <= 1, 'a skew lies in [0, 1]'",
        0.03,
    ),
)
BY_LABEL = {e.label: e for e in EXERCISES}


def chapters() -> list[str]:
    """The chapters that have graded exercises, in order."""
    return sorted({e.chapter for e in EXERCISES})


def _flat(value) -> list[float]:
    if isinstance(value, tuple | list):
        return [float(v) for v in value]
    return [float(value)]


def check(label: str, answer) -> None:
    """Raise ``AssertionError`` (saying what was expected) unless ``answer`` matches the solution."""
    if label not in BY_LABEL:
        raise UserError(f"no graded exercise {label!r}; known: {', '.join(BY_LABEL)}")
    ex = BY_LABEL[label]
    got, want = _flat(answer), _flat(ex.reference())
    if len(got) != len(want):
        raise AssertionError(f"{ex.answer}: expected {len(want)} value(s), got {len(got)}")
    for g, w in zip(got, want):
        if not math.isclose(g, w, rel_tol=ex.tolerance, abs_tol=1e-12):
            raise AssertionError(f"{ex.answer} = {got} is not the expected value (within {ex.tolerance:.0e})")
