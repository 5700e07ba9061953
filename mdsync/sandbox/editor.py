"""What the Confluence Cloud editor writes when a person opens a page and publishes it.

The editor converts storage to its own document model and writes every block back, so a
page a colleague touched comes back with ids, table widths, cell text wrapped in
paragraphs and more: rules E1–E12 of ``real-confluence.md`` §1. :func:`editor_resave`
applies them to a storage string. Each rule only adds what is missing, so re-saving an
editor-saved page adds nothing; everything the rules do not touch stays as it was.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable

from lxml import etree

from mdsync.sandbox.entities import NamedEntities, parse_keeping_entities, serialize_keeping_entities
from mdsync.storage.xhtml import AC, RI, ROOT_TAG, append_text

ImageSizes = Callable[[str], tuple[int, int] | None]
Piece = str | etree._Element  # what an element holds: text, or a child (comments too)

TABLE_WIDTH = 760
DEFAULT_IMAGE_SIZE = (600, 400)  # width, height: what the editor records for an image it cannot measure

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_MACROS = frozenset({f"{{{AC}}}structured-macro", f"{{{AC}}}macro"})
# Macros the editor keeps inside a line of text; every other macro is a block of its own.
_INLINE_MACROS = frozenset({"status", "anchor", "jira"})
_BLOCKS = frozenset({"p", "ul", "ol", "table", "blockquote", "pre", "hr", "div", *_HEADINGS,
                     f"{{{AC}}}task-list", f"{{{AC}}}layout", f"{{{AC}}}adf-extension"})
# Parents whose children are blocks; anything under another parent is inline.
_BLOCK_PARENTS = frozenset({ROOT_TAG, "td", "th", "li", "blockquote", "div", f"{{{AC}}}rich-text-body",
                            f"{{{AC}}}layout-cell", f"{{{AC}}}adf-content"})
# Marks in the editor's model; a span is one when it colours text (a styled span).
_MARKS = frozenset({"em", "strong", "s", "u", "code", "sub", "sup", "del", "ins", "b", "i", "small", "big",
                    "strike", "span"})
_LINKS = frozenset({"a", f"{{{AC}}}link"})
_XML_SPACE = " \t\r\n"


def editor_resave(storage: str, *, space_key: str, image_sizes: ImageSizes | None = None) -> str:
    """Storage as the Cloud editor writes it back after a person opens and publishes the page.

    ``space_key`` is the page's space (E8); ``image_sizes(filename)`` gives (width, height)
    of an attachment of the page, or None when it cannot tell (E9).
    Raises StorageParseError for storage that does not parse.
    """
    root, entities = parse_keeping_entities(storage)
    _rich_link_bodies(root)
    _split_marks_around_links(root)
    _wrap_inline_content(root)
    _unwrap_lone_images(root)
    _add_block_ids(root)
    _table_attributes(root)
    _macro_attributes(root)
    _task_ids(root)
    _page_space_keys(root, space_key)
    _block_image_attributes(root, entities, image_sizes or (lambda filename: None))
    _layout_section_attributes(root)
    return serialize_keeping_entities(root, entities)


# -- ids and small helpers ----------------------------------------------------------------


def _short_id() -> str:
    return uuid.uuid4().hex[:12]


def _long_id() -> str:
    return str(uuid.uuid4())


def _ac(name: str) -> str:
    return f"{{{AC}}}{name}"


def _set_missing(element: etree._Element, name: str, value: str | Callable[[], str]) -> None:
    if element.get(name) is None:
        element.set(name, value() if callable(value) else value)


def _blank(text: str | None) -> bool:
    """Only XML whitespace: a no-break space is content, as it is to the editor."""
    return not (text or "").strip(_XML_SPACE)


def _take_content(element: etree._Element) -> list[Piece]:
    """Detach and return an element's text and children (with their tails) in document order."""
    pieces: list[Piece] = [element.text] if element.text else []
    element.text = None
    for child in list(element):
        tail, child.tail = child.tail, None
        element.remove(child)
        pieces.append(child)
        if tail:
            pieces.append(tail)
    return pieces


def _fill(element: etree._Element, pieces: list[Piece]) -> None:
    for piece in pieces:
        if isinstance(piece, str):
            append_text(element, piece)
        else:
            element.append(piece)


def _has_substance(pieces: list[Piece]) -> bool:
    """Text that is not only whitespace, or an element proper (not a comment)."""
    return any(not _blank(piece) if isinstance(piece, str) else isinstance(piece.tag, str) for piece in pieces)


def _is_block(element: etree._Element) -> bool:
    if element.tag in _MACROS:
        return element.get(_ac("name")) not in _INLINE_MACROS
    return element.tag in _BLOCKS


