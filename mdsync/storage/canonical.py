"""A canonical form of storage format, for asking "is this the same page?".

Confluence rewrites what it stores (macro ids, schema versions, ``local-id`` noise, spacing
of self-closing tags, entities as characters, parameters reordered) and its editors write
equivalent markup in different ways (``<b>`` or ``<strong>``, a list item's text in a
``<p>`` or not, marks split around a link, a link's text as CDATA or as rich text). Two
storage bodies with the same canonical form show the same page, so a sync never rewrites a
page for a difference nobody can see; what a reader can see (a table's width, a cell's
colour, a smart link's card) stays in the canonical form.
"""

from __future__ import annotations

import hashlib
import re

from lxml import etree
from markdown_it.common.normalize_url import normalizeLink

from mdsync import constructs
from mdsync.storage.xhtml import (
    AC,
    NAMESPACES,
    append_text,
    local_name,
    parse_storage,
    serialize_storage,
)


def _qualified(name: str) -> str:
    prefix, _, rest = name.partition(":")
    return f"{{{NAMESPACES[prefix]}}}{rest}" if rest and prefix in NAMESPACES else name


_VOLATILE = frozenset(_qualified(name) for name in constructs.VOLATILE_ATTRIBUTES) | {"class"}
_DEFAULTS = {element: {_qualified(key): value for key, value in values.items()}
             for element, values in constructs.EDITOR_DEFAULTS.items()}
_BLOCK_IMAGE_DEFAULTS = {_qualified(key): value for key, value in constructs.BLOCK_IMAGE_DEFAULTS.items()}
_MARK_TAGS = frozenset(mark.tag for mark in constructs.MARK_SPECS)
_IDEMPOTENT_MARKS = frozenset({"strong", "em", "s", "u", "code"})
_UNWRAP_SINGLE_PARAGRAPH = {"li", "td", "th", "ac:task-body"}
_KEEP_SPACE = {"pre", "code", "ac:plain-text-body", "ac:plain-text-link-body", "ac:parameter"}
_SPACES = re.compile(r"[ \t\r\n]+")  # (a no-break space shows: it does not collapse)
_COLLAPSING = " \t\r\n"
_TRAILING = _COLLAPSING + "\u00a0"  # at a block's end a no-break space shows nothing either
_NAME = _qualified("ac:name")
_PARAMETER = _qualified("ac:parameter")
_LINK_BODY = _qualified("ac:link-body")
_PLAIN_LINK_BODY = _qualified("ac:plain-text-link-body")
_WIDTH = _qualified(constructs.IMAGE.width)
_EMPTY_MEANS_NONE = (_qualified(constructs.IMAGE.alt), _qualified(constructs.IMAGE.title), "title")
_CUSTOM_WIDTH = _qualified("ac:custom-width")


def canonical_storage(storage: str) -> str:
    """The canonical text of a storage body (raises StorageParseError if malformed)."""
    root = parse_storage(storage)
    canonicalise(root)
    return serialize_storage(root)


def storage_digest(storage: str) -> str:
    """A short fingerprint of the canonical form: equal for pages that show the same."""
    return hashlib.sha256(canonical_storage(storage).encode("utf-8")).hexdigest()[:32]


def same_storage(first: str, second: str) -> bool:
    return canonical_storage(first) == canonical_storage(second)


