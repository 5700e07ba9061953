"""A canonical form of storage format, for asking "is this the same page?".

Confluence rewrites what it stores (macro ids, schema versions, ``local-id`` noise, spacing
of self-closing tags, entities as characters) and its editors write equivalent markup in
different ways (``<b>`` or ``<strong>``, a list item's text in a ``<p>`` or not). Two
storage bodies with the same canonical form show the same page, so a sync never rewrites a
page for a difference nobody can see.
"""

from __future__ import annotations

import hashlib
import re

from lxml import etree
from markdown_it.common.normalize_url import normalizeLink

from mdsync.convert.storage_xml import AC, RI, local_name, parse_storage, serialize_storage

# Attributes that change on every save or only identify things for the editor.
_VOLATILE = {
    "local-id", "data-local-id", f"{{{AC}}}local-id", f"{{{AC}}}macro-id", f"{{{AC}}}schema-version",
    f"{{{RI}}}version-at-save", f"{{{RI}}}local-id", "data-layout", "data-table-width", "class",
    f"{{{AC}}}original-width", f"{{{AC}}}original-height", f"{{{AC}}}task-list-id",
}
_MARK_TAGS = {"strong", "em", "s", "u", "sub", "sup", "code"}
_VOLATILE_ELEMENTS = {"ac:task-id", "ac:task-uuid"}
_SAME_AS = {"b": "strong", "i": "em", "del": "s", "strike": "s", "tt": "code"}
_UNWRAP_SINGLE_PARAGRAPH = {"li", "td", "th", "ac:task-body"}
_KEEP_SPACE = {"pre", "code", "ac:plain-text-body", "ac:plain-text-link-body", "ac:parameter"}
_SPACES = re.compile(r"[ \t\r\n\u00a0]+")


def canonical_storage(storage: str) -> str:
    """The canonical text of a storage body (raises StorageParseError if malformed)."""
    root = parse_storage(storage)
    _canonicalise(root)
    return serialize_storage(root)


def storage_digest(storage: str) -> str:
    """A short fingerprint of the canonical form: equal for pages that show the same."""
    return hashlib.sha256(canonical_storage(storage).encode("utf-8")).hexdigest()[:32]


def same_storage(first: str, second: str) -> bool:
    return canonical_storage(first) == canonical_storage(second)


def _canonicalise(root: etree._Element) -> None:
    for node in list(root.iter()):
        if not isinstance(node.tag, str):
            _drop(node)  # comments and processing instructions are not content
    for node in list(root.iter()):
        name = local_name(node)
        if name in _VOLATILE_ELEMENTS:
            _drop(node)
            continue
        if name in _SAME_AS:
            node.tag = _SAME_AS[name]
        if name == "span" and _is_plain_span(node):
            _unwrap(node)
            continue
        for key in list(node.attrib):
            if key in _VOLATILE or key.startswith("data-"):
                del node.attrib[key]
        for key in ("href", f"{{{RI}}}value"):
            if key in node.attrib:
                # markdown-it percent-encodes what it writes; compare links in that one form.
                node.set(key, normalizeLink(node.get(key, "")))
        if "style" in node.attrib:
            node.set("style", _style(node.get("style", "")))
            if not node.get("style"):
                del node.attrib["style"]
    for node in list(root.iter("ol")):
        if node.get("start") == "1":
            del node.attrib["start"]
    for node in list(root.iter(f"{{{AC}}}task-body")):
        # Legacy editors nest a sub-list inside the task's text; Cloud puts it after the task.
        for inner in [child for child in node if child.tag == f"{{{AC}}}task-list"]:
            task = node.getparent()
            _detach(inner)
            if task is not None and task.getparent() is not None:
                task.addnext(inner)
    for node in list(root.iter(*_MARK_TAGS)):
        # <strong><em>x</em></strong> and <em><strong>x</strong></em> show the same.
        if len(node) == 1 and node[0].tag in _MARK_TAGS and not (node.text or "").strip() \
                and not (node[0].tail or "").strip() and node.tag > node[0].tag:
            node.tag, node[0].tag = node[0].tag, node.tag
    for node in reversed(list(root.iter(*_MARK_TAGS))):
        if not len(node) and not node.text:
            _drop(node)  # an empty mark marks nothing
    for node in list(root.iter("p")):
        if _is_spacer(node):
            _drop(node)
    for node in list(root.iter("p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6")):
        # A line break that ends a block breaks nothing.
        while len(node) and node[-1].tag == "br" and not (node[-1].tail or "").strip():
            _drop(node[-1])
    for node in list(root.iter()):
        # A list item's (or cell's) one paragraph is how some editors write its text: the
        # same item either way. Two paragraphs are two paragraphs.
        loose_text = (node.text or "").strip() or any((child.tail or "").strip() for child in node)
        if local_name(node) in _UNWRAP_SINGLE_PARAGRAPH and not loose_text:
            paragraphs = [child for child in node if child.tag == "p"]
            if len(paragraphs) == 1 and not paragraphs[0].attrib:
                _unwrap(paragraphs[0])
    _normalise_space(root, keep=False)
    for node in root.iter("br"):
        # Spaces at the start or end of a line, around a line break, show nothing.
        if node.tail:
            node.tail = node.tail.lstrip(" ") or None
        previous = node.getprevious()
        if previous is not None and previous.tail:
            previous.tail = previous.tail.rstrip(" ") or None
        elif previous is None and node.getparent() is not None and node.getparent().text:
            node.getparent().text = node.getparent().text.rstrip(" ") or None


