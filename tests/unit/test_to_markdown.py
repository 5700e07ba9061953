"""Storage -> Markdown, construct by construct, and the carried regions that keep the rest.

Expected Markdown is written by hand from the mapping in constructs.py and GitHub's
Markdown, never pasted from the converter's output.
"""

from __future__ import annotations

import re

import pytest

from mdsync import markdown_to_storage, storage_to_markdown
from mdsync.convert import convert_markdown, convert_storage
from mdsync.convert.to_storage import LinkTarget
from mdsync.storage.canonical import canonical_storage, same_storage
from mdsync.storage.xhtml import StorageParseError

KEEP = re.compile(r"<!-- /?mdsync:(?:keep|wrap|next)[^>]*-->|<mdsync-keep [^>]*>|</mdsync-keep>")


def md(storage: str) -> str:
    return storage_to_markdown(storage)


def readable(markdown: str) -> str:
    """The Markdown with carry markers taken out: what a reader sees."""
    return KEEP.sub("", markdown)


def round_trips(storage: str) -> bool:
    return same_storage(storage, markdown_to_storage(storage_to_markdown(storage)))


# -- marks and text -----------------------------------------------------------------------


@pytest.mark.parametrize(("storage", "expected"), [
    ("<p><strong>b</strong> <b>b2</b> <em>i</em> <i>i2</i></p>", "**b** **b2** *i* *i2*\n"),
    ("<p><s>s</s> <del>d</del></p>", "~~s~~ ~~d~~\n"),
    ("<p><code>a`b|c</code></p>", "``a`b|c``\n"),
    ("<p><u>u</u> H<sub>2</sub>O x<sup>2</sup></p>", "<u>u</u> H<sub>2</sub>O x<sup>2</sup>\n"),
    ("<p>one\ntwo</p>", "one\ntwo\n"),
    ("<p>漢字 and 😀 and café</p>", "漢字 and 😀 and café\n"),
])
def test_marks_and_text(storage: str, expected: str) -> None:
    assert md(storage) == expected


def test_text_that_looks_like_markdown_stays_literal() -> None:
    storage = ("<p>*stars* _under_ snake_case [link](x) `tick` &lt;b&gt; | pipe ~tilde~ https://x.org a@b.org</p>"
               "<p># not a heading</p><p>1. not a list</p><p>- not a bullet</p><p>&gt; not a quote</p>")
    out = md(storage)
    assert "snake_case" in out  # inside words an underscore needs no escape
    assert round_trips(storage)
    # Read back, the text is exactly the same characters and no Markdown construct appeared.
    back = markdown_to_storage(out)
    assert "<h1>" not in back and "<ol>" not in back and "<ul>" not in back and "<blockquote>" not in back
    assert "<a " not in back and "<em>" not in back and "<code>" not in back


@pytest.mark.parametrize("storage, expected", [
    ("<p>Done!</p>", "Done!\n"),  # nothing follows: no escape, so "Done! " and "Done!" read back alike
    ("<p>Done! </p>", "Done!\n"),
    ('<p>Wow!<a href="https://x.org">link</a></p>', "Wow\\![link](https://x.org)\n"),  # not an image
    ("<p>Wow! <strong>bold</strong></p>", "Wow! **bold**\n"),
])
def test_an_exclamation_mark_is_escaped_only_before_a_link(storage: str, expected: str) -> None:
    assert md(storage) == expected
    assert md(markdown_to_storage(expected)) == expected


def test_line_through_span_is_struck_and_kept() -> None:
    storage = '<p>a <span style="text-decoration: line-through;">gone</span> b</p>'
    assert "~~gone~~" in readable(md(storage))
    assert round_trips(storage)


def test_emphasis_that_cannot_use_delimiters_uses_html() -> None:
    storage = '<p>x<strong>"quoted"</strong>y</p>'
    assert md(storage) == 'x<strong>"quoted"</strong>y\n'
    assert round_trips(storage)


# -- blocks -------------------------------------------------------------------------------