def canonicalise(root: etree._Element) -> None:
    """Rewrite a parsed storage tree in place into its canonical form."""
    for node in list(root.iter()):
        if not isinstance(node.tag, str):
            _drop(node)  # comments and processing instructions are not content
    for node in list(root.iter()):
        name = local_name(node)
        if name in constructs.VOLATILE_ELEMENTS:
            _drop(node)
            continue
        if name in constructs.SAME_MARK:
            node.tag = constructs.SAME_MARK[name]
        if name == "span" and _is_plain_span(node):
            _unwrap(node)
            continue
        _attributes(node, name)
    for node in list(root.iter(f"{{{AC}}}structured-macro")):
        _macro(node)
    for node in list(root.iter(_PLAIN_LINK_BODY)):
        # The same text as CDATA or as rich text: the Cloud editor writes the second (E10).
        node.tag = _LINK_BODY
        node.text = node.text
    for node in list(root.iter("thead", "tbody", "tfoot")):
        _unwrap(node)  # a header row shows the same in either section
    for node in list(root.iter("div")):
        if not node.attrib:
            _unwrap(node)
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
    _hoist_marks_out_of_links(root)
    for node in list(root.iter(*_MARK_TAGS)):
        # <sub><sup>x</sup></sub> and <sup><sub>x</sub></sup> show the same.
        if len(node) == 1 and node[0].tag in _MARK_TAGS and not (node.text or "").strip() \
                and not (node[0].tail or "").strip() and node.tag > node[0].tag:
            node.tag, node[0].tag = node[0].tag, node.tag
    for node in reversed(list(root.iter(*_MARK_TAGS))):
        if not len(node) and not node.text:
            _drop(node)  # an empty mark marks nothing
    _merge_adjacent_marks(root)
    _flatten_marks(root)
    for node in list(root.iter("p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6")):
        # A line break that ends a block breaks nothing.
        while len(node) and node[-1].tag == "br" and not (node[-1].tail or "").strip():
            _drop(node[-1])
    for node in list(root.iter("p")):
        if _is_spacer(node):
            _drop(node)
        elif _only_anchors(node):
            _unwrap(node)  # an anchor shows nothing: a paragraph holding only anchors is not one
        elif _sole_block_child(node) is not None and (not node.attrib or _centres_an_image(node)):
            _unwrap(node)  # an image or a block macro shows the same in a paragraph of its own (E7)
    for node in list(root.iter(f"{{{AC}}}image")):
        if _at_block_level(node):
            for key, value in _BLOCK_IMAGE_DEFAULTS.items():
                if node.get(key) == value:
                    del node.attrib[key]
        if node.get(_CUSTOM_WIDTH) == "true" and node.get(_WIDTH):
            del node.attrib[_CUSTOM_WIDTH]
    for node in list(root.iter()):
        name = local_name(node)
        if name in _UNWRAP_SINGLE_PARAGRAPH:
            _unwrap_single_paragraph(node, name)
    for node in list(root.iter("td", "th")):
        _unaligned_cell(node)
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


def _attributes(node: etree._Element, name: str) -> None:
    if not node.attrib:
        return  # (most elements: nothing below adds an attribute)
    defaults = _DEFAULTS.get(name, {})
    for key in list(node.attrib):
        if key in _VOLATILE or defaults.get(key) == node.get(key):
            del node.attrib[key]
    for key in ("href", f"{{{NAMESPACES['ri']}}}value"):
        if key in node.attrib:
            # markdown-it percent-encodes what it writes; compare links in that one form.
            node.set(key, normalizeLink(node.get(key, "")))
    if "style" in node.attrib:
        node.set("style", _style(node.get("style", "")))
        if not node.get("style"):
            del node.attrib["style"]
    for key in _EMPTY_MEANS_NONE:
        if node.get(key) == "":
            del node.attrib[key]
    if len(node.attrib) > 1:
        ordered = sorted(node.attrib.items())  # editors and the API write attributes in any order
        node.attrib.clear()
        node.attrib.update(ordered)


def _macro(node: etree._Element) -> None:
    """Parameters in one order (Confluence reorders them), defaults and language spellings as one."""
    parameters = [child for child in node if child.tag == _PARAMETER]
    if not parameters:
        return
    code = node.get(_NAME) == constructs.CODE.name
    for parameter in parameters:
        key = parameter.get(_NAME, "")
        value = (parameter.text or "") if not len(parameter) else None
        if code and value is not None and constructs.CODE_PARAMETER_DEFAULTS.get(key) == value.strip().lower():
            _drop(parameter)
        elif code and key == constructs.CODE.language and value is not None:
            parameter.text = constructs.same_language(value)
    kept = [child for child in node if child.tag == _PARAMETER]
    if not kept:
        return
    anchor = kept[0].getprevious()
    for parameter in kept:
        _detach(parameter)
    for offset, parameter in enumerate(sorted(kept, key=lambda item: item.get(_NAME, ""))):
        if anchor is None:
            node.insert(offset, parameter)
        else:
            anchor.addnext(parameter)
            anchor = parameter


def _link_body(node: etree._Element) -> etree._Element | None:
    """Where a link's text is: an <a> (or a comment marker) itself, an ac:link's rich body."""
    if node.tag in ("a", f"{{{AC}}}inline-comment-marker"):
        return node
    return next((child for child in node if child.tag == _LINK_BODY), None)


def _hoist_marks_out_of_links(root: etree._Element) -> None:
    """``<a><em>y</em></a>`` shows as ``<em><a>y</a></em>``: the editor splits marks so (E12)."""
    for link in list(root.iter("a", f"{{{AC}}}link", f"{{{AC}}}inline-comment-marker")):
        while True:
            body = _link_body(link)
            if body is None or len(body) != 1 or (body.text or "").strip() or (body[0].tail or "").strip():
                break
            mark = body[0]
            if mark.tag not in _MARK_TAGS or mark.attrib:
                break
            _unwrap(mark)
            wrapper = etree.Element(mark.tag)
            link.addprevious(wrapper)
            wrapper.tail, link.tail = link.tail, None
            wrapper.append(link)