def _at_block_level(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and parent.tag in _BLOCK_PARENTS


# -- E10, E12: links ----------------------------------------------------------------------


def _rich_link_bodies(root: etree._Element) -> None:
    """E10: the CDATA of a plain-text link body becomes the text of an ``ac:link-body``."""
    for body in list(root.iter(_ac("plain-text-link-body"))):
        parent = body.getparent()
        if parent is not None and parent.tag == _ac("link"):
            body.tag = _ac("link-body")
            body.text = body.text or None  # assigning drops the CDATA wrapper: the text is escaped


def _split_marks_around_links(root: etree._Element) -> None:
    """E12: ``<em>x <a>y</a></em>`` becomes ``<em>x </em><a><em>y</em></a>``.

    Innermost marks go first, so a link rises through nested marks one level at a time and
    the marks end up inside the link in their original order.
    """
    for mark in reversed(list(root.iter(*_MARKS))):
        if (mark.tag != "span" or mark.get("style")) and any(child.tag in _LINKS for child in mark):
            _split_mark(mark)


def _split_mark(mark: etree._Element) -> None:
    nodes: list[etree._Element] = []
    run: list[Piece] = []
    for piece in _take_content(mark):
        if isinstance(piece, str) or piece.tag not in _LINKS:
            run.append(piece)
            continue
        nodes += _marked(mark, run)
        run = []
        _mark_inside(piece, mark)
        nodes.append(piece)
    nodes += _marked(mark, run)
    _replace(mark, nodes)


def _marked(mark: etree._Element, pieces: list[Piece]) -> list[etree._Element]:
    """A copy of ``mark`` holding ``pieces``; none at all when there is nothing to hold."""
    if not pieces:
        return []
    copy = mark.makeelement(mark.tag, mark.attrib)
    _fill(copy, pieces)
    return [copy]


def _mark_inside(link: etree._Element, mark: etree._Element) -> None:
    # An ac:link carries its text in ac:link-body; one without a body shows the page title.
    target = link if link.tag == "a" else link.find(_ac("link-body"))
    if target is not None:
        _fill(target, _marked(mark, _take_content(target)))


def _replace(old: etree._Element, nodes: list[etree._Element]) -> None:
    parent = old.getparent()
    assert parent is not None and nodes
    tail = old.tail
    for node in nodes:
        old.addprevious(node)
    parent.remove(old)
    if tail:
        nodes[-1].tail = (nodes[-1].tail or "") + tail


# -- E6, E7: paragraphs in cells and list items, images out of paragraphs -----------------


def _wrap_inline_content(root: etree._Element) -> None:
    """E6: text and inline elements of every cell and list item go into paragraphs."""
    for container in list(root.iter("td", "th", "li")):
        _wrap_runs(container)
        if container.tag != "li":
            _move_alignment(container)


def _wrap_runs(container: etree._Element) -> None:
    pieces = _take_content(container)
    if not _has_substance(pieces):
        _fill(container, [piece for piece in pieces if not isinstance(piece, str)])
        etree.SubElement(container, "p")
        return
    run: list[Piece] = []
    for piece in pieces:
        if not isinstance(piece, str) and _is_block(piece):
            _flush_run(container, run)
            container.append(piece)
        else:
            run.append(piece)
    _flush_run(container, run)


def _flush_run(container: etree._Element, run: list[Piece]) -> None:
    """A run with content becomes a paragraph; whitespace between blocks stays as it is."""
    if _has_substance(run):
        _fill(etree.SubElement(container, "p"), run)
    else:
        _fill(container, run)
    run.clear()


def _style_declarations(style: str) -> list[tuple[str, str]]:
    declarations = []
    for part in style.split(";"):
        name, colon, value = part.partition(":")
        if colon and name.strip():
            declarations.append((name.strip().lower(), value.strip()))
    return declarations


def _style_text(declarations: list[tuple[str, str]]) -> str:
    return " ".join(f"{name}: {value};" for name, value in declarations)


def _move_alignment(cell: etree._Element) -> None:
    """A cell's ``text-align`` moves onto the paragraphs it holds (the editor aligns paragraphs)."""
    declarations = _style_declarations(cell.get("style") or "")
    alignment = [value for name, value in declarations if name == "text-align"]
    if not alignment:
        return
    rest = [(name, value) for name, value in declarations if name != "text-align"]
    if rest:
        cell.set("style", _style_text(rest))
    else:
        del cell.attrib["style"]
    for paragraph in cell.iterchildren("p"):
        own = _style_declarations(paragraph.get("style") or "")
        if not any(name == "text-align" for name, _ in own):
            paragraph.set("style", _style_text([*own, ("text-align", alignment[-1])]))


def _unwrap_lone_images(root: etree._Element) -> None:
    """E7: an image alone in a paragraph stands at block level in the paragraph's place."""
    for paragraph in list(root.iter("p")):
        if len(paragraph) != 1 or paragraph[0].tag != _ac("image"):
            continue
        image = paragraph[0]
        if not (_blank(paragraph.text) and _blank(image.tail)):
            continue
        image.tail = paragraph.tail
        parent = paragraph.getparent()
        assert parent is not None
        parent.replace(paragraph, image)


# -- E1, E2, E3, E4, E5, E8, E9, E11: attributes and ids ----------------------------------


def _add_block_ids(root: etree._Element) -> None:
    """E1."""
    for block in root.iter("p", "ul", "ol", "li", *_HEADINGS):
        if block.get("local-id") is None:
            # The editor writes the id first: <p local-id="…" style="…">.
            others = dict(block.attrib)
            block.attrib.clear()
            block.set("local-id", _short_id())
            block.attrib.update(others)


def _table_attributes(root: etree._Element) -> None:
    """E2: table width, layout and ids; a colgroup sharing the width among the columns."""
    for table in list(root.iter("table")):
        _set_missing(table, "data-table-width", str(TABLE_WIDTH))
        _set_missing(table, "data-layout", "default")
        _set_missing(table, _ac("local-id"), _long_id)
        if table.find("colgroup") is None:
            _add_colgroup(table)
    for part in root.iter("tr", "th", "td"):
        _set_missing(part, _ac("local-id"), _short_id)


def _rows(table: etree._Element) -> list[etree._Element]:
    sections = [table, *table.iterchildren("thead", "tbody", "tfoot")]
    return [row for section in sections for row in section.iterchildren("tr")]


def _span(cell: etree._Element) -> int:
    value = cell.get("colspan") or ""
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _add_colgroup(table: etree._Element) -> None:
    columns = max((sum(_span(cell) for cell in row.iterchildren("th", "td")) for row in _rows(table)), default=0)
    if not columns:
        return
    width = table.get("data-table-width") or ""
    each = (int(width) if width.isdigit() and int(width) > 0 else TABLE_WIDTH) / columns
    colgroup = table.makeelement("colgroup")
    for _ in range(columns):
        etree.SubElement(colgroup, "col", style=f"width: {each:.1f}px;")
    caption = table.find("caption")
    table.insert(table.index(caption) + 1 if caption is not None else 0, colgroup)


def _macro_attributes(root: etree._Element) -> None:
    """E3 (ids, block layout) and E4 (code blocks break out)."""
    for macro in root.iter(_ac("structured-macro")):
        _set_missing(macro, _ac("local-id"), _long_id)
        if _at_block_level(macro) and _is_block(macro):
            _set_missing(macro, "data-layout", "default")
        if macro.get(_ac("name")) == "code":
            _add_code_breakout(macro)


def _add_code_breakout(macro: etree._Element) -> None:
    parameters = [child for child in macro if child.tag == _ac("parameter")]
    names = {parameter.get(_ac("name")) for parameter in parameters}
    if parameters:
        index = macro.index(parameters[-1]) + 1
    else:
        bodies = [child for child in macro if child.tag in (_ac("plain-text-body"), _ac("rich-text-body"))]
        index = macro.index(bodies[0]) if bodies else len(macro)
    for name, value in (("breakoutMode", "wide"), ("breakoutWidth", str(TABLE_WIDTH))):
        if name in names:
            continue
        parameter = macro.makeelement(_ac("parameter"), {_ac("name"): name})
        parameter.text = value
        macro.insert(index, parameter)
        index += 1


def _task_ids(root: etree._Element) -> None:
    """E5."""
    for task in root.iter(_ac("task")):
        if task.find(_ac("task-uuid")) is not None:
            continue
        task_uuid = task.makeelement(_ac("task-uuid"))
        task_uuid.text = _long_id()
        task_id = task.find(_ac("task-id"))
        if task_id is None:
            task.insert(0, task_uuid)
        else:
            task_id.addnext(task_uuid)
    for task_list in root.iter(_ac("task-list")):
        _set_missing(task_list, _ac("task-list-id"), _long_id)


def _page_space_keys(root: etree._Element, space_key: str) -> None:
    """E8 (CONFCLOUD-69902): page references name their space."""
    for page in root.iter(f"{{{RI}}}page"):
        _set_missing(page, f"{{{RI}}}space-key", space_key)


def _block_image_attributes(root: etree._Element, entities: NamedEntities, image_sizes: ImageSizes) -> None:
    """E9: block images are centred and record the size of the file they show."""
    for image in root.iter(_ac("image")):
        if not _at_block_level(image):
            continue
        width, height = _image_size(image, entities, image_sizes)
        _set_missing(image, _ac("align"), "center")
        _set_missing(image, _ac("layout"), "center")
        _set_missing(image, _ac("original-height"), str(height))
        _set_missing(image, _ac("original-width"), str(width))
        if image.get(_ac("width")) is not None:
            _set_missing(image, _ac("custom-width"), "true")


def _image_size(image: etree._Element, entities: NamedEntities, image_sizes: ImageSizes) -> tuple[int, int]:
    attachment = image.find(f"{{{RI}}}attachment")
    # Only the page's own attachments can be measured; one with an owner lives elsewhere.
    if attachment is None or len(attachment):
        return DEFAULT_IMAGE_SIZE
    filename = entities.characters(attachment.get(f"{{{RI}}}filename") or "")
    return image_sizes(filename) or DEFAULT_IMAGE_SIZE


def _layout_section_attributes(root: etree._Element) -> None:
    """E11."""
    for section in root.iter(_ac("layout-section")):
        _set_missing(section, _ac("breakout-mode"), "default")
        _set_missing(section, _ac("local-id"), _long_id)


# -- measuring images ---------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF or JPEG from its header; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


# Start-of-frame markers (baseline, progressive, lossless...); C4, C8 and CC are not frames.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_FRAMES:
            if position + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None