def test_headings_quotes_rules() -> None:
    assert md("<h1>One</h1><h6>Six</h6>") == "# One\n\n###### Six\n"
    assert md("<blockquote><p>a</p><blockquote><p>b</p><blockquote><p>c</p></blockquote></blockquote></blockquote>") \
        == "> a\n>\n> > b\n> >\n> > > c\n"
    assert md("<p>a</p><hr /><p>b</p>") == "a\n\n---\n\nb\n"
    assert md("<hr /><p>b</p>") == "***\n\nb\n"  # a first-line --- would open front matter


def test_pre_is_kept_as_code_and_carried() -> None:
    storage = "<pre>line one\n  indented *not em*</pre>"
    assert "```\nline one\n  indented *not em*\n```" in readable(md(storage))
    assert round_trips(storage)


# -- code ---------------------------------------------------------------------------------


def code(body: str, **params: str) -> str:
    parameters = "".join(f'<ac:parameter ac:name="{key}">{value}</ac:parameter>' for key, value in params.items())
    return f'<ac:structured-macro ac:name="code">{parameters}<ac:plain-text-body><![CDATA[{body}]]>' \
           "</ac:plain-text-body></ac:structured-macro>"


def test_code_macros_become_fences_with_language_and_title() -> None:
    storage = code("print('é')", language="py", title="hello.py") + code("ls", language="bash")
    assert md(storage) == "```python title=\"hello.py\"\nprint('é')\n```\n\n```bash\nls\n```\n"
    assert md(code("x", language="py", linenumbers="true", firstline="5")) == '```python linenums="5"\nx\n```\n'


def test_fence_is_longer_than_any_backtick_run_and_long_lines_stay_whole() -> None:
    body = "```\nnested\n```\n````\n" + "x" * 500
    out = md(code(body))
    assert out.startswith("`````\n") and ("x" * 500) in out
    assert round_trips(code(body))


def test_unknown_language_and_noformat() -> None:
    assert md(code("graph TD", language="mermaid")) == "```mermaid\ngraph TD\n```\n"
    noformat = '<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[raw  text]]>' \
               "</ac:plain-text-body></ac:structured-macro>"
    assert "```\nraw  text\n```" in readable(md(noformat))
    assert round_trips(noformat)


# -- lists and tasks ----------------------------------------------------------------------


def test_lists_three_levels_ordered_inside_ordered_and_start() -> None:
    storage = ('<ol start="4"><li>four<ol><li>inner<ul><li>deep</li></ul></li></ol></li><li>five</li></ol>')
    assert md(storage) == "4. four\n   1. inner\n      - deep\n5. five\n"
    assert round_trips(storage)


def test_two_paragraphs_in_an_item_and_blocks_inside_items() -> None:
    storage = ("<ul><li><p>first</p><p>second</p></li><li><p>code:</p>" + code("x = 1", language="py")
               + "<blockquote><p>q</p></blockquote><table><tbody><tr><th>h</th></tr><tr><td>c</td></tr></tbody>"
                 "</table></li></ul>")
    out = md(storage)
    assert "- first\n\n  second" in out
    assert "  ```python\n  x = 1\n  ```" in out and "  > q" in out and "  | h |" in out
    assert round_trips(storage)


def test_adjacent_lists_stay_apart() -> None:
    storage = "<ul><li>a</li></ul><ul><li>b</li></ul><ol><li>c</li></ol><ol><li>d</li></ol>"
    assert md(storage) == "- a\n\n* b\n\n1. c\n\n1) d\n"
    assert round_trips(storage)


def test_task_states_never_flip_and_assignees_and_dates_are_readable() -> None:
    storage = ("<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete</ac:task-status>"
               "<ac:task-body>done</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id>"
               "<ac:task-status>incomplete</ac:task-status><ac:task-body>ask <ac:link><ri:user "
               'ri:account-id="557058:abc" /></ac:link> by <time datetime="2026-12-01" /></ac:task-body></ac:task>'
               "</ac:task-list>")
    out = md(storage)
    lines = readable(out).splitlines()
    assert lines[0] == "- [x] done"
    assert lines[1].startswith("- [ ] ask @557058:abc by 2026-12-01")
    assert round_trips(storage)
    resolved = convert_storage(storage, resolve_user=lambda account: "Ada Lovelace").markdown
    assert "@Ada Lovelace" in resolved