def _merge_adjacent_marks(root: etree._Element) -> None:
    """``<em>x </em><em>y</em>`` is one emphasis: merge marks that touch."""
    for node in list(root.iter(*_MARK_TAGS)):
        if node.getparent() is None:
            continue
        following = node.getnext()
        while following is not None and following.tag == node.tag and not node.tail and \
                dict(following.attrib) == dict(node.attrib):
            if len(node):
                node[-1].tail = (node[-1].tail or "") + (following.text or "") or None
            else:
                node.text = (node.text or "") + (following.text or "") or None
            for child in list(following):
                node.append(child)
            node.tail = following.tail
            node.getparent().remove(following)
            following = node.getnext()


def _flatten_marks(root: etree._Element) -> None:
    """Bold, italic, struck and underlined text in one nesting, however it was written.

    A reader sees which marks each piece of text has, not how the elements nest: ``<strong>a
    </strong><em><strong>b</strong></em>`` and ``<strong>a <em>b</em></strong>`` show the
    same. Each run of inline content is read as pieces with their set of marks and written
    again with the marks that span most pieces outermost. White space at the edge of bold or
    italic text shows the same inside or outside it.
    """
    # Rewriting a node changes only its own children, so which nodes hold a mark is known up front.
    holders = {mark.getparent() for mark in root.iter(*_IDEMPOTENT_MARKS) if not mark.attrib}
    if not holders:
        return
    for node in reversed(list(root.iter())):
        if node not in holders or _is_flat_mark(node):
            continue
        pieces = _pieces(node, frozenset())
        node.text = None
        for child in list(node):
            node.remove(child)
        _write_pieces(node, _tidy_pieces(pieces), frozenset())


def _is_flat_mark(node: etree._Element) -> bool:
    return node.tag in _IDEMPOTENT_MARKS and not node.attrib


_Piece = tuple[frozenset[str], "str | etree._Element"]


def _pieces(node: etree._Element, marks: frozenset[str]) -> list[_Piece]:
    pieces: list[_Piece] = []
    if node.text:
        pieces.append((marks, node.text))
    for child in node:
        if _is_flat_mark(child):
            pieces += _pieces(child, marks | {child.tag})
        else:
            pieces.append((marks, child))
        if child.tail:
            pieces.append((marks, child.tail))
        child.tail = None
    return pieces


def _tidy_pieces(pieces: list[_Piece]) -> list[_Piece]:
    split: list[_Piece] = []
    for marks, item in pieces:
        if isinstance(item, str) and marks & {"strong", "em"} and item.strip() and item != item.strip():
            core = item.strip()
            lead, trail = item[: item.index(core)], item[item.index(core) + len(core):]
            split += [(marks, part) for part in (lead, core, trail) if part]
        else:
            split.append((marks, item))
    tidied: list[_Piece] = []
    for index, (marks, item) in enumerate(split):
        if isinstance(item, str) and not item.strip():
            before = split[index - 1][0] if index else frozenset()
            after = split[index + 1][0] if index + 1 < len(split) else frozenset()
            marks = frozenset(mark for mark in marks if mark not in ("strong", "em") or mark in before & after)
        if tidied and isinstance(item, str) and isinstance(tidied[-1][1], str) and tidied[-1][0] == marks:
            tidied[-1] = (marks, tidied[-1][1] + item)
        else:
            tidied.append((marks, item))
    return tidied


def _write_pieces(parent: etree._Element, pieces: list[_Piece], open_marks: frozenset[str]) -> None:
    index = 0
    while index < len(pieces):
        marks, item = pieces[index]
        new = marks - open_marks
        if not new:
            if isinstance(item, str):
                append_text(parent, item)  # pieces' texts are never empty
            else:
                parent.append(item)
            index += 1
            continue
        # Open the mark that spans the most pieces from here (by name on a tie).
        def span(mark: str) -> int:
            end = index
            while end < len(pieces) and mark in pieces[end][0]:
                end += 1
            return end

        mark = max(sorted(new), key=lambda name: span(name) - index)
        end = span(mark)
        element = etree.SubElement(parent, mark)
        _write_pieces(element, pieces[index:end], open_marks | {mark})
        index = end


def _sole_block_child(node: etree._Element) -> etree._Element | None:
    """The one image or block macro a paragraph holds, with nothing else in it."""
    if len(node) != 1 or (node.text or "").strip() or (node[0].tail or "").strip():
        return None
    child = node[0]
    name = local_name(child)
    if name == "ac:image":
        return child
    if name == "ac:structured-macro" and child.get(_NAME, "") not in constructs.INLINE_MACROS:
        return child
    return None


def _centres_an_image(paragraph: etree._Element) -> bool:
    """A centred paragraph holding only an image: a block image, which is centred (E7, E9)."""
    return set(paragraph.attrib) == {"style"} and _style(paragraph.get("style", "")) == "text-align: center;" and \
        local_name(paragraph[0]) == "ac:image"


