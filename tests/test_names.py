"""Each regulariser has one name per form (text, HTML, Markdown), and the forms agree."""

import html
import re

import pytest

from alphavae_core import plotting


def test_every_palette_entry_has_a_name_in_every_form():
    for form in ("text", "html", "markdown"):
        assert {key: plotting.name(key, form) for key in plotting.PALETTE}


def test_html_name_reads_as_the_text_name_once_tags_are_dropped():
    # The typeset form must say the same thing: tags only raise and lower characters.
    for key, text in plotting.TEXT_NAMES.items():
        plain = html.unescape(re.sub(r"<[^>]+>", "", plotting.HTML_NAMES[key]))
        assert plain.replace("*", "") == text.replace("^", "").replace("*", "")


def test_unknown_key_or_form_is_one_clear_error():
    with pytest.raises(ValueError, match="no name for 'kll'"):
        plotting.name("kll")
    with pytest.raises(ValueError, match="form must be text, html or markdown"):
        plotting.name("kl", "latex")
