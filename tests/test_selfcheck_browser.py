"""The self-checks in headless Chromium: on every page that has them, one question answered right
and one wrong (a number and a choice), and what the page says back. Expected answers come from the
library (``alphavae_core.course.questions``), not from the page."""

from __future__ import annotations

import pytest
from browser_helpers import HTML, open_page, read_text, require_chromium

from alphavae_core.course import questions
from alphavae_core.course.selfcheck import Choice, Number
from alphavae_core.plotting import TEXT_NAMES

require_chromium()
pytestmark = pytest.mark.browser

PAGES: list[str] = []
for chapter in sorted(questions.BUILDERS):
    page = HTML / "book" / f"{chapter}.html"
    if page.is_file() and f'id="selfcheck-{chapter}"' in page.read_text(errors="replace"):
        PAGES.append(chapter)


def _shown(text: str) -> str:
    """What a browser shows of plain ``text`` once its names are typeset: "t-JS*^Gα" reads "t-JS*Gα"."""
    return text.replace("^", "")


def _answer(page, ident: str, q, right: bool) -> str:
    block = f"#{ident}"
    if isinstance(q, Number):
        value = q.answer if right else q.answer + 10 * q.tolerance + 1
        page.fill(f"{block} input.avx-number", f"{value:.10g}".replace("-", "−"))
    else:
        pick = q.answer if right else (q.answer + 1) % len(q.options)
        page.check(f'{block} input[type=radio][value="{pick}"]')
    page.click(f"{block} button.avx-check")
    return read_text(page, f"{block} .avx-feedback")


def test_some_page_has_self_checks() -> None:
    assert PAGES, "no page of _build/html carries a self-check (run `make html`)"


@pytest.mark.parametrize("chapter", PAGES)
def test_self_check_answers_right_and_wrong(browser, book_url, chapter: str) -> None:
    qs = questions.questions(chapter, **questions.reference_inputs(chapter, "cpu"))
    with open_page(browser, book_url + f"book/{chapter}.html") as (page, watch):
        assert page.locator(f"#selfcheck-{chapter} .avx-quiz").count() == len(qs)
        for kind in (Number, Choice):
            i, q = next(((i, q) for i, q in enumerate(qs) if isinstance(q, kind)), (None, None))
            if q is None:
                continue
            ident = f"selfcheck-{chapter}-q{i + 1}"
            wrong = _answer(page, ident, q, right=False)
            assert wrong.startswith("Not quite"), wrong
            right = _answer(page, ident, q, right=True)
            assert right.startswith("Right") and _shown(q.answer_text) in right, right
            cls = page.get_attribute(f"#{ident} .avx-feedback", "class")
            assert "avx-right" in cls
        page.click(f"#selfcheck-{chapter}-q1 button.avx-show")
        assert _shown(qs[0].answer_text) in read_text(page, f"#selfcheck-{chapter}-q1 .avx-feedback")
        # names are typeset as everywhere else in the book: no plain "t-JS*^Gα" in a question
        shown = read_text(page, f"#selfcheck-{chapter}")
        assert not [n for n in TEXT_NAMES.values() if "^" in n and n in shown], shown
    watch.check()
