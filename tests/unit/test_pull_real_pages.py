"""Pulling pages as real Confluence holds them: each way a pull used to go wrong, on a page of that shape.

Every page here is written for its test in the shape real pages have (the Cloud editor's
re-save, rules E1-E12 of shared/reference/real-confluence.md; pages of the legacy editor and
of other tools). Each test pulls it (as ``mdsync pull`` converts it: markers with refs, what
they keep aside), checks the Markdown a person reads, pushes it back with the state the
pull left (``reapply``), and checks that the page comes back with nothing lost. Expected
Markdown is written by hand.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdsync import markdown_to_storage
from mdsync.convert import convert_markdown, convert_storage
from mdsync.convert.reapply import reapply
from mdsync.convert.to_markdown import ConvertedBack
from mdsync.sandbox.editor import editor_resave
from mdsync.storage.canonical import canonical_storage

MARKER = re.compile(r"<!-- /?mdsync:(?:keep|wrap|next)[^>]*-->|<mdsync-keep [^>]*>|</mdsync-keep>")


def pull(storage: str) -> ConvertedBack:
    return convert_storage(storage, keep_payloads=True)


def push(markdown: str, pulled: ConvertedBack, page: str) -> str:
    return reapply(markdown_to_storage(markdown, pulled.payloads), page)


def comes_back(page: str) -> str:
    """The page pulled and pushed unchanged; asserts it is the page again and that it is stable."""
    pulled = pull(page)
    pushed = push(pulled.markdown, pulled, page)
    assert canonical_storage(pushed) == canonical_storage(page)
    assert "mdsync" not in pushed
    assert pull(pushed).markdown == pulled.markdown
    return pulled.markdown


def plain(markdown: str) -> str:
    """Markdown with no carried region in it: what a person reads as it is."""
    assert not MARKER.search(markdown), markdown
    return markdown


# -- the Cloud editor's re-save (E1-E12) ------------------------------------------------------

MARKDOWN = """\
Intro with *x [y](https://example.com/y) z* and **bold [link](https://example.com/b)**.

| Field | Count |
| --- | --: |
| alpha | 1 |
| beta | 22 |

```python
print("hi")
```

![Architecture](architecture.png)

- one
- two
  - nested

- [ ] open task
- [x] done task

> [!NOTE]
> A note.
"""


def test_an_editor_resave_pulls_back_as_the_same_markdown() -> None:
    page = markdown_to_storage(MARKDOWN)
    saved = editor_resave(page, space_key="DOCS")
    assert 'local-id="' in saved and "breakoutMode" in saved and "<th" in saved and "<p " in saved  # it is re-saved
    assert plain(pull(saved).markdown) == MARKDOWN


def test_cells_wrapped_in_paragraphs_are_cells_with_their_alignment() -> None:
    page = ('<table data-table-width="760" data-layout="default" ac:local-id="t1"><tbody><tr ac:local-id="r1">'
            '<th ac:local-id="c1"><p local-id="p1">Field</p></th><th ac:local-id="c2"><p local-id="p2" '
            'style="text-align: right;">Count</p></th></tr><tr ac:local-id="r2"><td ac:local-id="c3"><p local-id="p3">'
            'a</p></td><td ac:local-id="c4"><p local-id="p4" style="text-align: right;">7</p></td></tr></tbody></table>')
    assert plain(comes_back(page)) == "| Field | Count |\n| --- | --: |\n| a | 7 |\n"


def test_what_markdown_cannot_say_about_a_table_stays_with_the_page() -> None:
    page = ('<table data-table-width="1200" data-layout="wide"><colgroup><col style="width: 900.0px;" />'
            '<col style="width: 300.0px;" /></colgroup><tbody><tr><th><p>Key</p></th><th><p>Value</p></th></tr>'
            '<tr><th><p>Owner</p></th><td data-highlight-colour="#fffae6"><p>Ledger squad</p></td></tr></tbody></table>')
    pulled = pull(page)
    assert plain(pulled.markdown) == "| Key | Value |\n| --- | --- |\n| Owner | Ledger squad |\n"
    comes_back(page)
    # Edited in Markdown (a cell's text), the table keeps its width, columns, header column and colour.
    edited = push(pulled.markdown.replace("Ledger squad", "Payments squad"), pulled, page)
    assert 'data-table-width="1200"' in edited and 'data-layout="wide"' in edited and "width: 900.0px" in edited
    assert "<th>Owner</th>" in edited and 'data-highlight-colour="#fffae6"' in edited and "Payments squad" in edited


def test_code_breakout_and_block_images_are_plain_markdown_and_kept() -> None:
    page = ('<ac:structured-macro ac:name="code" ac:schema-version="1" data-layout="default" ac:local-id="m1" '
            'ac:macro-id="a1"><ac:parameter ac:name="language">py</ac:parameter><ac:parameter ac:name="breakoutMode">'
            'full-width</ac:parameter><ac:parameter ac:name="breakoutWidth">1800</ac:parameter><ac:plain-text-body>'
            '<![CDATA[x = 1]]></ac:plain-text-body></ac:structured-macro><ac:image ac:align="center" ac:layout="wide" '
            'ac:original-height="400" ac:original-width="1200" ac:custom-width="true" ac:width="900" ac:alt="Map">'
            '<ri:attachment ri:filename="map.png" ri:version-at-save="2" /></ac:image>')
    pulled = pull(page)
    assert plain(pulled.markdown) == "```python\nx = 1\n```\n\n![Map](map.png){width=900}\n"
    comes_back(page)
    edited = push(pulled.markdown.replace("x = 1", "x = 2"), pulled, page)
    assert "full-width" in edited and "1800" in edited and 'ac:layout="wide"' in edited and "x = 2" in edited
    assert "<p><ac:image" not in edited  # the image stands at block level, as the editor has it


def test_marks_split_around_links_read_as_one_mark() -> None:
    page = ('<p local-id="a">Read <em>the </em><a href="https://example.com/d"><em>dashboard</em></a><em> first'
            '</em>, then <strong>see </strong><ac:link><ri:page ri:space-key="DOCS" ri:content-title="Guide" />'
            '<ac:link-body><strong>the guide</strong></ac:link-body></ac:link>.</p>')
    markdown = convert_storage(page, resolve_page=lambda title, space, anchor: "guide.md").markdown
    assert markdown == "Read *the [dashboard](https://example.com/d) first*, then **see [the guide](guide.md)**.\n"
    comes_back(page)


def test_page_links_keep_the_space_key_the_editor_adds() -> None:
    page = ('<p><ac:link><ri:page ri:space-key="DOCS" ri:content-title="Guide" /><ac:link-body>the guide'
            '</ac:link-body></ac:link></p>')
    pulled = convert_storage(page, resolve_page=lambda title, space, anchor: "guide.md", keep_payloads=True)
    assert pulled.markdown == "[the guide](guide.md)\n"
    converted = convert_markdown(pulled.markdown, path="index.md", resolve_link=_guide).storage
    assert "ri:space-key" not in converted  # the converter writes none ...
    assert 'ri:space-key="DOCS"' in reapply(converted, page)  # ... and a push takes it back


def _guide(target: str, fragment: str | None):  # noqa: ANN202 - a LinkResolver
    from mdsync.convert import LinkTarget

    return LinkTarget("page", title="Guide")


def test_task_ids_and_list_ids_come_back() -> None:
    page = ('<ac:task-list ac:task-list-id="L1"><ac:task><ac:task-id>41</ac:task-id><ac:task-uuid>u-41</ac:task-uuid>'
            '<ac:task-status>incomplete</ac:task-status><ac:task-body>first</ac:task-body></ac:task><ac:task>'
            '<ac:task-id>42</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>second</ac:task-body>'
            '</ac:task></ac:task-list>')
    pulled = pull(page)
    assert plain(pulled.markdown) == "- [ ] first\n- [x] second\n"
    ticked = push(pulled.markdown.replace("- [ ] first", "- [x] first"), pulled, page)
    assert "<ac:task-id>41</ac:task-id><ac:task-uuid>u-41</ac:task-uuid><ac:task-status>complete" in ticked
    assert "<ac:task-id>42</ac:task-id>" in ticked and 'ac:task-list-id="L1"' in ticked


# -- pages written by people and other tools -------------------------------------------------


def test_a_macro_inside_a_paragraph_with_parameters_on_several_lines() -> None:
    page = ('<p>\n  <ac:structured-macro ac:name="toc">\n    <ac:parameter ac:name="maxLevel">3</ac:parameter>\n'
            '    <ac:parameter ac:name="minLevel">2</ac:parameter>\n  </ac:structured-macro>\n</p>'
            '<p>Status: <ac:structured-macro ac:name="status">\n  <ac:parameter ac:name="colour">Green</ac:parameter>'
            '\n  <ac:parameter ac:name="title">On track</ac:parameter>\n</ac:structured-macro> for Q3.</p>')
    markdown = comes_back(page)
    assert markdown.startswith("[TOC]\n\nStatus: <mdsync-keep ref=")
    assert "\\[ON TRACK\\]</mdsync-keep> for Q3." in markdown


def test_a_children_macro_whose_parameter_holds_a_page_link() -> None:
    page = ('<ac:structured-macro ac:name="children"><ac:parameter ac:name="page"><ac:link><ri:page '
            'ri:content-title="Runbooks" /></ac:link></ac:parameter><ac:parameter ac:name="depth">2</ac:parameter>'
            '</ac:structured-macro><p>After.</p>')
    markdown = comes_back(page)
    assert "[children: depth=2]" in markdown.replace("\\", "") and markdown.endswith("After.\n")


def test_a_task_list_inside_a_paragraph() -> None:
    page = ('<p><ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>'
            '<ac:task-body>Book the room</ac:task-body></ac:task></ac:task-list></p><p>Next.</p>')
    assert plain(comes_back(page)) == "- [ ] Book the room\n\nNext.\n"


def test_a_list_inside_a_task_body_stays_a_list_and_task_ids_stay() -> None:
    page = ('<ac:task-list><ac:task><ac:task-id>7</ac:task-id><ac:task-status>incomplete</ac:task-status>'
            '<ac:task-body>Pack for the offsite<ul><li>laptop</li><li>charger</li></ul></ac:task-body></ac:task>'
            '<ac:task><ac:task-id>9</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>Book train'
            '</ac:task-body></ac:task></ac:task-list>')
    pulled = pull(page)
    assert plain(pulled.markdown) == "- [ ] Pack for the offsite\n  - laptop\n  - charger\n- [x] Book train\n"
    pushed = push(pulled.markdown, pulled, page)
    assert canonical_storage(pushed) == canonical_storage(page)
    assert "<ac:task-id>7</ac:task-id>" in pushed and "<ac:task-id>9</ac:task-id>" in pushed


def test_div_wrappers_are_kept_with_their_content_as_markdown() -> None:
    page = ('<div class="sect1" id="overview"><h2 id="_overview">Overview</h2><div class="paragraph"><p>The '
            '<strong>dispatch</strong> service.</p></div></div>')
    pulled = pull(page)
    assert "## Overview" in pulled.markdown and "The **dispatch** service." in pulled.markdown
    comes_back(page)
    edited = push(pulled.markdown.replace("service.", "service, in Go."), pulled, page)
    assert '<div class="sect1" id="overview">' in edited and "in Go." in edited


def test_relative_links_stay_links_to_what_they_named() -> None:
    page = '<p>See <a href="Page2#anchor">the other page</a> and <a href="Setup.html">setup</a>.</p>'
    markdown = comes_back(page)
    assert "[the other page](Page2#anchor)" in markdown and "[setup](Setup.html)" in markdown
    assert "ri:attachment" not in push(markdown, pull(page), page)


def test_link_bodies_stay_rich_and_code_language_none_stays() -> None:
    page = ('<p><ac:link><ri:page ri:content-title="Guide" /><ac:link-body>the guide</ac:link-body></ac:link></p>'
            '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">none</ac:parameter>'
            '<ac:plain-text-body><![CDATA[plain words]]></ac:plain-text-body></ac:structured-macro>')
    pulled = convert_storage(page, resolve_page=lambda title, space, anchor: "guide.md", keep_payloads=True)
    assert pulled.markdown == "[the guide](guide.md)\n\n```text\nplain words\n```\n"
    pushed = reapply(convert_markdown(pulled.markdown, path="p.md", resolve_link=_guide).storage, page)
    assert "<ac:link-body>the guide</ac:link-body>" in pushed and "plain-text-link-body" not in pushed
    assert '<ac:parameter ac:name="language">none</ac:parameter>' in pushed


def test_a_thead_an_anchor_without_href_and_a_paragraph_around_a_toc() -> None:
    page = ('<p><ac:structured-macro ac:name="toc" /></p><p><a name="top"></a>Top of the page.</p>'
            '<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>')
    pulled = pull(page)
    assert pulled.markdown.startswith("[TOC]\n\n<mdsync-keep ref=")
    assert "| A | B |\n| --- | --- |\n| 1 | 2 |" in plain(pulled.markdown.split("\n\n", 2)[2])
    pushed = push(pulled.markdown, pulled, page)
    assert pushed.startswith('<p><ac:structured-macro ac:name="toc"')
    assert '<a name="top" />Top' in pushed and "<thead><tr><th>A</th>" in pushed


def test_a_macro_with_two_rich_bodies_shows_both_and_keeps_both() -> None:
    page = ('<ac:structured-macro ac:name="ui-tabs"><ac:rich-text-body><p>First tab</p></ac:rich-text-body>'
            '<ac:rich-text-body><p>Second tab</p></ac:rich-text-body></ac:structured-macro>')
    pulled = pull(page)
    assert "First tab\n\n<!-- mdsync:next -->\n\nSecond tab" in pulled.markdown
    comes_back(page)
    edited = push(pulled.markdown.replace("Second tab", "Second *tab*"), pulled, page)
    assert edited.count("<ac:rich-text-body>") == 2 and "<p>Second <em>tab</em></p>" in edited


def test_headings_with_ids_are_headings() -> None:
    page = '<h2 id="install">Install</h2><p>Run it.</p><h3 id="linux">On Linux</h3>'
    pulled = pull(page)
    assert plain(pulled.markdown) == "## Install\n\nRun it.\n\n### On Linux\n"
    assert '<h2 id="install">' in push(pulled.markdown, pulled, page)


def test_no_marker_reaches_a_page_when_kept_text_has_blank_lines() -> None:
    # A block macro in a paragraph with a body of paragraphs, and a cell holding two.
    page = ('<p>Before <ac:structured-macro ac:name="excerpt"><ac:rich-text-body><p>One.</p><p>Two.</p>'
            '</ac:rich-text-body></ac:structured-macro> after.</p><table><tbody><tr><th>h</th></tr><tr><td><p>a</p>'
            '<p>b</p></td></tr></tbody></table>')
    markdown = comes_back(page)
    assert "\n\n" not in markdown.split("</mdsync-keep>")[0]  # kept inline text stays on its line


def test_the_html_macro_comes_back_as_html() -> None:
    page = ('<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[<div class="banner">\n  <b>Maintenance'
            '</b> tonight\n</div>]]></ac:plain-text-body></ac:structured-macro>')
    markdown = comes_back(page)
    assert '\n\n<div class="banner">\n  <b>Maintenance</b> tonight\n</div>\n\n' in markdown
    assert "```" not in markdown


@pytest.mark.parametrize(("macro", "parameter"), [("drawio", "diagramName"), ("gliffy", "name")])
def test_diagrams_show_their_picture_and_the_macro_stays(macro: str, parameter: str) -> None:
    page = (f'<ac:structured-macro ac:name="{macro}"><ac:parameter ac:name="{parameter}">Network map'
            f'</ac:parameter><ac:parameter ac:name="revision">4</ac:parameter></ac:structured-macro>')
    pulled = convert_storage(page, resolve_attachment=lambda name, owner: f"net.assets/{name}", keep_payloads=True)
    assert "![Network map](net.assets/Network%20map.png)" in pulled.markdown
    assert pulled.attachments == ("Network map.png",)  # downloaded by the pull
    pushed = markdown_to_storage(pulled.markdown, pulled.payloads)
    assert canonical_storage(pushed) == canonical_storage(page)


# -- a model: random documents, re-saved by the editor, pull as they were written --------------

WORDS = st.sampled_from(["alpha", "beta", "gamma", "delta", "Kestrel", "ledger", "route", "42", "x_y", "naïve"])
INLINE = st.one_of(
    WORDS,
    WORDS.map(lambda word: f"*{word}*"),
    WORDS.map(lambda word: f"**{word}**"),
    WORDS.map(lambda word: f"`{word}`"),
    WORDS.map(lambda word: f"[{word}](https://example.com/{word})"),
    st.tuples(WORDS, WORDS).map(lambda words: f"*{words[0]} [{words[1]}](https://example.com/l) end*"),
)
LINE = st.lists(INLINE, min_size=1, max_size=5).map(" ".join)


@st.composite
def block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["p", "h", "ul", "ol", "tasks", "code", "table", "quote", "alert", "image"]))
    if kind == "p":
        return draw(LINE)
    if kind == "h":
        return "#" * draw(st.integers(2, 4)) + " " + draw(WORDS)
    if kind in ("ul", "ol"):
        items = draw(st.lists(LINE, min_size=1, max_size=3))
        return "\n".join(f"{'-' if kind == 'ul' else f'{number}.'} {item}" for number, item in enumerate(items, 1))
    if kind == "tasks":
        items = draw(st.lists(st.tuples(st.booleans(), LINE), min_size=1, max_size=3))
        return "\n".join(f"- [{'x' if done else ' '}] {item}" for done, item in items)
    if kind == "code":
        return f"```{draw(st.sampled_from(['python', 'bash', 'json', 'text']))}\n{draw(WORDS)} = 1\n```"
    if kind == "table":
        columns = draw(st.integers(1, 3))
        align = draw(st.lists(st.sampled_from(["---", ":--", "--:", ":-:"]), min_size=columns, max_size=columns))
        rows = draw(st.lists(st.lists(WORDS, min_size=columns, max_size=columns), min_size=1, max_size=3))
        head = "| " + " | ".join(draw(st.lists(WORDS, min_size=columns, max_size=columns))) + " |"
        return "\n".join([head, "| " + " | ".join(align) + " |"] + ["| " + " | ".join(row) + " |" for row in rows])
    if kind == "quote":
        return "> " + draw(LINE)
    if kind == "alert":
        return f"> [!{draw(st.sampled_from(['NOTE', 'TIP', 'WARNING']))}]\n> {draw(LINE)}"
    return f"![{draw(WORDS)}]({draw(WORDS)}.png)"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block(), min_size=1, max_size=6), st.data())
def test_random_documents_resaved_by_the_editor_pull_back_with_only_the_edit(blocks: list[str], data: st.DataObject) -> None:
    markdown = "\n\n".join(blocks) + "\n"
    page = markdown_to_storage(markdown)
    if markdown_to_storage(pull(page).markdown) != page:
        return  # only documents that are mdsync's own fixed point (nearly all are)
    own = pull(page).markdown
    # The colleague adds a paragraph somewhere, in the editor, and publishes.
    at = data.draw(st.integers(0, len(blocks)))
    edited_blocks = [*blocks[:at], "Added by a colleague.", *blocks[at:]]
    expected = markdown_to_storage("\n\n".join(edited_blocks) + "\n")
    saved = editor_resave(expected, space_key="DOCS")
    back = pull(saved).markdown
    assert back == pull(expected).markdown  # the editor's re-save changes nothing a pull writes ...
    # ... and against the file as it was, the only line that differs is the colleague's.
    before, after = Counter(filter(str.strip, own.splitlines())), Counter(filter(str.strip, back.splitlines()))
    assert after - before == Counter({"Added by a colleague.": 1}) and not before - after


def test_markers_written_by_earlier_versions_still_push_exactly() -> None:
    # The self-contained form earlier versions wrote into pulled files: label, fingerprint, data.
    from mdsync.convert import carry
    from mdsync.convert.markdown_parser import make_parser

    macro = ('<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="old"><ac:parameter '
             'ac:name="key">OPS-7</ac:parameter></ac:structured-macro>')
    readable = "OPS-7"
    checksum = carry.fingerprint(make_parser().parse(readable))
    block = f"<!-- mdsync:keep jira macro · do not edit this line · {checksum} {carry.encode(macro)} -->\n\n" \
            f"{readable}\n\n<!-- /mdsync:keep -->\n"
    assert markdown_to_storage(block) == macro
    inline_sum = carry.fingerprint(make_parser().parseInline(readable)[0].children)
    inline = f'Ticket <mdsync-keep label="jira issue" sum="{inline_sum}" data="{carry.encode(macro)}">' \
             f"{readable}</mdsync-keep>.\n"
    assert markdown_to_storage(inline) == f"<p>Ticket {macro}.</p>"


# -- what a review of the first version found (each failed before it was fixed) ---------------


def test_a_styled_heading_keeps_what_is_kept_inside_it() -> None:
    page = ('<h2 style="text-align: center;">Release <ac:structured-macro ac:name="status"><ac:parameter '
            'ac:name="title">done</ac:parameter></ac:structured-macro></h2><h2 style="color: red;">Hello <em>world'
            '</em></h2><p>Body.</p>')
    pulled = pull(page)
    assert "\\<mdsync-keep" not in pulled.markdown and "## Hello *world*" in pulled.markdown
    comes_back(page)
    edited = convert_markdown(pulled.markdown.replace("Body.", "Body, edited."), payloads=pulled.payloads)
    assert not edited.warnings and 'ac:name="status"' in edited.storage


def test_code_with_blank_lines_stays_inside_a_titled_panel() -> None:
    code = ('<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">py</ac:parameter><ac:plain-text-body>'
            "<![CDATA[import os\n\n\ndef main():\n    pass]]></ac:plain-text-body></ac:structured-macro>")
    comes_back(f'<ac:structured-macro ac:name="tip"><ac:parameter ac:name="title">Example</ac:parameter>'
               f"<ac:rich-text-body>{code}</ac:rich-text-body></ac:structured-macro><p>Done.</p>")


def test_pipes_in_table_cells_in_code_and_in_kept_text() -> None:
    page = ('<table><tbody><tr><th>Pattern</th><th>Means</th></tr><tr><td><code>x|y</code> or <code>a\\|b</code>'
            '</td><td>a | b</td></tr><tr><td><span style="color: red;">|</span></td><td>-</td></tr></tbody></table>')
    pulled = pull(page)
    assert "| `x\\|y` or `a\\\\|b` | a \\| b |" in pulled.markdown
    comes_back(page)
    assert not convert_markdown(pulled.markdown, payloads=pulled.payloads).warnings


def test_text_after_a_block_in_a_cell_is_kept_inline() -> None:
    page = ('<table><tbody><tr><th>Step</th><th>Notes</th></tr><tr><td>1</td><td><ul><li>check A</li></ul>'
            "Then restart.</td></tr></tbody></table>")
    pulled = pull(page)
    assert "<!--" not in pulled.markdown.split("\n", 2)[2].rsplit("<!--", 1)[0]  # no block marker inside the table
    comes_back(page)
    assert not convert_markdown(pulled.markdown, payloads=pulled.payloads).warnings


def test_regions_that_look_alike_keep_their_own_storage() -> None:
    page = ('<p>See <ac:link><ri:page ri:space-key="OPS" ri:content-title="Overview" /></ac:link> and <ac:link>'
            '<ri:page ri:space-key="DEV" ri:content-title="Overview" /></ac:link>; <ac:structured-macro '
            'ac:name="status" ac:macro-id="111"><ac:parameter ac:name="title">DONE</ac:parameter></ac:structured-macro>'
            ' <ac:structured-macro ac:name="status" ac:macro-id="222"><ac:parameter ac:name="title">DONE'
            "</ac:parameter></ac:structured-macro></p>")
    pulled = pull(page)
    assert len(pulled.payloads) == 4
    assert markdown_to_storage(pulled.markdown, pulled.payloads) == page


def test_a_new_task_takes_an_id_no_other_task_has() -> None:
    page = ('<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-uuid>u1</ac:task-uuid><ac:task-status>'
            "incomplete</ac:task-status><ac:task-body>alpha</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id>"
            "<ac:task-status>incomplete</ac:task-status><ac:task-body>beta</ac:task-body></ac:task><ac:task>"
            "<ac:task-id>3</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>gamma</ac:task-body>"
            "</ac:task></ac:task-list>")
    pulled = pull(page)
    pushed = push("- [ ] first\n- [ ] gamma\n- [ ] alpha\n- [ ] beta\n", pulled, page)  # one added, one moved
    ids = re.findall(r"<ac:task-id>(\d+)</ac:task-id>.*?<ac:task-body>(\w+)", pushed)
    assert dict((body, number) for number, body in ids) == {"first": "4", "gamma": "3", "alpha": "1", "beta": "2"}
    assert "<ac:task-uuid>u1</ac:task-uuid>" in pushed


def test_an_edited_table_with_merged_cells_is_not_given_its_spans_back() -> None:
    page = ('<table><tbody><tr><th>Region</th><th>Depot</th></tr><tr><td rowspan="2">North</td><td>Leeds</td></tr>'
            "<tr><td>York</td></tr></tbody></table>")
    pulled = pull(page)
    pushed = push(pulled.markdown.replace("York", "Hull"), pulled, page)
    assert "rowspan" not in pushed and "Hull" in pushed  # degraded to the grid the Markdown shows, and said so


def test_code_spans_that_touch_are_one_span() -> None:
    assert plain(comes_back("<p>Run <code>make</code><code>install</code> now</p>")) == "Run `makeinstall` now\n"


def test_damaged_markers_are_reported_and_nothing_else_is_lost() -> None:
    page = ('<p>Intro</p><ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>A</p></ac:layout-cell>'
            '<ac:layout-cell><p>B</p></ac:layout-cell></ac:layout-section></ac:layout><p>Outro</p>'
            '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="server">S</ac:parameter><ac:parameter '
            'ac:name="jqlQuery">project = X</ac:parameter></ac:structured-macro>')
    pulled = pull(page)
    lines = pulled.markdown.splitlines()
    for dropped, said in (("<!-- mdsync:next -->", "part(s) more"), ("<!-- /mdsync:wrap -->", "not closed"),
                          ("<!-- mdsync:wrap", "no opening line"), ("<!-- mdsync:keep", "no opening line")):
        damaged = "\n".join(line for line in lines if not line.startswith(dropped))
        converted = convert_markdown(damaged, payloads=pulled.payloads)
        assert any(said in warning.message for warning in converted.warnings), (dropped, converted.warnings)
        for text in ("Intro", "A", "B", "Outro"):
            assert f"<p>{text}</p>" in converted.storage


def test_a_kept_list_reads_as_a_list() -> None:
    page = '<ol style="list-style-type: lower-alpha;"><li>one</li><li>two</li></ol>'
    assert "1. one\n2. two" in pull(page).markdown
    nested = "<ul><li>alpha</li><ul><li>beta</li></ul><li>gamma</li></ul>"
    assert "- alpha\n  - beta\n- gamma" in pull(nested).markdown
    comes_back(page)
    comes_back(nested)


def test_a_style_the_markdown_took_away_is_not_put_back() -> None:
    page = ('<h2 id="w" style="color: rgb(255,0,0);">Warning</h2><p style="text-align: center;" dir="rtl">Old</p>'
            '<p><ac:image ac:width="300" ac:layout="wide"><ri:attachment ri:filename="a.png" ri:version-at-save="7" />'
            "</ac:image></p>")
    pulled = pull(page)
    pushed = push("## Warning\n\nA plain new paragraph\n\n![](b.png)\n", pulled, page)
    assert "color" not in pushed and "dir=" not in pushed and "text-align" not in pushed
    assert '<h2 id="w">Warning</h2>' in pushed  # the heading's id stays: other pages link to it
    assert "version-at-save" not in pushed and 'ac:width="300"' not in pushed  # another picture, its own width


def test_raw_html_that_would_run_on_is_kept_as_code() -> None:
    for html in ("<?php echo 1; ", "<div><![CDATA[ open", "<pre>unclosed"):
        page = (f'<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[{html}]]></ac:plain-text-body>'
                "</ac:structured-macro><p>after</p><h2>More</h2>")
        markdown = comes_back(page)
        assert markdown.endswith("after\n\n## More\n")


def test_no_break_spaces_show_and_count() -> None:
    assert canonical_storage("<p>Name:\u00a0\u00a0\u00a0\u00a0Value</p>") != canonical_storage("<p>Name: Value</p>")
    assert canonical_storage("<p>\u00a0\u00a0indented</p>") != canonical_storage("<p>indented</p>")
    assert canonical_storage("<table><tbody><tr><td>&#160;</td></tr></tbody></table>") == \
        canonical_storage("<table><tbody><tr><td><p /></td></tr></tbody></table>")  # an empty cell either way
    comes_back("<p>\u00a0\u00a0indented, and\u00a0\u00a0\u00a0spaced</p>")


def test_emphasis_that_starts_with_a_line_break() -> None:
    comes_back("<p>note<em><br />x</em></p>")


def test_a_table_edited_while_another_beside_it_was_deleted_keeps_its_width() -> None:
    page = ('<table data-table-width="1200" data-layout="wide"><tbody><tr><th>A</th></tr><tr><td>one</td></tr></tbody>'
            '</table><table data-table-width="900" data-layout="full-width"><tbody><tr><th>Beta heading</th></tr><tr>'
            "<td>two rows</td></tr><tr><td>here</td></tr></tbody></table>")
    pulled = pull(page)
    second = pulled.markdown.split("\n\n")[1].replace("two rows", "two rows, edited")
    pushed = push(second + "\n", pulled, page)
    assert 'data-table-width="900"' in pushed and "1200" not in pushed