# -- tables -------------------------------------------------------------------------------


def test_simple_table_with_alignment_marks_empty_cells_and_cjk() -> None:
    storage = ('<table><tbody><tr><th style="text-align: left;">名前</th><th>B</th><th>C</th></tr>'
               '<tr><td style="text-align: left;"><strong>x</strong></td><td /><td>a | b</td></tr></tbody></table>')
    assert md(storage) == "| 名前 | B | C |\n| :-- | --- | --- |\n| **x** |  | a \\| b |\n"
    assert round_trips(storage)


def test_complex_tables_keep_all_text_and_come_back_exactly() -> None:
    storage = ('<table><tbody><tr><th>Key</th><th colspan="2">Merged</th></tr><tr><th>Row head</th>'
               "<td><ul><li>one</li><li>two</li></ul></td><td><p>p1</p><p>p2</p></td></tr></tbody></table>")
    out = readable(md(storage))
    for text in ("Key", "Merged", "Row head", "one", "two", "p1", "p2"):
        assert text in out
    assert round_trips(storage)


# -- links and images ---------------------------------------------------------------------


def test_page_links_use_the_resolver_and_outside_pages_are_carried() -> None:
    storage = ('<p><ac:link ac:anchor="Install-on-Linux"><ri:page ri:content-title="Guide" />'
               "<ac:plain-text-link-body><![CDATA[the guide]]></ac:plain-text-link-body></ac:link> and "
               '<ac:link><ri:page ri:space-key="OPS" ri:content-title="Runbook" /></ac:link></p>')

    def pages(title: str, space: str | None, anchor: str | None) -> str | None:
        if title == "Guide":
            return "guides/guide.md#install-on-linux"
        return f"https://example.atlassian.net/wiki/spaces/{space}/pages/1/{title}"

    back = convert_storage(storage, resolve_page=pages)
    assert back.markdown.startswith("[the guide](guides/guide.md#install-on-linux) and ")
    assert "[Runbook](https://example.atlassian.net/wiki/spaces/OPS/pages/1/Runbook)" in readable(back.markdown)
    assert back.links == (("Guide", None), ("Runbook", "OPS"))


def test_attachments_become_relative_paths() -> None:
    storage = ('<p><ac:image ac:alt="Plan"><ri:attachment ri:filename="Schéma réseau.png" /></ac:image> '
               '<ac:link><ri:attachment ri:filename="report 2026.pdf" /><ac:plain-text-link-body>'
               "<![CDATA[report]]></ac:plain-text-link-body></ac:link></p>")
    back = convert_storage(storage, resolve_attachment=lambda name, page: f"_attachments/{name}")
    assert back.markdown == "![Plan](_attachments/Schéma%20réseau.png) [report](_attachments/report%202026.pdf)\n"
    assert back.attachments == ("Schéma réseau.png", "report 2026.pdf")
    # Without a resolver the file name itself is the path, and it comes back as the same attachment.
    assert round_trips(storage)


@pytest.mark.parametrize(("path", "written"), [
    ("Colleague FAQ.md", "Colleague%20FAQ.md"),
    ("colleague-faq.md", "colleague-faq.md"),
    ("Руководство по API.md", "Руководство%20по%20API.md"),  # letters stay, the spaces are encoded
    ("Notes (draft).md", "Notes%20(draft).md"),  # paired parentheses are fine bare
    ("a (b.md", "a%20%28b.md"), ("a\\b<c>.md", "a%5Cb%3Cc%3E.md"),
    ("100% sure #1?.md", "100%25%20sure%20%231%3F.md"),  # the name's own %, # and ?
])
def test_a_file_path_is_written_percent_encoded_and_reads_back_as_the_same_file(path: str, written: str) -> None:
    seen: list[str] = []

    def remember(target: str, fragment: str | None) -> LinkTarget:
        seen.append(target)
        return LinkTarget("page", title="T")

    back = convert_storage('<p><ac:link><ri:attachment ri:filename="x" /><ac:plain-text-link-body><![CDATA[see]]>'
                           '</ac:plain-text-link-body></ac:link></p>', resolve_attachment=lambda name, page: path)
    assert back.markdown == f"[see]({written})\n"
    convert_markdown(back.markdown, path="index.md", resolve_link=remember)
    assert seen == [path]


