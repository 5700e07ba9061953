"""Markdown -> storage, construct by construct: the exact storage, and what Confluence shows.

Expected storage is written by hand from Atlassian's storage-format reference and the
mapping in constructs.py, never pasted from the converter's output.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html

from mdsync import markdown_to_storage
from mdsync.convert import LinkTarget, convert_markdown
from mdsync.preview.view import render_storage
from mdsync.storage.xhtml import parse_storage


def storage(markdown: str) -> str:
    return markdown_to_storage(markdown)


def shown(markdown: str, **resolvers: Any) -> Any:
    """What Confluence would show for the Markdown (through view.py), as an lxml tree."""
    return html.fromstring(render_storage(storage(markdown), **resolvers))


def code_macro(body: str, **parameters: str) -> str:
    params = "".join(f'<ac:parameter ac:name="{key}">{value}</ac:parameter>' for key, value in parameters.items())
    return (f'<ac:structured-macro ac:name="code">{params}'
            f"<ac:plain-text-body><![CDATA[{body}]]></ac:plain-text-body></ac:structured-macro>")


# -- headings, paragraphs, breaks, marks --------------------------------------------------


@pytest.mark.parametrize(("markdown", "expected"), [
    ("# One", "<h1>One</h1>"),
    ("###### Six", "<h6>Six</h6>"),
    ("Setext\n======", "<h1>Setext</h1>"),
    ("Setext two\n---", "<h2>Setext two</h2>"),
    ("## *Marked* heading", "<h2><em>Marked</em> heading</h2>"),
])
def test_headings(markdown: str, expected: str) -> None:
    assert storage(markdown) == expected


def test_headings_show_with_confluence_anchors() -> None:
    assert shown("## Install on Linux").xpath("//h2/@id") == ["Install-on-Linux"]


def test_paragraphs_soft_and_hard_breaks() -> None:
    assert storage("one\ntwo\n\nthree") == "<p>one\ntwo</p><p>three</p>"
    assert storage("hard  \nbreak") == "<p>hard<br />break</p>"
    assert storage("slash\\\nbreak") == "<p>slash<br />break</p>"


def test_emphasis_strong_and_both_strikethroughs() -> None:
    assert storage("*a* _b_ **c** __d__ ~~e~~ ~f~") == (
        "<p><em>a</em> <em>b</em> <strong>c</strong> <strong>d</strong> <s>e</s> <s>f</s></p>")
    assert storage("***both***") == "<p><em><strong>both</strong></em></p>"


def test_inline_code_keeps_backticks_pipes_and_markup_literally() -> None:
    assert storage("`` a ` b ``") == "<p><code>a ` b</code></p>"
    assert storage("`x | y`") == "<p><code>x | y</code></p>"
    assert storage("`<b>&amp;</b>`") == "<p><code>&lt;b&gt;&amp;amp;&lt;/b&gt;</code></p>"


def test_backslash_escapes_and_entities() -> None:
    assert storage(r"\*not em\* \# \[x\]") == "<p>*not em* # [x]</p>"
    # Named entities become characters: the output never holds a named entity.
    out = storage("&copy; &nbsp; &#169; &amp; &lt;")
    assert out == "<p>\u00a9 \u00a0 \u00a9 &amp; &lt;</p>"
    assert "&nbsp;" not in out and "&copy;" not in out


@pytest.mark.parametrize(("markdown", "expected"), [
    ("H<sub>2</sub>O", "<p>H<sub>2</sub>O</p>"),
    ("x<sup>2</sup>", "<p>x<sup>2</sup></p>"),
    ("<kbd>Ctrl</kbd>+<kbd>C</kbd>", "<p><code>Ctrl</code>+<code>C</code></p>"),
    ("<u>under</u>", "<p><u>under</u></p>"),
    ("<mark>hi</mark>", '<p><span style="background-color: rgb(255,250,230);">hi</span></p>'),
    ("a<br>b", "<p>a<br />b</p>"),
    ("a<br/>b", "<p>a<br />b</p>"),
])
def test_inline_html_marks(markdown: str, expected: str) -> None:
    assert storage(markdown) == expected


# -- links --------------------------------------------------------------------------------


def test_external_links_autolinks_and_bare_urls() -> None:
    assert storage('[site](https://example.com "Title")') == (
        '<p><a href="https://example.com" title="Title">site</a></p>')
    assert storage("<https://example.com/a>") == '<p><a href="https://example.com/a">https://example.com/a</a></p>'
    assert storage("see https://example.com/x.") == (
        '<p>see <a href="https://example.com/x">https://example.com/x</a>.</p>')
    assert storage("and www.example.org") == '<p>and <a href="http://www.example.org">www.example.org</a></p>'
    assert storage("[mail](mailto:a@b.org)") == '<p><a href="mailto:a@b.org">mail</a></p>'


def test_reference_style_links() -> None:
    assert storage("[one][1] and [two]\n\n[1]: https://a.example\n[two]: https://b.example") == (
        '<p><a href="https://a.example">one</a> and <a href="https://b.example">two</a></p>')


def test_section_links_use_confluence_heading_anchors() -> None:
    out = storage("[go](#install-on-linux)\n\n## Install on Linux")
    assert out.startswith('<p><ac:link ac:anchor="Install-on-Linux"><ac:link-body>'
                          "go</ac:link-body></ac:link></p>")
    # A fragment that names no heading is kept as written.
    assert 'ac:anchor="nowhere"' in storage("[x](#nowhere)")


def _resolver(target: str, fragment: str | None) -> LinkTarget | None:
    titles = {"guides/install.md": "Install Guide", "other.md": "Other Page"}
    if target in titles:
        anchor = {"linux": "Linux"}.get(fragment or "", fragment)
        return LinkTarget("page", title=titles[target], anchor=anchor)
    return None


def test_relative_markdown_links_become_page_links_through_the_resolver() -> None:
    converted = convert_markdown("[install](guides/install.md#linux) and [o](other.md)", path="index.md",
                                 resolve_link=_resolver)
    assert converted.storage == (
        '<p><ac:link ac:anchor="Linux"><ri:page ri:content-title="Install Guide" /><ac:link-body>'
        "install</ac:link-body></ac:link> and <ac:link>"
        '<ri:page ri:content-title="Other Page" /><ac:link-body>o'
        "</ac:link-body></ac:link></p>")
    assert converted.links == ("guides/install.md", "other.md")


def test_links_resolve_relative_to_the_file() -> None:
    seen: list[tuple[str, str | None]] = []

    def remember(target: str, fragment: str | None) -> LinkTarget | None:
        seen.append((target, fragment))
        return LinkTarget("page", title="T")

    convert_markdown("[a](../other.md) [b](sub/page.md#x) [c](my%20page.md)", path="guides/deep/page.md",
                     resolve_link=remember)
    assert seen == [("guides/other.md", None), ("guides/deep/sub/page.md", "x"), ("guides/deep/my page.md", None)]


def test_rich_link_text_uses_a_rich_link_body() -> None:
    converted = convert_markdown("[**bold** text](other.md)", path="a.md", resolve_link=_resolver)
    assert converted.storage == ('<p><ac:link><ri:page ri:content-title="Other Page" /><ac:link-body>'
                                 "<strong>bold</strong> text</ac:link-body></ac:link></p>")


def test_unresolved_markdown_link_stays_a_plain_link_with_a_warning() -> None:
    converted = convert_markdown("[gone](missing.md)", path="a.md", resolve_link=_resolver)
    assert converted.storage == '<p><a href="missing.md">gone</a></p>'
    assert any("missing.md" in str(warning) for warning in converted.warnings)


def test_links_to_local_files_become_attachment_links() -> None:
    converted = convert_markdown("[report](files/q3 report.pdf) [r2](<files/q3 report.pdf>)", path="docs/a.md")
    assert converted.storage.count('<ri:attachment ri:filename="q3 report.pdf" />') == 1
    converted = convert_markdown("[report](<files/q3 report.pdf>)", path="docs/a.md")
    assert converted.storage == ('<p><ac:link><ri:attachment ri:filename="q3 report.pdf" />'
                                 "<ac:link-body>report</ac:link-body></ac:link></p>")
    assert [(ref.path, ref.filename) for ref in converted.attachments] == [("docs/files/q3 report.pdf",
                                                                            "q3 report.pdf")]


def test_links_escaping_the_docs_folder_are_not_uploaded() -> None:
    converted = convert_markdown("[secret](../../etc/passwd)", path="a.md")
    assert converted.attachments == ()
    assert converted.storage == '<p><a href="../../etc/passwd">secret</a></p>'
    assert converted.warnings


def test_dangerous_link_schemes_never_become_links() -> None:
    out = storage("[x](javascript:alert(1)) [y](data:text/html,hi)")
    assert "href" not in out and "javascript:" in out  # kept visible as text


# -- images -------------------------------------------------------------------------------


def test_local_image_becomes_an_attachment_with_alt_title_and_width() -> None:
    converted = convert_markdown('![The diagram](img/arch.png "Architecture"){width=300}', path="guide/p.md")
    assert converted.storage == ('<p><ac:image ac:alt="The diagram" ac:title="Architecture" ac:width="300">'
                                 '<ri:attachment ri:filename="arch.png" /></ac:image></p>')
    assert [(ref.path, ref.filename) for ref in converted.attachments] == [("guide/img/arch.png", "arch.png")]


def test_image_names_with_spaces_and_non_ascii() -> None:
    converted = convert_markdown("![x](<images/Schéma réseau 图.png>) ![y](images/a%20b.png)", path="p.md")
    assert [ref.filename for ref in converted.attachments] == ["Schéma réseau 图.png", "a b.png"]
    assert '<ri:attachment ri:filename="Schéma réseau 图.png" />' in converted.storage


def test_same_file_name_in_two_folders_gets_two_attachment_names() -> None:
    converted = convert_markdown("![a](one/logo.png) ![b](two/logo.png) ![c](one/logo.png)", path="p.md")
    assert [(ref.path, ref.filename) for ref in converted.attachments] == [
        ("one/logo.png", "logo.png"), ("two/logo.png", "two_logo.png")]
    assert converted.storage.count('ri:filename="logo.png"') == 2


def test_remote_images_use_ri_url_and_html_img_gives_size() -> None:
    assert storage("![r](https://example.com/x.png)") == (
        '<p><ac:image ac:alt="r"><ri:url ri:value="https://example.com/x.png" /></ac:image></p>')
    assert storage('<img src="https://example.com/y.png" width="120" alt="Y">') == (
        '<p><ac:image ac:alt="Y" ac:width="120"><ri:url ri:value="https://example.com/y.png" /></ac:image></p>')


def test_image_inside_a_link() -> None:
    assert storage("[![badge](https://img.shields.io/b.svg)](https://ci.example)") == (
        '<p><a href="https://ci.example"><ac:image ac:alt="badge"><ri:url ri:value="https://img.shields.io/b.svg" />'
        "</ac:image></a></p>")


def test_image_shows_from_its_attachment() -> None:
    doc = shown("![Arch](arch.png)", resolve_attachment=lambda name, page: f"/files/{name}")
    assert doc.xpath("//img/@src") == ["/files/arch.png"] and doc.xpath("//img/@alt") == ["Arch"]


# -- code ---------------------------------------------------------------------------------


def test_fenced_code_maps_languages_and_keeps_unknown_ones() -> None:
    assert storage("```python\nprint(1)\n```") == code_macro("print(1)", language="py")
    assert storage("```bash\nls\n```") == code_macro("ls", language="bash")
    assert storage("```mermaid\ngraph TD\n```") == code_macro("graph TD", language="mermaid")
    assert storage("```\nplain\n```") == code_macro("plain")
    # Names Confluence does not know are sent as written, so they come back unchanged; plain text
    # is the code macro's "none".
    assert storage("```nginx\nserver {}\n```") == code_macro("server {}", language="nginx")
    assert storage("```text\nplain\n```") == code_macro("plain", language="none")


def test_fence_title_and_line_numbers() -> None:
    assert storage('```python title="hello.py" linenums="1"\nx = 1\n```') == code_macro(
        "x = 1", language="py", title="hello.py", linenumbers="true")
    assert storage('```js linenums="5"\nx\n```') == code_macro("x", language="js", linenumbers="true",
                                                                firstline="5")


def test_indented_code_and_cdata_end_marker() -> None:
    assert storage("    indented\n    code") == code_macro("indented\ncode")
    out = storage("```\na ]]> b\n```")
    assert out == code_macro("a ]]]]><![CDATA[> b")
    assert parse_storage(out)[0][0].text == "a ]]> b"


def test_code_shows_with_its_language() -> None:
    doc = shown("```python\nprint('<x>')\n```")
    assert doc.xpath("//div[contains(@class,'code-block')]/@data-language") == ["py"]
    assert doc.xpath("string(//code)") == "print('<x>')"
    assert doc.xpath("//code/span[@class='nb']/text()") == ["print"]  # highlighted as Python


# -- quotes, alerts, admonitions, details -------------------------------------------------


def test_nested_block_quotes() -> None:
    assert storage("> one\n>> two") == "<blockquote><p>one</p><blockquote><p>two</p></blockquote></blockquote>"


@pytest.mark.parametrize(("kind", "macro_name"), [
    ("NOTE", "info"), ("TIP", "tip"), ("WARNING", "note"), ("CAUTION", "warning"),
])
def test_github_alerts_map_to_confluence_panels(kind: str, macro_name: str) -> None:
    assert storage(f"> [!{kind}]\n> Body *text*") == (
        f'<ac:structured-macro ac:name="{macro_name}"><ac:rich-text-body><p>Body <em>text</em></p>'
        "</ac:rich-text-body></ac:structured-macro>")


def test_important_alert_is_a_distinct_purple_panel() -> None:
    assert storage("> [!IMPORTANT]\n> Read this") == (
        '<ac:structured-macro ac:name="panel"><ac:parameter ac:name="panelIcon">:exclamation:</ac:parameter>'
        '<ac:parameter ac:name="panelIconId">2757</ac:parameter>'
        '<ac:parameter ac:name="panelIconText">\u2757</ac:parameter>'
        '<ac:parameter ac:name="bgColor">#EAE6FF</ac:parameter>'
        "<ac:rich-text-body><p>Read this</p></ac:rich-text-body></ac:structured-macro>")


def test_alert_colours_show_as_confluence_shows_them() -> None:
    doc = shown("> [!WARNING]\n> yellow\n\n> [!CAUTION]\n> red")
    assert doc.xpath("//div[contains(@class,'panel-note')]//p/text()") == ["yellow"]
    assert doc.xpath("//div[contains(@class,'panel-warning')]//p/text()") == ["red"]


def test_mkdocs_admonitions() -> None:
    assert storage('!!! note "Read me"\n    Body') == (
        '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Read me</ac:parameter>'
        "<ac:rich-text-body><p>Body</p></ac:rich-text-body></ac:structured-macro>")
    assert storage("!!! danger\n    Hot") == (
        '<ac:structured-macro ac:name="warning"><ac:rich-text-body><p>Hot</p></ac:rich-text-body>'
        "</ac:structured-macro>")


def test_details_become_an_expand_macro() -> None:
    assert storage("<details>\n<summary>More <b>info</b></summary>\n\nHidden *text*.\n\n</details>") == (
        '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More info</ac:parameter>'
        "<ac:rich-text-body><p>Hidden <em>text</em>.</p></ac:rich-text-body></ac:structured-macro>")


# -- lists and tasks ----------------------------------------------------------------------


def test_bullet_and_ordered_lists_with_start_and_nesting() -> None:
    assert storage("- a\n- b\n  1. c\n  2. d\n     - e") == (
        "<ul><li>a</li><li>b<ol><li>c</li><li>d<ul><li>e</li></ul></li></ol></li></ul>")
    assert storage("3. three\n4. four") == '<ol start="3"><li>three</li><li>four</li></ol>'


def test_deep_nesting_keeps_every_level() -> None:
    markdown = "\n".join("  " * depth + f"- level {depth}" for depth in range(12))
    out = storage(markdown)
    assert out.count("<ul>") == 12 and "level 11" in out


def test_loose_items_with_paragraphs_code_tables_and_quotes() -> None:
    out = storage("- first para\n\n  second para\n\n  ```sh\n  ls\n  ```\n\n  > quoted\n\n  | a |\n  |---|\n  | 1 |")
    assert out == ("<ul><li><p>first para</p><p>second para</p>" + code_macro("ls", language="bash")
                   + "<blockquote><p>quoted</p></blockquote><table><tbody><tr><th>a</th></tr><tr><td>1</td></tr>"
                   "</tbody></table></li></ul>")


def test_task_lists_with_states_and_nesting() -> None:
    assert storage("- [ ] open\n- [x] done\n  - [X] nested") == (
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>open</ac:task-body></ac:task><ac:task><ac:task-id>2</ac:task-id>"
        "<ac:task-status>complete</ac:task-status><ac:task-body>done</ac:task-body></ac:task>"
        "<ac:task-list><ac:task><ac:task-id>3</ac:task-id><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>nested</ac:task-body></ac:task></ac:task-list></ac:task-list>")


def test_mixed_task_and_plain_items_split_into_runs() -> None:
    out = storage("- [ ] task\n- plain\n- [x] task two")
    assert out == ("<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>"
                   "<ac:task-body>task</ac:task-body></ac:task></ac:task-list><ul><li>plain</li></ul>"
                   "<ac:task-list><ac:task><ac:task-id>2</ac:task-id><ac:task-status>complete</ac:task-status>"
                   "<ac:task-body>task two</ac:task-body></ac:task></ac:task-list>")


def test_tasks_show_their_state() -> None:
    doc = shown("- [ ] open\n- [x] done")
    states = [(item.text_content().strip(), bool(item.xpath(".//input/@checked"))) for item in doc.xpath("//li")]
    assert states == [("open", False), ("done", True)]


# -- tables, footnotes, breaks, toc -------------------------------------------------------


def test_tables_with_alignment_markup_escaped_pipes_and_empty_cells() -> None:
    assert storage("| L | C | R |\n|:--|:-:|--:|\n| **b** | a \\| b | |") == (
        '<table><tbody><tr><th style="text-align: left;">L</th><th style="text-align: center;">C</th>'
        '<th style="text-align: right;">R</th></tr><tr><td style="text-align: left;"><strong>b</strong></td>'
        '<td style="text-align: center;">a | b</td><td style="text-align: right;" /></tr></tbody></table>')


def test_footnotes_link_to_a_closing_list() -> None:
    assert storage("Text[^n].\n\n[^n]: The note.") == (
        '<p>Text<sup><ac:link ac:anchor="fn-n"><ac:link-body>1</ac:link-body>'
        '</ac:link></sup>.</p><hr /><ol><li><ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">fn-n'
        "</ac:parameter></ac:structured-macro><p>The note.</p></li></ol>")


def test_thematic_break_and_toc_marker() -> None:
    assert storage("a\n\n---\n\nb") == "<p>a</p><hr /><p>b</p>"
    assert storage("[TOC]\n\n# A") == '<ac:structured-macro ac:name="toc" /><h1>A</h1>'


# -- raw HTML as READMEs use it -----------------------------------------------------------


def test_centered_logo_paragraph() -> None:
    out = storage('<p align="center">\n  <img src="docs/logo.png" width="200" alt="Logo">\n</p>')
    assert out.startswith('<p style="text-align: center;"><ac:image ac:alt="Logo" ac:width="200">'
                          '<ri:attachment ri:filename="logo.png" /></ac:image>')


def test_badges_picture_and_comments() -> None:
    out = storage('<a href="https://ci.example"><img src="https://ci.example/badge.svg"></a>\n'
                  "<!-- a note to myself -->")
    assert out == ('<p><a href="https://ci.example"><ac:image><ri:url ri:value="https://ci.example/badge.svg" />'
                   "</ac:image></a></p>")
    picture = storage('<picture>\n<source media="(prefers-color-scheme: dark)" srcset="dark.png">\n'
                      '<img alt="Logo" src="light.png">\n</picture>')
    assert '<ri:attachment ri:filename="light.png" />' in picture and "dark.png" not in picture


def test_unknown_html_is_visible_text_never_markup() -> None:
    out = storage('Hi <iframe src="https://evil.example"></iframe> <script>alert(1)</script>')
    assert "<iframe" not in out and "<script" not in out
    assert "&lt;iframe" in out and "alert(1)" in out
    block = storage("<video controls>\n<source src=x.mp4>\n</video>")
    assert "&lt;video controls&gt;" in block


def test_raw_html_tables_and_lists_are_kept_as_storage() -> None:
    assert storage("<table>\n<tr><th>A</th></tr>\n<tr><td>1</td></tr>\n</table>") == (
        "<table><tr><th>A</th></tr><tr><td>1</td></tr></table>")


# -- front matter and title ---------------------------------------------------------------


def test_front_matter_title_and_labels() -> None:
    converted = convert_markdown("---\ntitle: Guide\nlabels: [Setup, ops]\n---\n# Heading\n\nBody", path="g.md")
    assert converted.title == "Guide" and converted.labels == ("setup", "ops")
    assert converted.storage == "<h1>Heading</h1><p>Body</p>"  # the H1 stays: it is not the title
    assert converted.front_matter.data["title"] == "Guide"


def test_title_from_first_heading_then_file_name() -> None:
    converted = convert_markdown("# The Title\n\nBody", path="docs/page.md")
    assert converted.title == "The Title" and converted.storage == "<p>Body</p>"
    kept = convert_markdown("# The Title\n\nBody", path="docs/page.md", title_from_heading=False)
    assert kept.title == "page" and kept.storage == "<h1>The Title</h1><p>Body</p>"
    assert convert_markdown("Just text", path="docs/getting-started.md").title == "getting-started"


def test_markdown_to_storage_keeps_headings_and_drops_front_matter() -> None:
    assert markdown_to_storage("---\ntitle: T\n---\n# Head") == "<h1>Head</h1>"


# -- invariants ---------------------------------------------------------------------------


def test_output_is_deterministic() -> None:
    text = "# A\n\n- [ ] t\n\n```py\nx\n```\n\n> [!NOTE]\n> n\n\n[^1]\n\n[^1]: f"
    assert storage(text) == storage(text)


def test_characters_xml_cannot_carry_are_replaced_visibly() -> None:
    converted = convert_markdown("bell\x07 nul\x00 surrogate\ud800 ok", path="a.md")
    assert converted.storage == "<p>bell\ufffd nul\ufffd surrogate\ufffd ok</p>"
    assert converted.warnings


def test_too_deep_nesting_degrades_to_visible_text() -> None:
    markdown = ">" * 150 + " deep"
    out = storage(markdown)
    parse_storage(out)
    assert "deep" in out


# -- cases the fidelity comparison with markdown-it found ---------------------------------


def test_fence_language_is_unescaped_like_markdown_it_does() -> None:
    assert storage("``` c\\+\\+\nx\n```") == code_macro("x", language="cpp")
    assert storage("``` f&ouml;&ouml;\nx\n```") == code_macro("x", language="föö")


def test_a_link_without_text_stays_an_empty_plain_link() -> None:
    # An empty ac:link would show the file name; the Markdown showed nothing.
    assert storage("[](report.pdf)") == '<p><a href="report.pdf" /></p>'


def test_an_ordered_list_split_by_tasks_keeps_its_numbers() -> None:
    assert storage("1. [x] a\n2. b\n3. c").endswith('<ol start="2"><li>b</li><li>c</li></ol>')


def test_repeated_headings_get_distinct_anchors() -> None:
    out = storage("# A\n\n# A\n\n[first](#a) [second](#a-1)")
    assert 'ac:anchor="A"' in out and 'ac:anchor="A.1"' in out
    assert shown("# A\n\n# A").xpath("//h1/@id") == ["A", "A.1"]


# -- every construct, as Confluence shows it (through view.py) ----------------------------

PAGES = {"other.md": "Other Page"}


def _page_links(target: str, fragment: str | None) -> LinkTarget | None:
    if target in PAGES:
        return LinkTarget("page", title=PAGES[target], anchor="Part" if fragment else None)
    return LinkTarget("attachment", path=target)


def seen(markdown: str) -> Any:
    converted = convert_markdown(markdown, path="p.md", resolve_link=_page_links, title_from_heading=False)
    return html.fromstring(render_storage(converted.storage, resolve_page=lambda title, space: f"/pages/{title}",
                                          resolve_attachment=lambda name, page: f"/files/{name}"))


@pytest.mark.parametrize(("markdown", "xpath", "expected"), [
    ("**b** *i* ~~s~~ `c`", "//p/*/text()", ["b", "i", "s", "c"]),
    ("H<sub>2</sub>O x<sup>2</sup> <u>u</u>", "//sub/text()|//sup/text()|//u/text()", ["2", "2", "u"]),
    ("<kbd>Ctrl</kbd>", "//code/text()", ["Ctrl"]),
    ("<mark>hi</mark>", "//span[contains(@style,'background')]/text()", ["hi"]),
    ("[o](other.md#part)", "//a/@href", ["/pages/Other%20Page#Part"]),
    ("[f](files/r.pdf)", "//a/@href", ["/files/r.pdf"]),
    ("[ext](https://example.com)", "//a/@href", ["https://example.com"]),
    ("## Part\n\n[up](#part)", "//a/@href", ["#Part"]),
    ("![logo](img/logo.png)", "//img/@src", ["/files/logo.png"]),
    ("> [!IMPORTANT]\n> Read", "//div[contains(@class,'panel')]//p/text()", ["Read"]),
    ("> [!TIP]\n> Try", "//div[contains(@class,'panel-tip')]//p/text()", ["Try"]),
    ('!!! warning "Heads up"\n    Careful', "//div[contains(@class,'panel-note')]//text()", ["Heads up", "Careful"]),
    ("<details>\n<summary>More</summary>\n\nHidden\n\n</details>", "//details/summary/text()", ["More"]),
    ("<details>\n<summary>More</summary>\n\nHidden\n\n</details>", "//details//p/text()", ["Hidden"]),
    ("Note[^1]\n\n[^1]: Footnote text", "//sup/a/@href", ["#fn-1"]),
    ("Note[^1]\n\n[^1]: Footnote text", "//ol/li//p/text()", ["Footnote text"]),
    ("[TOC]\n\n## One\n\n## Two", "//nav//a/text()", ["One", "Two"]),
    ("a\n\n---\n\nb", "count(//hr)", 1.0),
    ("> quoted\n>> deeper", "//blockquote/blockquote/p/text()", ["deeper"]),
    ("3. c\n4. d", "//ol/@start", ["3"]),
    ("| a |\n|--:|\n| 1 |", "//td/@style", ["text-align: right"]),
    ('<p align="center">Centered</p>', "//p[contains(@style,'center')]/text()", ["Centered"]),
    ("x <iframe></iframe>", "//p/text()", ["x <iframe></iframe>"]),
])
def test_construct_as_confluence_shows_it(markdown: str, xpath: str, expected: Any) -> None:
    assert seen(markdown).xpath(xpath) == expected
