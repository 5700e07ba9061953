"""Parsing and writing storage format: strict where Confluence is strict, safe against hostile XML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdsync.storage.xhtml import (
    AC,
    RI,
    StorageParseError,
    attribute,
    local_name,
    named_entities_to_numeric,
    parse_storage,
    serialize_storage,
)


def roundtrip(text: str) -> str:
    return serialize_storage(parse_storage(text))


def test_fragment_with_undeclared_ac_and_ri_prefixes_parses() -> None:
    root = parse_storage('<p>x</p><ac:link><ri:page ri:content-title="Home" /></ac:link>')
    link = root[1]
    assert link.tag == f"{{{AC}}}link" and local_name(link) == "ac:link"
    assert link[0].tag == f"{{{RI}}}page" and attribute(link[0], "ri:content-title") == "Home"


def test_named_entities_become_characters_but_cdata_and_comments_stay_verbatim() -> None:
    text = "<p>a&nbsp;b&amp;c&eacute;</p><!-- &nbsp; --><ac:plain-text-body><![CDATA[&nbsp;<x>]]></ac:plain-text-body>"
    assert named_entities_to_numeric(text) == (
        "<p>a&#160;b&amp;c&#233;</p><!-- &nbsp; --><ac:plain-text-body><![CDATA[&nbsp;<x>]]></ac:plain-text-body>"
    )
    assert roundtrip(text) == (
        "<p>a\u00a0b&amp;c\u00e9</p><!-- &nbsp; --><ac:plain-text-body><![CDATA[&nbsp;<x>]]></ac:plain-text-body>"
    )


def test_serialisation_writes_self_closing_tags_as_confluence_does_but_not_inside_cdata() -> None:
    assert roundtrip("<p>a<br/>b</p><hr/>") == "<p>a<br />b</p><hr />"
    assert roundtrip("<ac:plain-text-body><![CDATA[<br/>]]></ac:plain-text-body>") == (
        "<ac:plain-text-body><![CDATA[<br/>]]></ac:plain-text-body>"
    )


def test_split_cdata_end_marker_survives() -> None:
    text = "<ac:plain-text-body><![CDATA[a]]]]><![CDATA[>b]]></ac:plain-text-body>"
    root = parse_storage(text)
    assert root[0].text == "a]]>b"
    assert roundtrip(text) == text


def test_empty_and_text_only_bodies() -> None:
    assert roundtrip("") == ""
    assert roundtrip("just text") == "just text"


@pytest.mark.parametrize(("text", "fragment"), [
    ("<p>open", "body"),
    ("<p>a</b>", "mismatch"),
    ("<p>&undefinedthing;</p>", "undefinedthing"),
    ("<x:y/>", "prefix x"),
    ("<p a='1' a='2'/>", "redefined"),
])
def test_malformed_storage_raises_with_a_position(text: str, fragment: str) -> None:
    with pytest.raises(StorageParseError) as caught:
        parse_storage(text)
    assert fragment.lower() in caught.value.message.lower()
    assert caught.value.line == 1 and caught.value.column is not None and caught.value.column >= 1


@pytest.mark.parametrize("text", [
    '<!DOCTYPE p [<!ENTITY x "y">]><p>&x;</p>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><p>&lol2;</p>',
    '<!DOCTYPE p SYSTEM "file:///etc/passwd"><p>x</p>',
    '<p>x</p><!ENTITY y "z">',
])
def test_declarations_are_refused_before_parsing(text: str) -> None:
    with pytest.raises(StorageParseError, match="DOCTYPE or ENTITY"):
        parse_storage(text)


def test_declaration_text_inside_cdata_is_just_text() -> None:
    text = '<ac:plain-text-body><![CDATA[<!DOCTYPE html>]]></ac:plain-text-body>'
    assert parse_storage(text)[0].text == "<!DOCTYPE html>"


def test_control_characters_and_non_strings_are_refused() -> None:
    with pytest.raises(StorageParseError):
        parse_storage("<p>\x00</p>")
    with pytest.raises(StorageParseError):
        parse_storage("<p>\x07</p>")
    with pytest.raises(StorageParseError):
        parse_storage(b"<p>x</p>")  # type: ignore[arg-type]


def test_deep_nesting_parses() -> None:
    depth = 200
    text = "<blockquote>" * depth + "deep" + "</blockquote>" * depth
    assert roundtrip(text) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_text_either_parses_or_raises_storage_parse_error(text: str) -> None:
    try:
        serialize_storage(parse_storage(text))
    except StorageParseError:
        pass


@given(st.text(alphabet=st.characters(min_codepoint=0x20, blacklist_categories=("Cs",),
                                      blacklist_characters="<>&\ufffe\uffff"), max_size=200))
def test_escaped_text_round_trips(text: str) -> None:
    assert (parse_storage(f"<p>{text}</p>")[0].text or "") == text
