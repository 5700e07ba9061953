"""Invariants of Markdown -> storage over inputs nobody wrote by hand."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdsync import markdown_to_storage
from mdsync.convert import convert_markdown
from mdsync.convert.to_storage import first_heading, parsed_first_heading
from mdsync.storage.xhtml import parse_storage

# Pieces of every construct the converter handles, and of the HTML READMEs contain.
PIECES = [
    "# ", "## ", "###### ", "\n", "\n\n", "  \n", "text ", "*", "**", "_", "~~", "~", "`", "``", "\\", "[", "]",
    "(", ")", "<", ">", "!", "|", "-", "+", "1. ", "3) ", "- [ ] ", "- [x] ", "> ", "> [!NOTE]\n> ",
    "> [!IMPORTANT]\n> ", "```python\n", "```\n", "~~~\n", "    ", "\t", "---\n", "***", "[TOC]", "[^1]", "[^1]: ",
    '!!! note "T"\n    ', "| a | b |\n|:-|-:|\n| 1 | 2 |\n", "![alt](img.png)", "![x](<a b.png>){width=9}",
    "[l](other.md#sec)", "[l](#sec)", "[l](../up.md)", "[l](https://example.com)", "https://example.com ",
    "www.example.com ", "a@b.org ", "<img src=x.png>", "<p align=center>", "</p>", "<details>", "<summary>s",
    "</summary>", "</details>", "<br>", "<sub>", "</sub>", "<kbd>", "</kbd>", "<mark>", "</mark>", "<a href=x>",
    "</a>", "<!-- c -->", "<script>", "</script>", "<div align=center>", "</div>", "<table>", "<tr>", "<td>",
    "</td>", "</tr>", "</table>", "&nbsp;", "&copy;", "&#0;", "&#x1F600;", "&bogus;", "]]>", "<![CDATA[",
    "\x00", "\x0b", "\ud800", "\ufffe", "é", "漢字", "😀", "\u202e", "{", "}", ":", '"', "'",
]


def _well_formed(storage: str) -> None:
    parse_storage(storage)  # raises on anything Confluence would reject


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_arbitrary_text_gives_well_formed_storage(text: str) -> None:
    _well_formed(markdown_to_storage(text))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_random_combinations_of_constructs_give_well_formed_storage(text: str) -> None:
    first = markdown_to_storage(text)
    _well_formed(first)
    assert markdown_to_storage(text) == first  # deterministic


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join), st.sampled_from(["a.md", "x/y/z.md", None]))
def test_convert_markdown_never_raises_on_a_body_without_front_matter(text: str, path: str | None) -> None:
    converted = convert_markdown("\n" + text, path=path)
    _well_formed(converted.storage)
    assert converted.title
    for ref in converted.attachments:
        assert not ref.path.startswith("../") and "/" not in ref.filename


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80))
def test_words_are_never_lost(word: str) -> None:
    # Text that is not Markdown syntax survives into the storage.
    plain = "".join(ch for ch in word if ch.isalnum())
    if plain:
        assert plain in markdown_to_storage(plain)


_INLINE_SYNTAX = ["*em*", "**b**", "_u_", "`c`", "~~s~~", "~s~", "[l](x.md)", "![i](p.png)", "&amp;", "&#35;", "<b>",
                  "\\#", "\\*", "{#id}", "{.cls}", "www.example.com", "WWW.example.com", "http://x.org", "a@b.co",
                  "[^1]", "<https://x.org>", "[l]", "#", " #", " ##  ", "$x$", "\u00a0"]
_HEADING_TEXT = st.lists(st.sampled_from(list("ab Z9 .-#\t:@/()'\"\\`*_[]!<>&~{}$^=+%|\u00a0é") + ["Word"] + _INLINE_SYNTAX),
                         max_size=8).map("".join)


@pytest.mark.parametrize("syntax", _INLINE_SYNTAX)
@pytest.mark.parametrize("template", ["# {}\n", "# Title {}\n\nText.\n", "  # {} end", "# a {}\n[l]: /x\n",
                                      "# A | {}\n--- | ---\n", "# Title {} |\n--\n"])
def test_an_opening_heading_with_inline_syntax_is_read_as_the_parser_reads_it(template: str, syntax: str) -> None:
    markdown = template.format(syntax)
    assert first_heading(markdown) == parsed_first_heading(markdown)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(["", "\n", " \n\t\n"]), st.sampled_from(["", " ", "   ", "    ", "\t"]),
       st.sampled_from(["#", "##", "#\t", "# ", "#  "]), _HEADING_TEXT, st.sampled_from(["", " #", " ##  ", "#"]),
       st.sampled_from(["", "\n", "\nText.\n", "\n[ref]: /x\n", "\n=====\n", "\r\nMore\n", "\n--- | ---\n", "\n--\n"]))
def test_the_opening_heading_is_read_as_the_parser_reads_it(blank: str, indent: str, marker: str, text: str,
                                                            closing: str, rest: str) -> None:
    markdown = f"{blank}{indent}{marker}{text}{closing}{rest}"
    assert first_heading(markdown) == parsed_first_heading(markdown)
