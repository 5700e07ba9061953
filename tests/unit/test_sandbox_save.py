"""What an API save does to storage (real-confluence.md §1, last paragraph): validate_storage."""

from __future__ import annotations

import pytest

from mdsync.sandbox.store import PAGE, ApiError, Store, validate_storage
from mdsync.storage.xhtml import StorageParseError, parse_storage

MACRO = '<ac:structured-macro ac:name="{}" ac:macro-id="m1">{}</ac:structured-macro>'
SAVED_MACRO = '<ac:structured-macro ac:name="{}" ac:macro-id="m1" ac:schema-version="1">{}</ac:structured-macro>'


def test_what_it_did_before_stays_schema_version_macro_id_and_spaced_self_closing_tags() -> None:
    stored = validate_storage('<p>a<br/>b</p><ac:structured-macro ac:name="toc"/>' + MACRO.format("info", ""))
    assert stored.startswith('<p>a<br />b</p><ac:structured-macro ac:name="toc" ac:schema-version="1" ac:macro-id="')
    assert stored.endswith(SAVED_MACRO.format("info", "").replace("></ac:structured-macro>", " />"))


def test_named_entities_stay_named_and_numeric_references_become_characters() -> None:
    body = "<p>a&nbsp;b &mdash; c&rsquo;d &hellip; &amp; &lt;x&gt; &quot; &#160;&#x2014;&#65;</p>"
    assert validate_storage(body) == (
        "<p>a&nbsp;b &mdash; c&rsquo;d &hellip; &amp; &lt;x&gt; \" \u00a0\u2014A</p>")


def test_named_entities_stay_named_in_attribute_values() -> None:
    body = '<p><a href="https://x.test/?a=1&amp;b=2" title="a&nbsp;b&eacute;">t</a></p>'
    assert validate_storage(body) == body


def test_entity_lookalikes_in_cdata_and_comments_are_left_alone() -> None:
    code = MACRO.format("code", "<ac:plain-text-body><![CDATA[&nbsp; &mdash; &#160; <b>]]></ac:plain-text-body>")
    body = code + "<!-- &nbsp; --><p>{nbsp} &amp;nbsp; &amp;mdash;</p>"
    assert validate_storage(body) == SAVED_MACRO.format(
        "code", "<ac:plain-text-body><![CDATA[&nbsp; &mdash; &#160; <b>]]></ac:plain-text-body>"
    ) + "<!-- &nbsp; --><p>{nbsp} &amp;nbsp; &amp;mdash;</p>"


@pytest.mark.parametrize("body", ["<p>&bogus;</p>", "<p>&nbsp;</b>", "<a&nbsp;></a&nbsp;>"])
def test_malformed_storage_with_entities_is_still_refused_where_the_fault_is(body: str) -> None:
    with pytest.raises(ApiError) as refused:
        validate_storage(body)
    with pytest.raises(StorageParseError) as parsed:
        parse_storage(body)
    assert refused.value.status == 400
    assert refused.value.title == f"Error parsing xhtml: {parsed.value.message} at [row,col]: " \
                                  f"[{parsed.value.line},{parsed.value.column}]"