def test_a_page_link_to_a_file_with_spaces_is_percent_encoded_and_both_forms_read_as_that_page() -> None:
    storage = ('<p><ac:link ac:anchor="Setup"><ri:page ri:content-title="Colleague FAQ" /><ac:plain-text-link-body>'
               "<![CDATA[the FAQ]]></ac:plain-text-link-body></ac:link></p>")
    back = convert_storage(storage, resolve_page=lambda title, space, anchor: "sub/Colleague%20FAQ.md#setup")
    assert back.markdown == "[the FAQ](sub/Colleague%20FAQ.md#setup)\n"
    # A resolver that gives a bare path with a space still gets a destination Markdown reads.
    raw = convert_storage(storage, resolve_page=lambda title, space, anchor: "sub/Colleague FAQ.md")
    assert raw.markdown == "[the FAQ](sub/Colleague%20FAQ.md)\n"
    seen: list[tuple[str, str | None]] = []

    def remember(target: str, fragment: str | None) -> LinkTarget:
        seen.append((target, fragment))
        return LinkTarget("page", title="Colleague FAQ", anchor="Setup")

    stored = {convert_markdown(text, path="index.md", resolve_link=remember).storage
              for text in (back.markdown, "[the FAQ](<sub/Colleague FAQ.md#setup>)\n")}
    assert seen == [("sub/Colleague FAQ.md", "setup")] * 2
    assert len(stored) == 1 and same_storage(stored.pop(), storage)


def test_external_images_images_in_links_and_in_cells() -> None:
    storage = ('<p><a href="https://ci.example"><ac:image><ri:url ri:value="https://ci.example/b.svg" />'
               '</ac:image></a></p><table><tbody><tr><th>pic</th></tr><tr><td><ac:image ac:width="40">'
               '<ri:attachment ri:filename="a.png" /></ac:image></td></tr></tbody></table>')
    out = md(storage)
    assert "[![](https://ci.example/b.svg)](https://ci.example)" in out
    assert "| ![](a.png){width=40} |" in out
    assert round_trips(storage)


def test_in_page_anchors_mailto_and_footnotes() -> None:
    storage = ('<h2>Set up</h2><p><ac:link ac:anchor="Set-up"><ac:plain-text-link-body><![CDATA[up]]>'
               '</ac:plain-text-link-body></ac:link> <a href="mailto:a@b.org">mail</a></p>')
    assert md(storage) == "## Set up\n\n[up](#set-up) [mail](mailto:a@b.org)\n"
    assert round_trips(storage)
    notes = markdown_to_storage("Text[^n].\n\n[^n]: The note.")
    assert md(notes) == "Text[^n].\n\n[^n]: The note.\n"


# -- macros -------------------------------------------------------------------------------


@pytest.mark.parametrize(("macro", "alert"), [("info", "NOTE"), ("tip", "TIP"), ("note", "WARNING"),
                                              ("warning", "CAUTION")])
def test_panels_become_alerts_through_the_shared_table(macro: str, alert: str) -> None:
    storage = f'<ac:structured-macro ac:name="{macro}"><ac:rich-text-body><p>Body</p></ac:rich-text-body>' \
              "</ac:structured-macro>"
    assert md(storage) == f"> [!{alert}]\n> Body\n"
    assert round_trips(storage)


def test_titled_panels_expand_and_toc() -> None:
    titled = ('<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Heads up</ac:parameter>'
              "<ac:rich-text-body><p>Body</p></ac:rich-text-body></ac:structured-macro>")
    assert md(titled) == '!!! note "Heads up"\n    Body\n'
    expand = ('<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More</ac:parameter>'
              "<ac:rich-text-body><p>Hidden</p></ac:rich-text-body></ac:structured-macro>")
    assert md(expand) == "<details>\n<summary>More</summary>\n\nHidden\n\n</details>\n"
    assert md('<ac:structured-macro ac:name="toc" />') == "[TOC]\n"
    for storage in (titled, expand):
        assert round_trips(storage)


