"""Half of a UTF-16 pair (a lone surrogate) cannot be sent to Confluence, which takes UTF-8.

Markdown files are read as UTF-8, so one can only come from an escape: a YAML escape in the
front matter (refused by name, with its line) or an HTML numeric reference in the body
(written as U+FFFD, as HTML does).
"""

from __future__ import annotations

import pytest

from mdsync import markdown_to_storage
from mdsync.convert.frontmatter import FrontMatterError, split_front_matter


@pytest.mark.parametrize(("text", "line", "named"), [
    ('---\ntitle: "\\uD800 x"\n---\nBody.\n', 2, "'title'"),
    ('---\ntype: page\nlabels:\n  - setup\n  - "x\\udc80"\n---\n', 5, "'labels'"),
    ('---\nextra:\n  deep: ["\\uDFFF"]\n---\n', 3, "'extra'"),
    ('---\n"\\ud800": 1\n---\n', 2, "a key"),
])
def test_a_lone_surrogate_in_front_matter_refuses_the_file_with_its_line(text: str, line: int, named: str) -> None:
    with pytest.raises(FrontMatterError) as refused:
        split_front_matter(text)
    assert refused.value.line == line
    message = refused.value.message
    assert f"{named} has a character that cannot be sent: a lone surrogate U+D" in message
    assert "fix the front matter" in message
    message.encode("utf-8")  # the message itself can be printed


def test_an_escaped_character_that_is_whole_is_kept() -> None:
    front, _ = split_front_matter('---\ntitle: "\\U0001F600 launch"\n---\n')
    assert front.title == "\U0001F600 launch"


@pytest.mark.parametrize("markdown", ["ok &#xD800; here", "x &#55296;&#56320; y", "<b>&#xDFFF;</b>",
                                      "| a |\n|---|\n| &#xD800; |", "![a&#xD800;](i.png)", "# T &#xD800;\n"])
def test_a_numeric_reference_to_a_surrogate_becomes_the_replacement_character(markdown: str) -> None:
    storage = markdown_to_storage(markdown)
    storage.encode("utf-8")  # Confluence gets UTF-8: this is what would have failed
    assert "\ufffd" in storage
