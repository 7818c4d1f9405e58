"""Kernel-free self-checks: short questions a reader answers and checks in the static page.

A question is multiple choice (:class:`Choice`) or a number with a tolerance (:class:`Number`).
:func:`selfcheck_html` renders a chapter's questions as one self-contained block (markup, style and
``selfcheck.js``, nothing fetched), the same bytes on every call, so strict nbval compares it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alphavae_core.chapters.benchmarks.names import typeset
from alphavae_core.plotting import kernel_free_html

SCRIPT = Path(__file__).with_name("selfcheck.js")

_CSS = """
.avx-selfcheck{border:1px solid #d0d7de;border-radius:6px;padding:.4em 1em .6em;max-width:46em}
.avx-selfcheck .avx-sc-title{font-weight:600;margin:.3em 0}
.avx-quiz{margin:.6em 0 .9em}
.avx-quiz p.avx-q{margin:.2em 0 .35em}
.avx-quiz label.avx-opt{display:block;margin:.1em 0 .1em 1em;cursor:pointer}
.avx-quiz input.avx-number{width:9em;font:inherit;padding:.1em .3em}
.avx-quiz button{font:inherit;padding:.1em .8em;margin:.2em .4em 0 0;cursor:pointer}
.avx-quiz .avx-feedback{margin:.3em 0 0;min-height:1.2em}
.avx-quiz .avx-feedback.avx-right{color:#1a7f37}
.avx-quiz .avx-feedback.avx-wrong{color:#b42318}
"""


@dataclass(frozen=True)
class Choice:
    """A multiple-choice question; ``answer`` is the index of the right option."""

    prompt: str
    options: tuple[str, ...]
    answer: int
    explain: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer {self.answer} is not an index of the {len(self.options)} options")

    @property
    def answer_text(self) -> str:
        return self.options[self.answer]


@dataclass(frozen=True)
class Number:
    """A question whose answer is a number; a reply within ``tolerance`` (absolute) is right."""

    prompt: str
    answer: float
    tolerance: float
    unit: str = ""
    digits: int = 3
    explain: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.answer) or not self.tolerance > 0:
            raise ValueError(f"a Number needs a finite answer and a positive tolerance: {self}")

    @property
    def answer_text(self) -> str:
        return f"{self.answer:.{self.digits}f}" + (f" {self.unit}" if self.unit else "")

    def accepts(self, value: float) -> bool:
        return abs(value - self.answer) <= self.tolerance


Question = Choice | Number


def choice_of(options: Sequence[str], values: Sequence[float], target: float) -> int:
    """The index of the option whose computed value is closest to ``target`` (for computed answers)."""
    return min(range(len(options)), key=lambda i: abs(values[i] - target))


def _question_html(root_id: str, i: int, q: Question) -> str:
    ident = f"{root_id}-q{i + 1}"
    prompt = f'<p class="avx-q"><b>{i + 1}.</b> {typeset(q.prompt)}</p>'
    if isinstance(q, Choice):
        inputs = "".join(
            f'<label class="avx-opt"><input type="radio" name="{ident}" value="{k}"> {typeset(o)}</label>'
            for k, o in enumerate(q.options)
        )
        kind = "choice"
    else:
        unit = f" {typeset(q.unit)}" if q.unit else ""
        inputs = (
            f'<input class="avx-number" type="text" inputmode="decimal" autocomplete="off" '
            f'aria-label="your answer to question {i + 1}">{unit}'
        )
        kind = "number"
    return (
        f'<div class="avx-quiz" id="{ident}" data-kind="{kind}">{prompt}{inputs}<br>'
        f'<button type="button" class="avx-check">Check</button>'
        f'<button type="button" class="avx-show">Show answer</button>'
        f'<p class="avx-feedback" role="status" aria-live="polite"></p></div>'
    )


def _config(q: Question) -> dict:
    # answer and explanation as HTML (names typeset, everything else escaped): the script shows them as such
    shown = {"text": typeset(q.answer_text), "explain": typeset(q.explain)}
    if isinstance(q, Choice):
        return {"kind": "choice", "answer": q.answer, **shown}
    return {
        "kind": "number",
        "answer": round(q.answer, 6),  # far below any tolerance: the same on every CPU
        "tolerance": q.tolerance,
        **shown,
    }


def selfcheck_html(
    chapter: str, questions: Sequence[Question], title: str = "Check your understanding"
) -> str:
    """The questions as one kernel-free block with id ``selfcheck-<chapter>``."""
    if not questions:
        raise ValueError(f"no self-check questions for {chapter!r}")
    root_id = f"selfcheck-{chapter}"
    body = (
        f"<style>{_CSS.strip()}</style>\n"
        f'<div class="avx-selfcheck"><p class="avx-sc-title">{html.escape(title)}</p>\n'
        + "\n".join(_question_html(root_id, i, q) for i, q in enumerate(questions))
        + "\n</div>"
    )
    config = {"questions": [_config(q) for q in questions]}
    return kernel_free_html(root_id, body, [SCRIPT], "mountSelfCheck", config)