@pytest.mark.parametrize("storage", [
    '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">OPS-42</ac:parameter></ac:structured-macro>',
    '<p>Status: <ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter>'
    '<ac:parameter ac:name="title">Done</ac:parameter></ac:structured-macro></p>',
    '<ac:structured-macro ac:name="children"><ac:parameter ac:name="depth">2</ac:parameter></ac:structured-macro>',
    '<ac:structured-macro ac:name="panel"><ac:parameter ac:name="bgColor">#ffeeee</ac:parameter>'
    "<ac:rich-text-body><p>Pink panel</p></ac:rich-text-body></ac:structured-macro>",
    '<ac:structured-macro ac:name="scroll-ignore"><ac:rich-text-body><p>Third-party body text</p>'
    "</ac:rich-text-body></ac:structured-macro>",
    '<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>Left</p></ac:layout-cell>'
    "<ac:layout-cell>" + code("y", language="js") + "</ac:layout-cell></ac:layout-section></ac:layout>",
    '<p>Read <ac:inline-comment-marker ac:ref="c0ffee">this <strong>part</strong></ac:inline-comment-marker>.</p>',
    '<p><ac:emoticon ac:name="smile" /> hi</p>',
    '<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[<b>raw</b>]]></ac:plain-text-body>'
    "</ac:structured-macro>",
    '<p style="text-align: center;">Centered</p>',
])
def test_everything_markdown_cannot_say_is_carried_readably_and_restored_exactly(storage: str) -> None:
    out = md(storage)
    assert "mdsync" in out  # it is carried ...
    assert round_trips(storage)  # ... and comes back exactly
    shown = readable(out)
    for word in re.findall(r"CDATA\[([^\]<]+)\]|>([^<>]+)<", storage):
        text = (word[0] or word[1]).strip()
        if text and text not in ("Green", "2", "#ffeeee", "two_equal", "js", "c0ffee"):
            assert text.replace("*", "").strip().lower() in shown.replace("\\", "").lower(), text


def test_layout_cells_are_flattened_in_reading_order_with_code_languages() -> None:
    storage = ('<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>Left</p></ac:layout-cell>'
               "<ac:layout-cell>" + code("y", language="js") + "</ac:layout-cell></ac:layout-section></ac:layout>")
    shown = readable(md(storage))
    assert shown.index("Left") < shown.index("```javascript\ny\n```")


def test_cloud_adf_panels_and_decisions_print_their_text_once() -> None:
    storage = ('<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note'
               "</ac:adf-attribute><ac:adf-content><p>Cloud note</p></ac:adf-content></ac:adf-node>"
               "<ac:adf-fallback><div><p>Cloud note</p></div></ac:adf-fallback></ac:adf-extension>")
    assert readable(md(storage)).count("Cloud note") == 1
    assert round_trips(storage)


# -- carried regions: edits are pushed, never lost ----------------------------------------


def test_an_untouched_carried_region_restores_the_original_storage_byte_for_byte() -> None:
    storage = ('<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="abc">'
               '<ac:parameter ac:name="server">System JIRA</ac:parameter><ac:parameter ac:name="jqlQuery">'
               "project = OPS</ac:parameter></ac:structured-macro>")
    pushed = markdown_to_storage(md(storage))
    assert pushed == storage


def test_an_edited_carried_region_pushes_the_edit_and_warns() -> None:
    storage = ('<ac:structured-macro ac:name="jira"><ac:parameter ac:name="server">System JIRA</ac:parameter>'
               '<ac:parameter ac:name="jqlQuery">project = OPS</ac:parameter></ac:structured-macro>')
    edited = md(storage).replace("project = OPS", "project = DISP")
    converted = convert_markdown(edited, path="p.md")
    assert "project = DISP" in converted.storage and "project = OPS" not in converted.storage
    assert "jqlQuery" not in converted.storage  # what only the macro could show is replaced, and said so
    assert any("edited" in str(warning) for warning in converted.warnings)