def _is_plain_span(node: etree._Element) -> bool:
    return not node.attrib or set(node.attrib) <= {"class"} | {k for k in node.attrib if k.startswith("data-")}


def _is_spacer(node: etree._Element) -> bool:
    text = "".join(node.itertext()).strip(" \t\r\n\u00a0")
    return not text and all(child.tag == "br" for child in node) and not node.attrib


def _style(style: str) -> str:
    parts = []
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() and value.strip():
            parts.append(f"{name.strip().lower()}: {' '.join(value.split())}")
    return "; ".join(sorted(parts)) + (";" if parts else "")


def _detach(node: etree._Element) -> None:
    """Take an element out, keeping its tail text where it was."""
    tail, node.tail = node.tail, None
    parent = node.getparent()
    if parent is None:
        return
    previous = node.getprevious()
    if previous is not None:
        previous.tail = ((previous.tail or "") + (tail or "")) or None
    else:
        parent.text = ((parent.text or "") + (tail or "")) or None
    parent.remove(node)


def _drop(node: etree._Element) -> None:
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = ((previous.tail or "") + tail) or None
    else:
        parent.text = ((parent.text or "") + tail) or None
    parent.remove(node)


def _unwrap(node: etree._Element) -> None:
    """Replace an element by its content."""
    parent = node.getparent()
    if parent is None:
        return
    index = parent.index(node)
    previous = node.getprevious()
    leading = node.text or ""
    if previous is not None:
        previous.tail = ((previous.tail or "") + leading) or None
    else:
        parent.text = ((parent.text or "") + leading) or None
    children = list(node)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else previous
    tail = node.tail or ""
    if last is not None:
        last.tail = ((last.tail or "") + tail) or None
    else:
        parent.text = ((parent.text or "") + tail) or None
    parent.remove(node)


def _normalise_space(node: etree._Element, keep: bool) -> None:
    """Runs of white space are one space; white space at block edges and between blocks is none."""
    keep = keep or local_name(node) in _KEEP_SPACE
    if not keep:
        node.text = _squash(node.text) if node.text else node.text
    for child in node:
        _normalise_space(child, keep)
        if not keep and child.tail:
            child.tail = _squash(child.tail)
    if not keep and _is_block(node):
        # White space next to a block, or at a block's edges, shows nothing.
        children = list(node)
        if node.text:
            node.text = node.text.lstrip()
            if children and _is_block(children[0]):
                node.text = node.text.rstrip()
            node.text = node.text or None
        for index, child in enumerate(children):
            if child.tail:
                tail = child.tail
                if _is_block(child):
                    tail = tail.lstrip()
                following = children[index + 1] if index + 1 < len(children) else None
                if following is None or _is_block(following):
                    tail = tail.rstrip()
                child.tail = tail or None
        if not children and node.text:
            node.text = node.text.rstrip() or None


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text)


_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "tbody", "thead", "tfoot", "tr",
           "td", "th", "blockquote", "hr", "pre", "div", "ac:structured-macro", "ac:rich-text-body",
           "ac:task-list", "ac:task", "ac:task-body", "ac:layout", "ac:macro", "ac:layout-section", "ac:layout-cell",
           "ac:parameter", "ac:plain-text-body", "ac:adf-extension", "ac:adf-node", "ac:adf-content",
           "ac:adf-fallback", "ac:adf-attribute", "colgroup", "col", "ac:task-status", "ac:caption",
           "mdsync-storage-root"}


def _is_block(node: etree._Element) -> bool:
    return local_name(node) in _BLOCKS


def _next_is_block(node: etree._Element) -> bool:
    following = node.getnext()
    return following is not None and _is_block(following)
