"""Where an inline comment goes: Cloud wraps the selected text of the page's storage in an
``ac:inline-comment-marker`` (without a new version of the page), so the sandbox does too.

The selection is found as Cloud's request describes it: the ``index``-th of ``count``
occurrences of the text, counted in document order over the page's text (code bodies and
macro parameters are not text a reader can select).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from mdsync.sandbox.entities import parse_keeping_entities, serialize_keeping_entities
from mdsync.storage.xhtml import AC

_NOT_TEXT = {f"{{{AC}}}plain-text-body", f"{{{AC}}}parameter"}
Slot = tuple[etree._Element, str]  # an element and "text" (its leading text) or "tail" (the text after it)


class SelectionError(ValueError):
    """The selection cannot be placed as asked; Confluence answers 400."""


def _slots(element: etree._Element) -> Iterator[Slot]:
    """The text of a tree in document order, as (element, which) pairs."""
    if element.tag in _NOT_TEXT or not isinstance(element.tag, str):
        return
    yield element, "text"
    for child in element:
        yield from _slots(child)
        yield child, "tail"


def _occurrences(text: str, selection: str) -> Iterator[int]:
    start = text.find(selection)
    while start != -1:
        yield start
        start = text.find(selection, start + len(selection))


def _wrap(slot: Slot, start: int, selection: str, ref: str) -> None:
    element, which = slot
    text = getattr(element, which) or ""
    marker = etree.Element(f"{{{AC}}}inline-comment-marker", {f"{{{AC}}}ref": ref}, nsmap={"ac": AC})
    marker.text = selection
    marker.tail = text[start + len(selection):]
    setattr(element, which, text[:start])
    if which == "text":
        element.insert(0, marker)
    else:
        parent = element.getparent()
        assert parent is not None
        parent.insert(parent.index(element) + 1, marker)


def mark_selection(storage: str, selection: str, index: int, count: int, ref: str) -> str:
    """The storage with the ``index``-th of ``count`` occurrences of ``selection`` marked."""
    if not selection:
        raise SelectionError("inlineCommentProperties.textSelection must not be empty")
    root, entities = parse_keeping_entities(storage)
    found = [(slot, start) for slot in _slots(root) for start in _occurrences(getattr(slot[0], slot[1]) or "",
                                                                              selection)]
    if not found:
        raise SelectionError(f"The text to highlight, '{selection}', is not on the page")
    if count != len(found) or not 0 <= index < count:
        raise SelectionError(f"The text to highlight occurs {len(found)} time(s) on the page: "
                            f"textSelectionMatchCount must be {len(found)} and textSelectionMatchIndex below it")
    # The later slots' offsets stay valid: only the chosen slot is split.
    slot, start = found[index]
    _wrap(slot, start, selection, ref)
    return serialize_keeping_entities(root, entities)
