"""Tests for mdsync.preview.view: storage format -> HTML as Confluence shows it.

Expectations are written by hand from the rendering rules; each test parses the output
with lxml.html and checks elements, attributes and text.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdsync.preview.view import VIEW_CSS, heading_anchor, render_storage
from mdsync.storage.xhtml import StorageParseError

# ------------------------------------------------------------------ helpers


def render(storage: str, **resolvers: object) -> lxml.html.HtmlElement:
    """Render and parse the output; the fragment is always one div.confluence-view."""
    html = render_storage(storage, **resolvers)  # type: ignore[arg-type]
    root = lxml.html.fragment_fromstring(html)
    assert root.tag == "div"
    assert root.get("class") == "confluence-view"
    return root


def one(root: lxml.html.HtmlElement, xpath: str) -> lxml.html.HtmlElement:
    found = root.xpath(xpath)
    assert len(found) == 1, f"{xpath!r} matched {len(found)}: {lxml.html.tostring(root, encoding='unicode')}"
    return found[0]


def classes(element: lxml.html.HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def macro(name: str, body: str = "", **params: str) -> str:
    parts = [
        f'<ac:parameter ac:name="{key}">{escape(value)}</ac:parameter>' for key, value in params.items()
    ]
    return f'<ac:structured-macro ac:name="{name}" ac:schema-version="1">{"".join(parts)}{body}</ac:structured-macro>'


def rich(body: str) -> str:
    return f"<ac:rich-text-body>{body}</ac:rich-text-body>"


def plain(text: str) -> str:
    return f"<ac:plain-text-body><![CDATA[{text}]]></ac:plain-text-body>"


def child_tags(element: lxml.html.HtmlElement) -> list[str]:
    return [child.tag for child in element if isinstance(child.tag, str)]


_BLOCK = {
    "address", "article", "aside", "blockquote", "details", "div", "dl", "dd", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "menu", "nav", "ol",
    "p", "pre", "section", "summary", "table", "ul", "h1", "h2", "h3", "h4", "h5", "h6",
}


def html5_problems(root: lxml.html.HtmlElement) -> list[str]:
    """Places where an HTML5 parser would restructure the tree (the output must have none)."""
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        ancestors = {a.tag for a in element.iterancestors()}
        if element.tag in _BLOCK and "p" in ancestors:
            problems.append(f"<{element.tag}> inside <p>")
        if element.tag == "a" and "a" in ancestors:
            problems.append("<a> inside <a>")
        if element.tag in {"h1", "h2", "h3", "h4", "h5", "h6"} and ancestors & {"h1", "h2", "h3", "h4", "h5", "h6"}:
            problems.append("heading inside heading")
        if element.tag == "li" and element.getparent().tag not in ("ul", "ol"):
            problems.append("<li> outside a list")
        proper = {
            "table": {"caption", "colgroup", "thead", "tbody", "tfoot", "tr"},
            "thead": {"tr"}, "tbody": {"tr"}, "tfoot": {"tr"}, "tr": {"td", "th"}, "colgroup": {"col"},
        }.get(element.tag)
        if proper is not None:
            for child in element:
                if child.tag not in proper:
                    problems.append(f"<{child.tag}> directly in <{element.tag}>")
                if (child.tail or "").strip():
                    problems.append(f"text directly in <{element.tag}>")
            if (element.text or "").strip():
                problems.append(f"text directly in <{element.tag}>")
        if element.tag in ("td", "th") and element.getparent().tag != "tr":
            problems.append(f"<{element.tag}> outside a row")
    return problems


# ------------------------------------------------------------------ heading anchors


def test_heading_anchor_replaces_whitespace_runs_and_keeps_case_and_punctuation() -> None:
    assert heading_anchor("Set up:  the\tCLI!") == "Set-up:-the-CLI!"
    assert heading_anchor("  Über uns (FAQ) ") == "Über-uns-(FAQ)"
    assert heading_anchor("one\u00a0two\nthree") == "one-two-three"
    assert heading_anchor("") == ""


def test_headings_get_ids_that_anchor_links_reach() -> None:
    root = render(
        "<h1>Getting  started</h1><h2>Install <em>it</em></h2><h2>Install it</h2>"
        '<p><ac:link ac:anchor="Install-it"><ac:plain-text-link-body><![CDATA[jump]]></ac:plain-text-link-body></ac:link></p>'
    )
    assert [h.get("id") for h in root.xpath("//h1|//h2")] == ["Getting-started", "Install-it", "Install-it.1"]
    link = one(root, "//p/a")
    assert link.get("href") == "#Install-it"
    assert link.text == "jump"
    assert root.xpath(f"//*[@id='{link.get('href')[1:]}']")[0].tag == "h2"


# ------------------------------------------------------------------ plain XHTML


def test_plain_xhtml_passes_through() -> None:
    root = render(
        '<p style="text-align: center;">a <strong>b</strong> <em>c</em> <u>d</u> <s>e</s> <del>f</del> '
        "<sub>g</sub><sup>h</sup> <code>i</code> <strike>j</strike> <tt>k</tt><br />l</p>"
        "<pre>pre  text</pre><blockquote><p>quoted</p></blockquote><hr />"
        '<ol start="3"><li>three<ul><li>nested</li></ul></li></ol>'
        '<p><span style="color: rgb(255,0,0);">red</span> <a href="https://example.com/x?a=1&amp;b=2" title="T">ext</a> '
        '<a href="mailto:me@example.com">mail</a> <a href="../other">rel</a> <a href="#frag">frag</a></p>'
        "<div><p>in div</p></div>"
    )
    p = root.xpath("./p")[0]
    assert p.get("style") == "text-align: center"
    assert child_tags(p) == ["strong", "em", "u", "s", "del", "sub", "sup", "code", "s", "code", "br"]
    assert p.text_content() == "a b c d e f gh i j kl"
    assert one(root, "./pre").text == "pre  text"
    assert one(root, "./blockquote/p").text == "quoted"
    assert len(root.xpath("./hr")) == 1
    ol = one(root, "./ol")
    assert ol.get("start") == "3"
    assert one(ol, "./li/ul/li").text == "nested"
    assert one(root, "//span").get("style") == "color: rgb(255,0,0)"
    hrefs = [a.get("href") for a in root.xpath("//a")]
    assert hrefs == ["https://example.com/x?a=1&b=2", "mailto:me@example.com", "../other", "#frag"]
    assert root.xpath("//a")[0].get("title") == "T"
    assert one(root, "./div/p").text == "in div"


def test_tables_keep_structure_spans_and_column_widths() -> None:
    root = render(
        '<table data-layout="wide" ac:local-id="t1"><colgroup><col style="width: 200.0px;" /><col /></colgroup>'
        '<thead><tr><th scope="col">H1</th><th>H2</th></tr></thead>'
        '<tbody><tr local-id="r"><td colspan="2" data-highlight-colour="#ffe7e7">wide</td></tr>'
        '<tr><td rowspan="2">tall</td><td><p>x</p><ul><li>y</li></ul></td></tr></tbody></table>'
    )
    table = one(root, "./table")
    assert child_tags(table) == ["colgroup", "thead", "tbody"]
    assert table.get("data-layout") == "wide"
    assert table.get("local-id") is None and len(table.attrib) == 1
    assert [c.get("style") for c in table.xpath("./colgroup/col")] == ["width: 200.0px", None]
    assert [th.text for th in table.xpath("./thead/tr/th")] == ["H1", "H2"]
    assert table.xpath("./thead/tr/th")[0].get("scope") == "col"
    wide = one(table, ".//td[@colspan]")
    assert (wide.get("colspan"), wide.text) == ("2", "wide")
    assert wide.get("style") == "background-color: #ffe7e7"
    assert one(table, ".//td[@rowspan]").get("rowspan") == "2"
    assert one(table, ".//td/ul/li").text == "y"
    assert table.xpath(".//tr[@local-id]") == []


def test_misplaced_table_content_is_moved_into_cells_not_lost() -> None:
    root = render("<table><tbody>loose<tr><td>a</td>inrow</tr><p>para</p></tbody><td>bare</td></table><p><td>cell</td></p>")
    assert html5_problems(root) == []
    table = one(root, "./table")
    cells = [td.text_content() for td in table.iter("td")]
    assert cells == ["loose", "a", "inrow", "para", "bare"]
    assert one(root, "./p").text == "cell"


def test_unknown_tags_are_unwrapped_and_volatile_attributes_dropped() -> None:
    root = render(
        '<p local-id="abc" ac:local-id="def" data-foo="1" class="x" id="y"><custom-tag>kept <b>text</b></custom-tag>'
        '<font color="red">font</font></p><h2 local-id="h">T</h2>'
    )
    p = one(root, "./p")
    assert p.attrib == {}
    assert p.text_content() == "kept textfont"
    assert child_tags(p) == ["b"]
    assert one(root, "./h2").attrib == {"id": "T"}


def test_style_attributes_keep_only_simple_safe_properties() -> None:
    root = render(
        '<p style="color: #ff0000; position: fixed; background-color: yellow; margin-left: 30.0px; '
        'background-image: url(http://evil/x); width: expression(alert(1)); text-decoration: line-through">a</p>'
        '<span style="color: red; behavior: url(x.htc)">b</span><span style="color: url(x)">c</span>'
    )
    assert one(root, "./p").get("style") == (
        "color: #ff0000; background-color: yellow; margin-left: 30.0px; text-decoration: line-through"
    )
    spans = root.xpath("./span")
    assert spans[0].get("style") == "color: red"
    assert spans[1].get("style") is None


def test_empty_spacer_paragraphs_are_kept_as_empty_paragraphs() -> None:
    root = render("<p>a</p><p /><p><br /></p><p>b</p>")
    paragraphs = root.xpath("./p")
    assert [p.text_content() for p in paragraphs] == ["a", "", "", "b"]
    assert child_tags(paragraphs[2]) == ["br"]


def test_named_entities_and_special_characters_are_escaped_text() -> None:
    html = render_storage("<p>&nbsp;&ndash;&rsquo; &lt;b&gt; &amp; \"q\"</p>")
    root = lxml.html.fragment_fromstring(html)
    assert one(root, "./p").text == "\u00a0\u2013\u2019 <b> & \"q\""
    assert "<b>" not in html


# ------------------------------------------------------------------ code


def test_code_macro_renders_language_title_and_exact_text() -> None:
    code_text = 'if a < b && c > "d":\n    print(\'x\')\n'
    root = render(macro("code", plain(code_text), language="py", title="Example"))
    block = one(root, "./div")
    assert classes(block) == {"code-block"}
    assert block.get("data-language") == "py"
    assert one(block, "./div[@class='code-title']").text == "Example"
    code = one(block, "./pre/code")
    assert code.get("class") == "language-py"
    assert code.text_content() == code_text  # highlighted, the text is still exactly the code
    assert [(span.get("class"), span.text) for span in code.xpath("./span[@class='k' or @class='s2']")] \
        == [("k", "if"), ("s2", '"d"')]


def test_code_macro_joins_cdata_split_around_the_end_marker() -> None:
    storage = '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[a]]]]><![CDATA[>b]]></ac:plain-text-body></ac:structured-macro>'
    code = one(render(storage), "//pre/code")
    assert code.text == "a]]>b"
    assert code.get("class") is None


def test_code_macro_line_numbers_are_visible_and_start_at_firstline() -> None:
    root = render(macro("code", plain("one\ntwo\n"), language="bash", linenumbers="true", firstline="7"))
    code = one(root, "//pre/code")
    assert "linenumbers" in classes(code)
    lines = code.xpath("./span[@class='line']")
    assert [line.xpath("./span[@class='line-number']")[0].text for line in lines] == ["7", "8"]
    assert [line.text_content() for line in lines] == ["7one", "8two"]


def test_legacy_code_macro_and_noformat() -> None:
    root = render(
        '<ac:macro ac:name="code"><ac:parameter ac:name="language">java</ac:parameter>'
        "<ac:plain-text-body><![CDATA[int x;]]></ac:plain-text-body></ac:macro>"
        + macro("noformat", plain("\nkeep  <this>"))
    )
    assert one(root, "./div[@data-language='java']/pre/code").text_content() == "int x;"
    pre = one(root, "./pre")
    assert "noformat" in classes(pre)
    assert pre.text.lstrip("\n") == "keep  <this>"
    # HTML5 parsers drop one newline right after <pre>; it is doubled so the text survives.
    assert '<pre class="noformat">\n\nx</pre>' in render_storage(macro("noformat", plain("\nx")))


# ------------------------------------------------------------------ panels, expand, status


@pytest.mark.parametrize("name", ["info", "tip", "note", "warning"])
def test_admonition_macros_become_coloured_panels(name: str) -> None:
    root = render(macro(name, rich("<p>Body <strong>text</strong></p>"), title="Heads up"))
    panel = one(root, "./div")
    assert classes(panel) == {"panel", f"panel-{name}"}
    assert one(panel, "./div[@class='panel-title']").text == "Heads up"
    assert one(panel, "./div[@class='panel-body']/p").text_content() == "Body text"


def test_admonition_without_title_has_no_title_bar() -> None:
    panel = one(render(macro("info", rich("<p>x</p>"))), "./div")
    assert panel.xpath("./div[@class='panel-title']") == []


def test_generic_panel_keeps_title_and_safe_colours() -> None:
    root = render(
        macro("panel", rich("<p>inside</p>"), title="Box", bgColor="#E3FCEF", borderStyle="dashed", titleColor="white")
        + macro("panel", rich("<p>evil</p>"), bgColor="red;background:url(javascript:x)")
    )
    first, second = root.xpath("./div")
    assert classes(first) == {"panel", "panel-generic"}
    assert first.get("style") == "background-color: #E3FCEF; border-style: dashed"
    title = one(first, "./div[@class='panel-title']")
    assert (title.text, title.get("style")) == ("Box", "color: white")
    assert second.get("style") is None
    assert one(second, ".//p").text == "evil"


def test_expand_becomes_details_with_summary() -> None:
    root = render(macro("expand", rich("<p>hidden</p>" + macro("expand", rich("<p>inner</p>"))), title="More"))
    details = one(root, "./details")
    assert one(details, "./summary").text == "More"
    inner = one(details, ".//details")
    assert one(inner, "./summary").text == "Click here to expand..."
    assert one(inner, ".//p").text == "inner"


def test_status_lozenge() -> None:
    root = render(
        "<p>"
        + macro("status", colour="Green", title="Done")
        + macro("status", colour="Mauve", title="odd")
        + macro("status", colour="Blue", title="x", subtle="true")
        + "</p>"
    )
    spans = root.xpath("./p/span")
    assert [(s.get("class"), s.text) for s in spans] == [
        ("status status-green", "Done"),
        ("status status-grey", "odd"),
        ("status status-blue status-subtle", "x"),
    ]


# ------------------------------------------------------------------ anchors, toc, jira, excerpt, unknown


def test_anchor_macro_and_same_page_link() -> None:
    root = render(
        '<p><ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">here</ac:parameter></ac:structured-macro>x</p>'
        '<p><ac:link ac:anchor="here"><ac:plain-text-link-body><![CDATA[go]]></ac:plain-text-link-body></ac:link></p>'
    )
    target = one(root, "//a[@id]")
    assert target.get("id") == "here"
    assert target.text_content() == ""
    assert one(root, "//a[@href]").get("href") == "#here"


def test_toc_lists_headings_within_levels_as_nested_links() -> None:
    root = render(
        macro("toc", maxLevel="3", minLevel="2")
        + "<h1>Title</h1><h2>Alpha one</h2><h3>Beta</h3><h4>Too deep</h4><h2>Gamma</h2>"
    )
    nav = one(root, "./nav")
    assert "toc" in classes(nav)
    top = one(nav, "./ul")
    assert [a.text for a in top.xpath("./li/a")] == ["Alpha one", "Gamma"]
    assert [a.get("href") for a in top.xpath("./li/a")] == ["#Alpha-one", "#Gamma"]
    assert [a.text for a in top.xpath("./li[1]/ul/li/a")] == ["Beta"]
    assert "Title" not in nav.text_content() and "Too deep" not in nav.text_content()
    for link in nav.iter("a"):
        assert len(root.xpath(f"//*[@id='{link.get('href')[1:]}']")) == 1


def test_jira_issue_key_and_excerpt_body() -> None:
    root = render(
        "<p>" + macro("jira", server="System JIRA", key="ABC-123") + "</p>"
        + macro("excerpt", rich("<p>The summary</p>"))
    )
    assert one(root, "./p/span").text == "ABC-123"
    assert one(root, "./div[@class='excerpt']/p").text == "The summary"


@pytest.mark.parametrize("name", ["children", "pagetree", "attachments", "totally-made-up"])
def test_dynamic_and_unknown_macros_are_shown_never_dropped(name: str) -> None:
    storage = macro(name, rich("<p>body text</p>"), depth="2")
    box = one(render(storage), "./div")
    assert {"macro", "macro-unknown"} <= classes(box)
    assert box.get("data-macro-name") == name
    assert one(box, "./div[@class='macro-name']").text == name
    assert [(dt.text, dd.text) for dt, dd in zip(box.xpath(".//dt"), box.xpath(".//dd"))] == [("depth", "2")]
    assert one(box, ".//div[@class='macro-body']/p").text == "body text"


def test_unknown_macro_parameters_that_hold_links_and_plain_bodies_are_shown() -> None:
    storage = (
        '<ac:structured-macro ac:name="include"><ac:parameter ac:name="">'
        '<ac:link><ri:page ri:content-title="Shared bits" /></ac:link></ac:parameter></ac:structured-macro>'
        + macro("plantuml", plain("A -> B"))
    )
    boxes = render(storage).xpath("./div")
    assert one(boxes[0], ".//dt").text == "(default)"
    assert one(boxes[0], ".//dd/a").text == "Shared bits"
    assert one(boxes[1], "./pre").text == "A -> B"


# ------------------------------------------------------------------ Cloud ADF


def adf_panel(panel_type: str, text: str, fallback: str = "") -> str:
    return (
        '<ac:adf-extension><ac:adf-node type="panel" local-id="1">'
        f'<ac:adf-attribute key="panel-type">{panel_type}</ac:adf-attribute>'
        f"<ac:adf-content><p>{text}</p></ac:adf-content></ac:adf-node>"
        f"<ac:adf-fallback>{fallback}</ac:adf-fallback></ac:adf-extension>"
    )


@pytest.mark.parametrize(
    ("panel_type", "expected"),
    [
        ("info", "panel-info"),
        ("note", "panel-info"),
        ("success", "panel-tip"),
        ("warning", "panel-note"),
        ("error", "panel-warning"),
    ],
)
def test_adf_panels_use_panel_type_and_ignore_the_fallback(panel_type: str, expected: str) -> None:
    root = render(adf_panel(panel_type, "Only once", '<div class="panel"><p>Only once</p></div>'))
    panel = one(root, "./div")
    assert {"panel", expected, f"panel-adf-{panel_type}"} <= classes(panel)
    assert root.text_content().count("Only once") == 1


def test_adf_decision_list_marks_decided_items() -> None:
    storage = (
        '<ac:adf-extension><ac:adf-node type="decision-list">'
        '<ac:adf-node type="decision-item"><ac:adf-attribute key="state">DECIDED</ac:adf-attribute>'
        "<ac:adf-content>Ship it</ac:adf-content></ac:adf-node>"
        '<ac:adf-node type="decision-item"><ac:adf-attribute key="state">UNDECIDED</ac:adf-attribute>'
        "<ac:adf-content>Rename it</ac:adf-content></ac:adf-node></ac:adf-node>"
        '<ac:adf-fallback><ul class="decision-list"><li>Ship it</li><li>Rename it</li></ul></ac:adf-fallback>'
        "</ac:adf-extension>"
    )
    root = render(storage)
    items = one(root, "./ul").xpath("./li")
    assert [li.text_content() for li in items] == ["✓ Ship it", "Rename it"]
    assert "decision-decided" in classes(items[0]) and "decision-undecided" in classes(items[1])


def test_adf_fallback_is_used_only_for_nodes_not_understood() -> None:
    storage = (
        '<ac:adf-extension><ac:adf-node type="extension"><ac:adf-attribute key="extension-key">app</ac:adf-attribute>'
        "</ac:adf-node><ac:adf-fallback><p>Fallback view</p></ac:adf-fallback></ac:adf-extension>"
        '<ac:adf-extension><ac:adf-node type="mystery"><ac:adf-content><p>no fallback</p></ac:adf-content></ac:adf-node></ac:adf-extension>'
    )
    root = render(storage)
    assert one(root, ".//p[.='Fallback view']") is not None
    assert "app" not in root.text_content()
    box = one(root, "./div[@data-adf-type='mystery']")
    assert "macro-unknown" in classes(box)
    assert one(box, ".//p").text == "no fallback"


# ------------------------------------------------------------------ tasks


def test_task_lists_render_checkboxes_and_nest() -> None:
    storage = (
        "<ac:task-list>"
        "<ac:task><ac:task-id>17</ac:task-id><ac:task-uuid>uuid-1</ac:task-uuid><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>Write <strong>docs</strong></ac:task-body></ac:task>"
        "<ac:task><ac:task-id>18</ac:task-id><ac:task-status>incomplete</ac:task-status><ac:task-body>Test"
        "<ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status><ac:task-body>Sub</ac:task-body></ac:task></ac:task-list>"
        "</ac:task-body></ac:task>"
        "<ac:task-list><ac:task><ac:task-status>complete</ac:task-status><ac:task-body>Sibling nest</ac:task-body></ac:task></ac:task-list>"
        "</ac:task-list>"
    )
    root = render(storage)
    top = one(root, "./ul")
    assert classes(top) == {"task-list"}
    items = top.xpath("./li")
    assert [classes(li) for li in items] == [{"task", "task-complete"}, {"task", "task-incomplete"}]
    first_box = one(items[0], "./input")
    assert first_box.get("type") == "checkbox"
    assert "disabled" in first_box.attrib and "checked" in first_box.attrib
    assert "checked" not in one(items[1], "./input").attrib
    assert one(items[0], "./span[@class='task-body']").text_content() == "Write docs"
    nested = items[1].xpath(".//ul[@class='task-list']/li")
    assert [li.text_content().strip() for li in nested] == ["Sub", "Sibling nest"]
    assert "checked" in nested[1].xpath("./input")[0].attrib
    text = root.text_content()
    assert "17" not in text and "uuid" not in text


# ------------------------------------------------------------------ images


def test_attachment_image_uses_the_resolver_and_caption_figure() -> None:
    calls: list[tuple[str, str | None]] = []

    def attachments(name: str, page: str | None) -> str | None:
        calls.append((name, page))
        return f"/files/{name}"

    storage = (
        '<ac:image ac:align="center" ac:width="600" ac:height="40" ac:alt="Diagram" ac:title="tip">'
        '<ri:attachment ri:filename="diagram.png" ri:version-at-save="1" /><ac:caption><p>The caption</p></ac:caption></ac:image>'
        '<p><ac:image><ri:attachment ri:filename="other.png"><ri:page ri:content-title="Elsewhere" /></ri:attachment></ac:image></p>'
    )
    root = render(storage, resolve_attachment=attachments)
    figure = one(root, "./figure")
    img = one(figure, "./img")
    assert (img.get("src"), img.get("alt"), img.get("title"), img.get("width"), img.get("height")) == (
        "/files/diagram.png", "Diagram", "tip", "600", "40",
    )
    assert "image-align-center" in classes(img)
    assert one(figure, "./figcaption/p").text == "The caption"
    assert one(root, "./p/img").get("src") == "/files/other.png"
    assert calls == [("diagram.png", None), ("other.png", "Elsewhere")]


@pytest.mark.parametrize("resolver", [None, lambda name, page: None])
def test_missing_attachment_image_stays_visible(resolver: object) -> None:
    root = render('<p><ac:image ac:alt="Pic"><ri:attachment ri:filename="gone.png" /></ac:image></p>', resolve_attachment=resolver)
    img = one(root, "//img")
    assert img.get("src") is None
    assert img.get("alt") == "Pic"
    assert img.get("data-missing-attachment") == "gone.png"
    assert root.text_content() == "gone.png"


def test_url_image() -> None:
    root = render(
        '<ac:image ac:alt="logo"><ri:url ri:value="https://example.com/logo.png" /></ac:image>'
        '<ac:image><ri:url ri:value=" https://example.com/my logo.png&#10;" /></ac:image>'
    )
    first, second = root.xpath("//img")
    assert (first.get("src"), first.get("alt")) == ("https://example.com/logo.png", "logo")
    assert second.get("src") == "https://example.com/my%20logo.png"


# ------------------------------------------------------------------ links


def pages(title: str, space: str | None) -> str | None:
    known = {("Other Page", None): "/pages/1", ("Other Page", "DOCS"): "/pages/2", ("Home", None): "/pages/3"}
    return known.get((title, space))


def test_page_links_resolve_with_anchor_and_bodies() -> None:
    storage = (
        '<p><ac:link ac:anchor="Section-1"><ri:page ri:space-key="DOCS" ri:content-title="Other Page" />'
        "<ac:plain-text-link-body><![CDATA[plain <text>]]></ac:plain-text-link-body></ac:link> "
        '<ac:link><ri:page ri:content-title="Home" /><ac:link-body>Some <strong>rich</strong> text</ac:link-body></ac:link> '
        '<ac:link><ri:page ri:content-title="Other Page" /></ac:link> '
        '<ac:link><ri:page ri:content-title="Nowhere" /></ac:link></p>'
    )
    links = render(storage, resolve_page=pages).xpath("//a")
    assert [(a.get("href"), a.text_content()) for a in links] == [
        ("/pages/2#Section-1", "plain <text>"),
        ("/pages/3", "Some rich text"),
        ("/pages/1", "Other Page"),
        (None, "Nowhere"),
    ]
    assert child_tags(links[1]) == ["strong"]
    assert classes(links[3]) == {"unresolved"}


def test_page_links_without_resolver_are_unresolved_but_visible() -> None:
    link = one(render('<p><ac:link><ri:page ri:content-title="Home" /></ac:link></p>'), "//a")
    assert (link.get("href"), link.get("class"), link.text) == (None, "unresolved", "Home")


def test_other_link_kinds() -> None:
    storage = (
        '<p><ac:link><ri:attachment ri:filename="a.pdf" /><ac:plain-text-link-body><![CDATA[PDF]]></ac:plain-text-link-body></ac:link>'
        '|<ac:link><ri:attachment ri:filename="b.pdf" /></ac:link>'
        '|<ac:link><ri:user ri:account-id="557058:abc" ri:local-id="x" /></ac:link>'
        '|<ac:link><ri:user ri:username="jdoe" /></ac:link>'
        '|<ac:link><ri:url ri:value="https://example.com/" /></ac:link>'
        '|<ac:link><ri:blog-post ri:content-title="News" ri:posting-day="2024/01/02" /></ac:link>'
        '|<ac:link><ri:space ri:space-key="ENG" /></ac:link></p>'
    )
    root = render(storage, resolve_attachment=lambda name, page: "/att/a.pdf" if name == "a.pdf" else None)
    p = one(root, "./p")
    assert p.text_content().split("|") == ["PDF", "b.pdf", "@557058:abc", "@jdoe", "https://example.com/", "News", "ENG"]
    links = p.xpath("./a")
    assert [(a.get("href"), a.get("class")) for a in links] == [
        ("/att/a.pdf", None),
        (None, "unresolved"),
        ("https://example.com/", None),
    ]
    assert [s.text for s in p.xpath("./span[@class='mention']")] == ["@557058:abc", "@jdoe"]


# ------------------------------------------------------------------ emoticons, dates, placeholders, comments, layouts


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("smile", "🙂"), ("sad", "🙁"), ("cheeky", "😛"), ("laugh", "😃"), ("wink", "😉"),
        ("thumbs-up", "👍"), ("thumbs-down", "👎"), ("information", "ℹ️"), ("tick", "✅"),
        ("cross", "❌"), ("warning", "⚠️"), ("plus", "➕"), ("minus", "➖"), ("question", "❓"),
        ("light-on", "💡"), ("yellow-star", "⭐"),
    ],
)
def test_legacy_emoticons_map_to_emoji(name: str, expected: str) -> None:
    assert one(render(f'<p><ac:emoticon ac:name="{name}" /></p>'), "./p").text_content() == expected


def test_cloud_emoji_use_fallback_then_id() -> None:
    root = render(
        '<p><ac:emoticon ac:name="blue-star" ac:emoji-shortname=":grinning:" ac:emoji-id="1f600" ac:emoji-fallback="&#128512;" />'
        '|<ac:emoticon ac:name="blue-star" ac:emoji-shortname=":rocket:" ac:emoji-id="1f680" ac:emoji-fallback=":rocket:" />'
        '|<ac:emoticon ac:name="blue-star" ac:emoji-shortname=":custom:" ac:emoji-id="atlassian-custom" />'
        '|<ac:emoticon ac:name="red-star" />|<ac:emoticon ac:name="not-a-real-name" /></p>'
    )
    assert one(root, "./p").text_content().split("|") == ["😀", "🚀", ":custom:", "★", "(not-a-real-name)"]


def test_time_placeholder_and_inline_comment() -> None:
    root = render(
        '<p>Due <time datetime="2026-01-31" /> <ac:placeholder>Type here</ac:placeholder> '
        '<ac:inline-comment-marker ac:ref="0f1e">commented <em>words</em></ac:inline-comment-marker></p>'
    )
    time = one(root, "//time")
    assert (time.get("datetime"), time.get("title"), time.text) == ("2026-01-31", "2026-01-31", "Jan 31, 2026")
    assert one(root, "//span[@class='placeholder']").text == "Type here"
    p = one(root, "./p")
    assert p.text_content() == "Due Jan 31, 2026 Type here commented words"
    assert child_tags(p) == ["time", "span", "em"]


def test_layouts_become_grid_divs() -> None:
    storage = (
        '<ac:layout><ac:layout-section ac:type="two_right_sidebar" ac:breakout-mode="wide">'
        "<ac:layout-cell><p>main</p></ac:layout-cell><ac:layout-cell><p>side</p></ac:layout-cell>"
        '</ac:layout-section><ac:layout-section ac:type="single"><ac:layout-cell><p>one</p></ac:layout-cell>'
        "</ac:layout-section></ac:layout>"
    )
    layout = one(render(storage), "./div")
    assert classes(layout) == {"layout"}
    sections = layout.xpath("./div")
    assert classes(sections[0]) == {"layout-section", "layout-two_right_sidebar", "breakout-wide"}
    assert [c.text_content() for c in sections[0].xpath("./div[@class='layout-cell']")] == ["main", "side"]
    assert classes(sections[1]) == {"layout-section", "layout-single"}


def test_view_css_styles_every_class_it_promises() -> None:
    for selector in (
        ".panel-info", ".panel-tip", ".panel-note", ".panel-warning", ".code-block", ".status-green",
        "ul.task-list", "details.expand", ".layout-section", ".layout-two_equal", "th, .confluence-view td",
    ):
        assert selector in VIEW_CSS, selector
    assert re.search(r"\.panel-warning \{[^}]*#ffebe6", VIEW_CSS)  # warning is red
    assert re.search(r"\.panel-note \{[^}]*#fffae6", VIEW_CSS)  # note is yellow


# ------------------------------------------------------------------ hostile input


def test_scripts_styles_and_event_handlers_are_removed() -> None:
    html = render_storage(
        '<p onclick="alert(1)" onmouseover="x">a<script>alert("s")</script><style>p{}</style></p>'
        '<img src="x.png" onerror="alert(2)" /><svg><script>alert(3)</script><text>svgtext</text></svg>'
        "<p>&lt;script&gt;alert(4)&lt;/script&gt;</p>"
    )
    root = lxml.html.fragment_fromstring(html)
    assert root.xpath("//script|//style|//svg") == []
    assert all(not key.startswith("on") for el in root.iter() for key in el.attrib)
    assert "alert(1)" not in html and "alert(2)" not in html and "alert(3)" not in html
    assert root.xpath("./p")[1].text == "<script>alert(4)</script>"
    assert "svgtext" in root.text_content()


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "java&#10;script:alert(1)",
        "data:text/html,<b>x</b>",
        "vbscript:msgbox(1)",
    ],
)
def test_dangerous_urls_are_dropped(href: str) -> None:
    storage = (
        f"<p><a href={quoteattr(href).replace('&amp;#', '&#')}>link</a></p>"
        f"<ac:image><ri:url ri:value={quoteattr(href).replace('&amp;#', '&#')} /></ac:image>"
        f"<p><ac:link><ri:url ri:value={quoteattr(href).replace('&amp;#', '&#')} /><ac:plain-text-link-body><![CDATA[t]]></ac:plain-text-link-body></ac:link></p>"
        f'<img src={quoteattr(href).replace("&amp;#", "&#")} />'
    )
    html = render_storage(storage)
    root = lxml.html.fragment_fromstring(html)
    for element in root.iter():
        for key in ("href", "src"):
            assert element.get(key) is None, (key, element.get(key))
    assert [a.text for a in root.xpath("./p/a")] == ["link", "t"]
    assert len(root.xpath("//img")) == 2


def test_resolvers_cannot_inject_dangerous_urls() -> None:
    root = render(
        '<p><ac:link><ri:page ri:content-title="P" /></ac:link></p><ac:image><ri:attachment ri:filename="f.png" /></ac:image>',
        resolve_page=lambda title, space: "javascript:alert(1)",
        resolve_attachment=lambda name, page: "data:image/png;base64,AAAA",
    )
    assert one(root, "//a").get("href") is None
    assert one(root, "//img").get("src") is None
    assert one(root, "//img").get("data-missing-attachment") == "f.png"


@pytest.mark.parametrize(
    "storage",
    [
        "<p>unclosed",
        "<p>a</b>",
        "<hr>",
        "<p>a</p></br>",
        '<!DOCTYPE x [<!ENTITY e "boom">]><p>&e;</p>',
        "<p>&undefinedentity;</p>",
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[x]]></ac:structured-macro>',
    ],
)
def test_malformed_storage_raises_storage_parse_error(storage: str) -> None:
    with pytest.raises(StorageParseError):
        render_storage(storage)


def test_deep_nesting_renders_every_level() -> None:
    root = render("<blockquote>" * 200 + "<p>core</p>" + "</blockquote>" * 200)
    assert len(root.xpath("//blockquote")) == 200
    assert root.xpath("//p")[0].text == "core"
    assert len(root.xpath("//p")[0].xpath("ancestor::blockquote")) == 200


def test_nesting_at_the_parser_limit_through_macros_does_not_crash() -> None:
    layer = macro("info", rich("<ul><li>{}</li></ul>"))
    storage = "{}"
    for _ in range(60):  # 4 storage levels per layer: macro, body, ul, li
        storage = storage.format(layer)
    html = render_storage(storage.format("<p>core</p>"))
    assert "core" in html
    assert html.count('class="panel panel-info"') == 60


def test_block_content_inside_a_paragraph_keeps_its_structure() -> None:
    storage = (
        "<p>before" + macro("info", rich("<p>inner</p>")) + "after</p>"
        '<p><a href="https://a.example/">outer <ac:link><ri:page ri:content-title="Home" /></ac:link></a></p>'
        "<h2>head <h3>sub</h3></h2>"
    )
    html = render_storage(storage, resolve_page=pages)
    root = lxml.html.fragment_fromstring(html)
    assert html5_problems(root) == []
    wrapper = one(root, "./div[@class='p']")
    assert wrapper.text == "before"
    assert one(wrapper, "./div[contains(@class,'panel')]").tail == "after"
    outer = one(root, "./p/a")
    assert one(outer, "./span").text == "Home"
    # Parsing the output and serialising it again changes nothing.
    assert lxml.html.tostring(root, encoding="unicode") == html


# ------------------------------------------------------------------ property tests

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
_Fragment = tuple[str, list[str]]  # storage, words that must be visible in the output


def _leaf() -> st.SearchStrategy[_Fragment]:
    return st.one_of(
        _WORDS.map(lambda w: (w, [w])),
        st.just(("<br />", [])),
        st.just(("<p />", [])),
        st.just(('<col style="width: 10px" />', [])),
        _WORDS.map(lambda w: (macro("status", colour="Red", title=w), [w])),
        _WORDS.map(lambda w: (f'<ac:link><ri:page ri:content-title="{w}" /></ac:link>', [w])),
        _WORDS.map(lambda w: (f'<ac:link ac:anchor="{w}" />', [w])),
        _WORDS.map(lambda w: (macro("code", plain(f"{w} ]]]]><![CDATA[> <x>"), linenumbers="true"), [w])),
        _WORDS.map(lambda w: (f'<ac:image><ri:attachment ri:filename="{w}.png" /></ac:image>', [w])),
        _WORDS.map(lambda w: (macro("mystery", param=w), [w])),
        st.sampled_from(["smile", "tick", "nonsense"]).map(lambda n: (f'<ac:emoticon ac:name="{n}" />', [])),
        st.just(('<time datetime="2026-01-31" />', ["Jan 31, 2026"])),
        st.just((macro("toc"), [])),
        st.just(('<script>alert(1)</script>', [])),
    )


# Tags put anywhere, however wrong the place, to exercise the structure repairs.
_ANY_PLACE_TAGS = (
    "pre", "li", "td", "th", "tr", "tbody", "thead", "caption", "ol", "b", "i", "u", "s", "small", "h1",
    "h3", "del", "sub", "code", "blockquote", "div", "time", "br", "hr", "ac:layout",
    "ac:layout-section", "ac:layout-cell", "ac:task", "ac:task-body", "ac:adf-node", "ac:adf-content",
    "ac:adf-fallback", "ac:link-body", "ac:parameter", "ac:caption",
    "ac:rich-text-body", "ac:plain-text-body", "ac:placeholder",
)


def _wrap(children: st.SearchStrategy[_Fragment]) -> st.SearchStrategy[_Fragment]:
    wrappers = [
        ("<p>", "</p>"),
        ("<strong>", "</strong>"),
        ("<blockquote>", "</blockquote>"),
        ("<h2>", "</h2>"),
        ("<ul><li>", "</li></ul>"),
        ("<table><tbody><tr><td>", "</td></tr></tbody></table>"),
        ("<table>", "</table>"),
        ("<tr>", "</tr>"),
        ('<a href="javascript:x">', "</a>"),
        ('<span style="color: red">', "</span>"),
        ("<unknown-tag>", "</unknown-tag>"),
        ('<ac:structured-macro ac:name="info"><ac:rich-text-body>', "</ac:rich-text-body></ac:structured-macro>"),
        ('<ac:structured-macro ac:name="expand"><ac:rich-text-body>', "</ac:rich-text-body></ac:structured-macro>"),
        ('<ac:structured-macro ac:name="nope"><ac:rich-text-body>', "</ac:rich-text-body></ac:structured-macro>"),
        ("<ac:task-list><ac:task><ac:task-status>complete</ac:task-status><ac:task-body>", "</ac:task-body></ac:task></ac:task-list>"),
        ("<ac:task-list>", "</ac:task-list>"),
        ('<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell>', "</ac:layout-cell></ac:layout-section></ac:layout>"),
        ('<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note</ac:adf-attribute><ac:adf-content>',
         "</ac:adf-content></ac:adf-node><ac:adf-fallback>fallback</ac:adf-fallback></ac:adf-extension>"),
        ('<ac:link><ri:page ri:content-title="T" /><ac:link-body>', "</ac:link-body></ac:link>"),
        ('<ac:image><ri:url ri:value="https://x/y.png" /><ac:caption>', "</ac:caption></ac:image>"),
        ("<ac:inline-comment-marker>", "</ac:inline-comment-marker>"),
        *((f"<{tag}>", f"</{tag}>") for tag in _ANY_PLACE_TAGS),
    ]

    def build(opening_closing: tuple[str, str], items: list[_Fragment]) -> _Fragment:
        opening, closing = opening_closing
        return opening + "".join(s for s, _ in items) + closing, [w for _, words in items for w in words]

    return st.builds(build, st.sampled_from(wrappers), st.lists(children, max_size=4))


_FRAGMENTS = st.lists(st.recursive(_leaf(), _wrap, max_leaves=25), max_size=4).map(
    lambda items: ("".join(s for s, _ in items), [w for _, words in items for w in words])
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FRAGMENTS)
def test_random_storage_always_renders_valid_html_with_all_its_text(fragment: _Fragment) -> None:
    storage, words = fragment
    html = render_storage(storage)
    root = lxml.html.fragment_fromstring(html)
    assert root.get("class") == "confluence-view"
    assert root.xpath("//script") == []
    assert html5_problems(root) == []
    text = root.text_content()
    for word in words:
        assert word in text
    assert lxml.html.tostring(root, encoding="unicode") == html


_XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.sampled_from("\n\t"),
    min_size=1,
).filter(lambda t: t.strip() != "")


@settings(max_examples=200, deadline=None)
@given(_XML_TEXT)
def test_any_text_is_shown_exactly_as_written(text: str) -> None:
    storage = f"<p>{escape(text)}</p>" + macro("code", plain(text.replace("]]>", "]]]]><![CDATA[>")))
    root = render(storage)
    assert one(root, "./p").text_content() == text
    assert one(root, "//pre/code").text_content() == text
