"""Parse and serialise storage the way Confluence stores it: HTML named entities stay named.

:func:`~mdsync.storage.xhtml.parse_storage` turns ``&nbsp;`` into a character, which
is right for readers but not for the sandbox, which must hand back ``&nbsp;`` as Confluence
does. So before parsing, each known named entity outside CDATA sections and comments is
replaced by a placeholder that cannot occur in the text (and, having braces, cannot form
part of a tag name), and the placeholders become ``&name;`` again after serialising.
"""

from __future__ import annotations

import re
import uuid
from html.entities import name2codepoint

from lxml import etree

from mdsync.storage.xhtml import StorageParseError, parse_storage, serialize_storage

_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
# CDATA sections and comments are matched first so that entities inside them stay text.
_ENTITY_OR_OPAQUE = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&([A-Za-z][A-Za-z0-9]*);", re.DOTALL)
# One pattern for every text's placeholders (a pattern per text cost a compile per request).
_PLACEHOLDER = re.compile(r"\{([0-9a-f]{32})([A-Za-z][A-Za-z0-9]*)\}")


class NamedEntities:
    """The placeholders used for one storage text."""

    def __init__(self, text: str) -> None:
        marker = uuid.uuid4().hex
        while marker in text:
            marker = uuid.uuid4().hex
        self._marker = marker

    def protect(self, text: str) -> str:
        def swap(match: re.Match[str]) -> str:
            name = match.group(2)
            if match.group(1) or name in _XML_ENTITIES or name not in name2codepoint:
                return match.group(0)
            return "{" + self._marker + name + "}"

        return _ENTITY_OR_OPAQUE.sub(swap, text)

    def restore(self, text: str) -> str:
        """Placeholders back to ``&name;``, for serialised storage."""
        return _PLACEHOLDER.sub(lambda match: f"&{match.group(2)};" if match.group(1) == self._marker
                                else match.group(0), text)

    def characters(self, value: str) -> str:
        """Placeholders to the characters they stand for, for reading a value (a file name)."""
        return _PLACEHOLDER.sub(lambda match: chr(name2codepoint[match.group(2)]) if match.group(1) == self._marker
                                else match.group(0), value)


def parse_keeping_entities(text: str) -> tuple[etree._Element, NamedEntities]:
    """Parse like ``parse_storage``, with named entities held as placeholders in the tree."""
    entities = NamedEntities(text)
    try:
        root = parse_storage(entities.protect(text))
    except StorageParseError:
        # Report the fault where it is in the text as sent, not in the protected copy.
        parse_storage(text)
        raise
    return root, entities


def serialize_keeping_entities(root: etree._Element, entities: NamedEntities) -> str:
    return entities.restore(serialize_storage(root))