def _unaligned_cell(cell: etree._Element) -> None:
    """A cell with no text, or only a block image (aligned by itself), shows no alignment."""
    if not len(cell) and cell.text and not cell.text.strip(" \t\r\n\u00a0"):
        cell.text = None  # a cell holding only a no-break space (legacy editors) shows nothing
    empty = not len(cell) and not (cell.text or "").strip()
    image = len(cell) == 1 and local_name(cell[0]) == "ac:image" and not (cell.text or "").strip() and \
        not (cell[0].tail or "").strip()
    if (empty or image) and "style" in cell.attrib:
        kept = [part for part in cell.get("style", "").split(";") if part.strip() and
                part.partition(":")[0].strip().lower() != "text-align"]
        if kept:
            cell.set("style", "; ".join(part.strip() for part in kept) + ";")
        else:
            del cell.attrib["style"]


def _only_anchors(node: etree._Element) -> bool:
    return len(node) > 0 and not node.attrib and not (node.text or "").strip() and all(
        local_name(child) == "ac:structured-macro" and child.get(_NAME) == "anchor" and not (child.tail or "").strip()
        for child in node)


def _at_block_level(image: etree._Element) -> bool:
    parent = image.getparent()
    # In a cell or a list item too: the editor stands an image alone there as a block (E7).
    return parent is not None and local_name(parent) not in ("p", "a", "ac:link-body", "span", "h1", "h2", "h3",
                                                             "h4", "h5", "h6") and local_name(parent) not in _MARK_TAGS


def _unwrap_single_paragraph(node: etree._Element, name: str) -> None:
    """A list item's (or cell's) one paragraph is how some editors write its text (E6)."""
    loose_text = (node.text or "").strip() or any((child.tail or "").strip() for child in node)
    if loose_text:
        return
    paragraphs = [child for child in node if child.tag == "p"]
    if len(paragraphs) != 1:
        return
    paragraph = paragraphs[0]
    if name in ("td", "th") and set(paragraph.attrib) == {"style"} and _only_alignment(paragraph.get("style", "")):
        # The editor puts a cell's alignment on its paragraph.
        node.set("style", _style(f"{node.get('style', '')};{paragraph.get('style')}"))
        del paragraph.attrib["style"]
    if not paragraph.attrib:
        _unwrap(paragraph)


def _only_alignment(style: str) -> bool:
    return all(part.partition(":")[0].strip().lower() == "text-align" for part in style.split(";") if part.strip())


def _is_plain_span(node: etree._Element) -> bool:
    return not node.attrib or set(node.attrib) <= {"class"} | {k for k in node.attrib if k.startswith("data-")}


def _is_spacer(node: etree._Element) -> bool:
    text = "".join(node.itertext()).strip(" \t\r\n\u00a0")
    return not text and all(child.tag == "br" for child in node) and not node.attrib


def _style(style: str) -> str:
    declarations: dict[str, str] = {}
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), " ".join(value.split())
        if not name or not value or (name == "text-align" and value.lower() == "start"):
            continue  # text starts at the start: "text-align: start" says nothing (the API saves it as "")
        declarations[name] = value  # the last one counts, as in CSS
    return "; ".join(f"{name}: {value}" for name, value in sorted(declarations.items())) + (";" if declarations else "")


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
            node.text = node.text.lstrip(_COLLAPSING)
            if children and _is_block(children[0]):
                node.text = node.text.rstrip(_TRAILING)
            node.text = node.text or None
        for index, child in enumerate(children):
            if child.tail:
                tail = child.tail
                if _is_block(child):
                    tail = tail.lstrip(_COLLAPSING)
                following = children[index + 1] if index + 1 < len(children) else None
                if following is None or _is_block(following):
                    tail = tail.rstrip(_TRAILING)
                child.tail = tail or None
        if not children and node.text:
            node.text = node.text.rstrip(_TRAILING) or None


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text)


_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "tbody", "thead", "tfoot", "tr",
           "td", "th", "blockquote", "hr", "pre", "div", "ac:structured-macro", "ac:rich-text-body",
           "ac:task-list", "ac:task", "ac:task-body", "ac:layout", "ac:macro", "ac:layout-section", "ac:layout-cell",
           "ac:parameter", "ac:plain-text-body", "ac:adf-extension", "ac:adf-node", "ac:adf-content",
           "ac:adf-fallback", "ac:adf-attribute", "colgroup", "col", "ac:task-status", "ac:caption",
           "mdsync-storage-root"}


def _is_block(node: etree._Element) -> bool:
    name = local_name(node)
    if name == "ac:structured-macro":
        return node.get(_NAME, "") not in constructs.INLINE_MACROS
    if name == "ac:image":
        return _at_block_level(node)  # an image out of any paragraph stands as a block (E7)
    return name in _BLOCKS