def test_an_edit_inside_a_kept_container_stays_in_the_container() -> None:
    storage = ('<ac:structured-macro ac:name="panel"><ac:parameter ac:name="bgColor">#ffeeee</ac:parameter>'
               "<ac:rich-text-body><p>Old text</p></ac:rich-text-body></ac:structured-macro>")
    edited = md(storage).replace("Old text", "New *text*")
    converted = convert_markdown(edited, path="p.md")
    assert converted.storage == ('<ac:structured-macro ac:name="panel"><ac:parameter ac:name="bgColor">#ffeeee'
                                 "</ac:parameter><ac:rich-text-body><p>New <em>text</em></p></ac:rich-text-body>"
                                 "</ac:structured-macro>")
    assert not converted.warnings


def test_an_edited_inline_carry_pushes_the_edit() -> None:
    storage = '<p>See <ac:inline-comment-marker ac:ref="r1">the old words</ac:inline-comment-marker>.</p>'
    edited = md(storage).replace("the old words", "the new words")
    converted = convert_markdown(edited, path="p.md")
    assert converted.storage == "<p>See the new words.</p>"
    assert converted.warnings


def test_ticking_a_task_inside_a_carried_region_is_an_edit() -> None:
    storage = ('<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><ac:task-list><ac:task>'
               "<ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>t</ac:task-body>"
               "</ac:task></ac:task-list></ac:layout-cell></ac:layout-section></ac:layout>")
    ticked = md(storage).replace("- [ ] t", "- [x] t")
    pushed = convert_markdown(ticked, path="p.md").storage
    assert "complete" in pushed and "incomplete" not in pushed


def test_a_damaged_marker_is_reported_and_the_text_kept() -> None:
    storage = '<ac:structured-macro ac:name="scroll-ignore"><ac:rich-text-body><p>Kept words</p>' \
              "</ac:rich-text-body></ac:structured-macro>"
    damaged = re.sub(r"(wrap [^·]*· [0-9a-f]{12} )..", r"\1XX", md(storage))
    assert damaged != md(storage)
    converted = convert_markdown(damaged, path="p.md")
    assert "Kept words" in converted.storage and converted.warnings


# -- input checks -------------------------------------------------------------------------


def test_cloud_noise_entities_and_spacers_are_handled() -> None:
    storage = ('<p local-id="a1">Hello&nbsp;there &ndash; ok&hellip;</p><p /><p><br /></p>'
               '<h2 local-id="h">T</h2>')
    assert md(storage) == "Hello\u00a0there \u2013 ok\u2026\n\n## T\n"


@pytest.mark.parametrize(("storage", "fragment"), [
    ("<p>unclosed", "line 1"),
    ('<!DOCTYPE x [<!ENTITY e "boom">]><p>&e;</p>', "DOCTYPE"),
    ("<p>&bogus;</p>", "bogus"),
])
def test_malformed_and_hostile_storage_is_one_clear_error(storage: str, fragment: str) -> None:
    with pytest.raises(StorageParseError) as caught:
        md(storage)
    assert fragment in str(caught.value)


def test_canonical_form_ignores_volatile_ids_and_equivalent_markup() -> None:
    assert canonical_storage('<p local-id="x">a<b>b</b></p>') == canonical_storage("<p>a<strong>b</strong></p>")
    assert canonical_storage('<ac:structured-macro ac:name="toc" ac:macro-id="1" ac:schema-version="1" />') == \
        canonical_storage('<ac:structured-macro ac:name="toc"/>')
    assert canonical_storage("<ul><li><p>x</p></li></ul>") == canonical_storage("<ul><li>x</li></ul>")
    assert canonical_storage("<p>a</p>") != canonical_storage("<p>b</p>")
    assert canonical_storage("<ul><li><p>x</p><p>y</p></li></ul>") != canonical_storage("<ul><li>x y</li></ul>")
