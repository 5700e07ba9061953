"""Pathological inputs cost work in proportion to their size (issue 14, item 10).

Counted, never timed: lines of Python run (loop iterations included) grow fourfold with a
fourfold input when the work is linear, sixteenfold when it is quadratic. Where the cost
was in C (copies, regular expressions), what holds the fix is that mdsync's rules give the
libraries' tokens exactly (compared on random text) while doing without the copies; the
timings are in benchmarks/pathological_inputs.py.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from mdsync import markdown_to_storage, storage_to_markdown
from mdsync.convert import inline, rawhtml
from mdsync.convert.markdown_parser import _build_parser, make_parser
from mdsync.convert.to_storage import Converter
from tests.support.counting import lines_run


def lines_run_on(function: Callable[[str], Any], text: str) -> int:
    return lines_run(lambda: function(text))[0]


# name: (what converts, the input at a size, the smaller size); each was quadratic before.
GROWING: dict[str, tuple[Callable[[str], Any], Callable[[int], str], int]] = {
    "footnote references": (markdown_to_storage, lambda n: "[^x]: A note.\n\n" + "[^" * (n // 2), 1_000),
    "nested emphasis": (markdown_to_storage, lambda n: "*a " * (n // 6) + "a* " * (n // 6), 2_000),
    "nested HTML": (markdown_to_storage, lambda n: "<div>\n" + "<div><span>" * (n // 24) + "x"
                    + "</span></div>" * (n // 24) + "\n</div>\n", 2_000),
    "a wide storage table": (storage_to_markdown, lambda n: "<table><tbody><tr>" + "<td><p>a</p></td>" * (n // 17)
                             + "</tr></tbody></table>", 4_000),
    "many marks in storage": (storage_to_markdown, lambda n: "<p>" + "<strong>a</strong> " * (n // 19) + "</p>",
                              2_000),
}


@pytest.mark.parametrize("name", list(GROWING))
def test_work_grows_linearly_with_a_pathological_input(name: str) -> None:
    # Before the fixes these ratios were 6 to 10 at these sizes (16 in the limit); now about 4.
    function, make, size = GROWING[name]
    smaller, larger = lines_run_on(function, make(size)), lines_run_on(function, make(4 * size))
    assert larger <= 4.6 * smaller, f"{name}: {smaller} lines for {size:,} characters, {larger} for {4 * size:,}"


@pytest.mark.parametrize("text", ["[" * 2_000, "[" * 1_999 + "]", "![" * 1_000, "^[" * 1_000, "[a" * 1_000],
                         ids=["[", "[ then ]", "![", "^[", "[a"])
def test_a_bracket_costs_no_more_than_other_punctuation(text: str) -> None:
    # markdown-it walks a link label from every "[": linear, but about 2,000 lines a
    # character (2 minutes for a megabyte); any other punctuation costs about 150.
    baseline = lines_run_on(markdown_to_storage, "&" * len(text))
    assert lines_run_on(markdown_to_storage, text) <= 1.5 * baseline


# -- the same tokens as the libraries ----------------------------------------------------------

PIECES = ["http://", "https://", "www.", "mailto:", "xmpp:", "a@b.c", "x.y", "[^x]", "[^x]: note\n\n",
          "[r]: /u\n\n", "^[", "](", "[x]", "`c`", "{#i .c k=v}", "{k=\"v\"}", "{%", "%", "&amp;", "![", "<a>",
          "a_b", ")", "(", ";", "<", "\n\n", "\n", "  ", "**", "_", "~", "[", "]", "!", ":", "/", "@", "w"]


def random_markdown(rng: random.Random) -> str:
    text = "".join(rng.choice(PIECES) if rng.random() < 0.6 else rng.choice("ab .-") for _ in range(rng.randint(1, 40)))
    if rng.random() < 0.08:
        # Deeper than markdown-it's nesting limit, where its label walks are cut short.
        text = rng.choice(["[", "![", "^["]) * rng.randint(95, 110) + text + "](u)" * rng.randint(0, 3)
    return text


def tokens(parser: Any, text: str) -> list[Any]:
    def flat(items: list[Any]) -> list[Any]:
        return [(t.type, t.tag, t.nesting, t.level, t.content, t.markup, t.info, t.attrs, str(t.meta), t.map,
                 flat(t.children or [])) for t in items]
    return flat(parser.parse(text))


def test_mdsyncs_inline_rules_give_the_libraries_tokens() -> None:
    ours, theirs = make_parser(), _build_parser(linear=False)
    rng = random.Random(14)
    texts = [random_markdown(rng) for _ in range(600)]
    different = [text for text in texts if tokens(ours, text) != tokens(theirs, text)]
    assert not different, different[:3]


def test_the_parser_uses_mdsyncs_rules() -> None:
    rules = {rule.name: rule.fn for rule in make_parser().inline.ruler.__rules__}
    assert getattr(rules["gfm_autolink_protocol"], "__module__", "") == "mdsync.convert.linear_rules"
    assert rules["mdsync_inert_bracket"].__module__ == "mdsync.convert.linear_rules"
    assert make_parser().helpers.parseLinkLabel.__module__ == "mdsync.convert.linear_rules"


# -- raw HTML with constructs that never end ---------------------------------------------------------


def plain_events(fragment: str) -> list[Any]:
    parser = rawhtml._Events()
    try:
        parser.feed(fragment)
        parser.close()
    except (AssertionError, ValueError, IndexError):
        return [("data", "", {}, fragment)]
    return parser.events


def test_html_is_read_as_html_parser_reads_it() -> None:
    pieces = ["<!--", "-->", "<a", " b=", "'", '"', ">", "</", "<?", "<!", "<![CDATA[", "]]>", "x", " ",
              "&amp;", "&", "<script>", "</script>", "<div>", "</div>", "<br/>", "\n", "<", "/", "=", "--"]
    rng = random.Random(10)
    for _ in range(3_000):
        fragment = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        assert rawhtml.html_events(fragment) == (plain_events(fragment), False), fragment


def test_one_unclosed_comment_before_a_big_html_table_is_read_whole() -> None:
    fragment = "<!-- notes\n<table>" + "<tr><td>cell</td><td><b>x</b></td></tr>\n" * 2_000 + "</table>\n"
    events, cut = rawhtml.html_events(fragment)
    assert not cut and events == plain_events(fragment)


def test_endless_unclosed_comments_are_cut_short_with_a_warning() -> None:
    converter = Converter(drop_title_heading=False)
    result = converter.convert("<!--" * 20_000 + "\n\nNothing ends them.\n")
    assert any("never end to be read" in warning.message for warning in result.warnings)
    # Nothing is lost: what html.parser could not read in time is there as text.
    assert result.storage.count("&lt;!--") == 20_000 and "Nothing ends them." in result.storage


# -- storage writing ---------------------------------------------------------------------------------


def test_a_paragraphs_text_is_put_in_the_tree_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Adding to an element's text copies all of it: once per line made 10,000 lines quadratic.
    calls = []

    def counting(parent: Any, text: str | None) -> None:
        calls.append(text)
        real(parent, text)

    real = inline.append_text
    monkeypatch.setattr(inline, "append_text", counting)
    assert markdown_to_storage("line\n" * 10_000).count("line") == 10_000
    assert len(calls) == 1