def test_attachments_and_pages_gain_version_at_save() -> None:
    body = ('<p><ac:link><ri:page ri:content-title="A" /></ac:link><ac:link><ri:page ri:content-title="B" '
            'ri:version-at-save="7" /></ac:link></p><ac:image><ri:attachment ri:filename="a.png" /></ac:image>'
            '<ac:image><ri:attachment ri:filename="b.png" /></ac:image><ac:link><ri:attachment ri:filename="a.png">'
            '<ri:page ri:content-title="Other" /></ri:attachment></ac:link>'
            '<ac:image><ri:attachment ri:filename="caf&eacute;.png" /></ac:image>')
    versions = {"a.png": 3, "café.png": 2}
    assert validate_storage(body, attachment_version=versions.get) == (
        '<p><ac:link><ri:page ri:content-title="A" ri:version-at-save="1" /></ac:link><ac:link><ri:page '
        'ri:content-title="B" ri:version-at-save="7" /></ac:link></p><ac:image><ri:attachment ri:filename="a.png" '
        'ri:version-at-save="3" /></ac:image><ac:image><ri:attachment ri:filename="b.png" ri:version-at-save="1" />'
        '</ac:image><ac:link><ri:attachment ri:filename="a.png" ri:version-at-save="1"><ri:page '
        'ri:content-title="Other" ri:version-at-save="1" /></ri:attachment></ac:link><ac:image><ri:attachment '
        'ri:filename="caf&eacute;.png" ri:version-at-save="2" /></ac:image>')
    assert 'ri:version-at-save="1"' in validate_storage('<ac:image><ri:attachment ri:filename="a.png" /></ac:image>')


def test_the_store_records_the_current_version_of_the_pages_attachment() -> None:
    store = Store()
    space = store.create_space("DOCS")
    image = '<ac:image><ri:attachment ri:filename="a.png" /></ac:image>'
    page = store.create_content(PAGE, space_id=space.id, title="Shots", body=image)
    assert page.body == image.replace(" />", ' ri:version-at-save="1" />')
    store.add_attachment(page.id, "a.png", b"one")
    store.add_attachment(page.id, "a.png", b"two", replace=True)
    updated = store.update_content(PAGE, page.id, title="Shots", body=image + "<p>more</p>", status="current",
                                   version=2)
    assert updated.body == image.replace(" />", ' ri:version-at-save="2" />') + "<p>more</p>"
    # A value already there is what the page was saved with: it is kept.
    again = store.update_content(PAGE, page.id, title="Shots", body=page.body, status="current", version=3)
    assert again.body == page.body


def test_a_lone_text_align_start_becomes_an_empty_style() -> None:
    body = ('<p style="text-align: start;">a</p><p style="TEXT-ALIGN:start">b</p>'
            '<p style="text-align: start; color: red;">c</p><p style="text-align: center;">d</p>')
    assert validate_storage(body) == (
        '<p style="">a</p><p style="">b</p><p style="text-align: start; color: red;">c</p>'
        '<p style="text-align: center;">d</p>')


def parameter(name: str, value: str) -> str:
    return f'<ac:parameter ac:name="{name}">{value}</ac:parameter>'


def test_panel_icon_id_moves_before_panel_icon_and_nothing_else_moves() -> None:
    body_end = "<ac:rich-text-body><p>x</p></ac:rich-text-body>"
    icon, icon_id = parameter("panelIcon", ":star:"), parameter("panelIconId", "2b50")
    colour, title = parameter("bgColor", "#fff"), parameter("title", "T")
    assert validate_storage(MACRO.format("panel", title + icon + colour + icon_id + body_end)) == SAVED_MACRO.format(
        "panel", title + icon_id + icon + colour + body_end)
    for kept in (icon_id + icon + colour, colour + icon + title, icon_id + colour + title):
        assert validate_storage(MACRO.format("panel", kept + body_end)) == SAVED_MACRO.format("panel", kept + body_end)


def test_panel_icon_id_keeps_its_line_in_formatted_storage() -> None:
    body = MACRO.format("panel", "\n" + parameter("panelIcon", ":a:") + "\n" + parameter("panelIconId", "1") + "\n")
    assert validate_storage(body) == SAVED_MACRO.format(
        "panel", "\n" + parameter("panelIconId", "1") + "\n" + parameter("panelIcon", ":a:") + "\n")


def test_saving_twice_changes_nothing_more() -> None:
    body = ('<p style="text-align: start">a&nbsp;b</p><ac:image><ri:attachment ri:filename="x.png" /></ac:image>'
            + MACRO.format("panel", parameter("panelIcon", ":a:") + parameter("panelIconId", "1")))
    once = validate_storage(body)
    assert validate_storage(once) == once
