"""What a page had that its Markdown cannot say, taken back on push from the page as last synced.

A pulled page is written as plain Markdown wherever Markdown can say what it shows. What
Markdown cannot say about a construct it does write -- a table's width and layout, its
column widths, header cells in a column, cell colours, a ``<thead>``; a code block's theme
and breakout; an image's layout and alignment; a panel's icon; a toc's levels; a task's id;
a smart link's card; a heading's id; the editor's local ids -- stays out of the file, so
the reader sees Markdown, not noise. On push, :func:`reapply` puts it back: each construct
of the new storage is paired with the one it came from in the last synced storage (by
what it says, in document order, so an edit elsewhere or to the construct itself does not
lose it) and takes back what the Markdown left out. What the Markdown does say (a link's
target, an image's width, a column's alignment) is never overridden.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from mdsync import constructs
from mdsync.storage.xhtml import NAMESPACES, RI, local_name, parse_storage, serialize_storage


def _q(name: str) -> str:
    prefix, _, rest = name.partition(":")
    return f"{{{NAMESPACES[prefix]}}}{rest}" if rest and prefix in NAMESPACES else name


_NAME = _q("ac:name")
_PARAMETER = _q("ac:parameter")
_MACRO = _q("ac:structured-macro")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_TEXT_HOLDERS = {"p", "a", "span", "li", "td", "th", "ac:link-body", "ac:task-body", "ac:caption"} | \
    {mark.tag for mark in constructs.MARK_SPECS}


def reapply(storage: str, previous: str | None) -> str:
    """``storage`` (converted from a file) with what ``previous`` had and the file cannot say.

    Returns ``storage`` unchanged when there is nothing to take back or either side cannot be
    read (a push never fails for it: the page is then written as the Markdown says).
    """
    if not previous or not storage:
        return storage
    try:
        new, old = parse_storage(storage), parse_storage(previous)
    except Exception:  # noqa: BLE001 - storage mdsync wrote parses; a broken copy only loses extras
        return storage
    for rule in _RULES:
        for before, after in _pairs(rule, old, new):
            rule.transfer(before, after)
    _unique_task_ids(new, old)
    return serialize_storage(new)


@dataclass(frozen=True)
class _Rule:
    """One construct: where it is, what identifies it to a reader, what to take back."""

    select: Callable[[etree._Element], Iterator[etree._Element]]
    key: Callable[[etree._Element], str]
    transfer: Callable[[etree._Element, etree._Element], None]


def _pairs(rule: _Rule, old: etree._Element, new: etree._Element) -> Iterator[tuple[etree._Element, etree._Element]]:
    """Old and new constructs that are the same one, by what they say.

    In order: those that match where they stand; those edited in place (as many changed as
    there were); those moved (the same, elsewhere); then, of the rest around each change,
    the most alike (a table edited while another beside it was deleted).
    """
    before, after = list(rule.select(old)), list(rule.select(new))
    if not before or not after:
        return
    old_keys, new_keys = [rule.key(item) for item in before], [rule.key(item) for item in after]
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    changes: list[tuple[list[int], list[int]]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            yield from zip(before[i1:i2], after[j1:j2])
        else:
            changes.append((list(range(i1, i2)), list(range(j1, j2))))
    if not changes:
        return
    moved_from: dict[str, list[int]] = {}
    for olds, _ in changes:
        for index in olds:
            moved_from.setdefault(old_keys[index], []).append(index)
    taken: set[int] = set()
    for olds, news in changes:
        for index in list(news):
            found = moved_from.get(new_keys[index])
            if found:
                taken.add(found[0])
                news.remove(index)
                yield before[found.pop(0)], after[index]
    for olds, news in changes:
        free = [index for index in olds if index not in taken]
        for index in news:
            best = max(free, key=lambda candidate: _alike(old_keys[candidate], new_keys[index]), default=None)
            if best is not None and _alike(old_keys[best], new_keys[index]) >= 0.6:
                free.remove(best)
                yield before[best], after[index]


def _alike(first: str, second: str) -> float:
    return difflib.SequenceMatcher(None, first, second, autojunk=False).ratio() if first and second else 0.0


def _unique_task_ids(root: etree._Element, old: etree._Element) -> None:
    """Task ids stay unique: a new task takes a number no other task of the page has, and an
    id that two tasks now have stays with the task it belonged to."""
    owners = {_task_id(task): _task_key(task) for task in old.iter(_q("ac:task"))}
    tasks = [task for task in root.iter(_q("ac:task")) if _task_id(task)]
    numbers = [int(_task_id(task)) for task in tasks if _task_id(task).isdigit()]
    top = max([*numbers, *(int(number) for number in owners if number.isdigit())], default=0)
    by_id: dict[str, list[etree._Element]] = {}
    for task in tasks:
        by_id.setdefault(_task_id(task), []).append(task)
    for number, holders in by_id.items():
        if len(holders) < 2:
            continue
        keeper = next((task for task in holders if _task_key(task) == owners.get(number)), holders[0])
        for task in holders:
            if task is not keeper:
                top += 1
                next(child for child in task if child.tag == _q("ac:task-id")).text = str(top)


def _task_id(task: etree._Element) -> str:
    found = next((child for child in task if child.tag == _q("ac:task-id")), None)
    return (found.text or "").strip() if found is not None else ""


# -- keys: what a reader sees of a construct ------------------------------------------------


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _tag_and_text(element: etree._Element) -> str:
    return f"{local_name(element)}\x1f{_text(element)}"


def _macro_key(element: etree._Element) -> str:
    title = next((child.text or "" for child in element if child.tag == _PARAMETER and child.get(_NAME) == "title"), "")
    body = next((child for child in element if local_name(child) in ("ac:plain-text-body", "ac:rich-text-body")), None)
    return f"{element.get(_NAME, '')}\x1f{title}\x1f{_text(body) if body is not None else ''}"


def _image_key(element: etree._Element) -> str:
    for child in element:
        if child.tag in (_q("ri:attachment"), _q("ri:url")):
            return child.get(_q("ri:filename")) or child.get(_q("ri:value")) or ""
    return ""


def _link_key(element: etree._Element) -> str:
    target = next((f"{local_name(child)}:{child.get(_q('ri:content-title')) or child.get(_q('ri:filename')) or ''}"
                   for child in element if child.tag.startswith(f"{{{RI}}}")), "")
    return f"{target}\x1f{_text(element)}"


def _a_key(element: etree._Element) -> str:
    return f"{element.get('href', '')}\x1f{_text(element)}"


def _row_key(row: etree._Element) -> str:
    return "\x1f".join(_text(cell) for cell in row if local_name(cell) in ("th", "td"))


def _task_key(task: etree._Element) -> str:
    body = next((child for child in task if child.tag == _q("ac:task-body")), None)
    return _text(body) if body is not None else ""


# -- transfers: what to take back ---------------------------------------------------------


def _take_attributes(before: etree._Element, after: etree._Element, said: frozenset[str] = frozenset()) -> None:
    """Attributes the new element lacks, unless the Markdown says them (then its word stands)."""
    for key, value in before.attrib.items():
        if key not in after.attrib and key not in said:
            after.set(key, value)


def _take_paragraph(before: etree._Element, after: etree._Element) -> None:
    """A block that stood alone in a paragraph stands in one again (legacy editors write that)."""
    old_parent, new_parent = before.getparent(), after.getparent()
    if old_parent is None or new_parent is None or local_name(old_parent) != "p" or local_name(new_parent) == "p":
        return
    if len(old_parent) != 1 or (old_parent.text or "").strip() or (before.tail or "").strip():
        return
    paragraph = etree.Element("p", dict(old_parent.attrib))
    after.addprevious(paragraph)
    paragraph.tail, after.tail = after.tail, None
    paragraph.append(after)


def _take_macro(said: tuple[str, ...]) -> Callable[[etree._Element, etree._Element], None]:
    def transfer(before: etree._Element, after: etree._Element) -> None:
        if before.get(_NAME) != after.get(_NAME):
            return
        _take_attributes(before, after)
        present = {child.get(_NAME) for child in after if child.tag == _PARAMETER}
        old_parameters = [child for child in before if child.tag == _PARAMETER]
        last = next((child for child in reversed(after) if child.tag == _PARAMETER), None)
        for parameter in old_parameters:
            name = parameter.get(_NAME, "")
            if name in present or name in said:
                continue
            added = copy.deepcopy(parameter)
            added.tail = None
            if last is None:
                after.insert(0, added)
            else:
                last.addnext(added)
            last = added
        if after.get(_NAME) == constructs.CODE.name:
            _take_language_spelling(old_parameters, after)
        _take_paragraph(before, after)

    return transfer


def _take_language_spelling(old_parameters: list[etree._Element], after: etree._Element) -> None:
    """``py`` and ``python`` highlight the same: the page keeps the spelling it had."""
    old = next((child.text or "" for child in old_parameters if child.get(_NAME) == constructs.CODE.language), None)
    new = next((child for child in after if child.tag == _PARAMETER and child.get(_NAME) == constructs.CODE.language),
               None)
    if old is not None and new is not None and old != new.text and \
            constructs.same_language(old) == constructs.same_language(new.text or ""):
        new.text = old


def _take_image(before: etree._Element, after: etree._Element) -> None:
    _take_attributes(before, after, frozenset(_q(name) for name in constructs.IMAGE.markdown_attributes))
    if _image_key(before) == _image_key(after):  # the same picture (another keeps its own version)
        for old_child, new_child in zip(before, after):
            if old_child.tag == new_child.tag:
                _take_attributes(old_child, new_child)
    # The Cloud editor stands an image alone at block level, out of its paragraph (E7); other
    # editors centre it in a styled paragraph.
    old_parent, new_parent = before.getparent(), after.getparent()
    if old_parent is not None and new_parent is not None and local_name(old_parent) == local_name(new_parent) == "p" \
            and old_parent.attrib and not new_parent.attrib and len(old_parent) == len(new_parent) == 1:
        new_parent.attrib.update(dict(old_parent.attrib))
    if old_parent is not None and new_parent is not None and local_name(old_parent) not in _TEXT_HOLDERS and \
            local_name(new_parent) == "p" and not new_parent.attrib and len(new_parent) == 1 and \
            not (new_parent.text or "").strip() and not (after.tail or "").strip():
        after.tail = new_parent.tail
        new_parent.addprevious(after)
        new_parent.getparent().remove(new_parent)


def _take_table(before: etree._Element, after: etree._Element) -> None:
    _take_attributes(before, after)
    old_rows, new_rows = _rows(before), _rows(after)
    old_colgroup = next((child for child in before if local_name(child) == "colgroup"), None)
    if old_colgroup is not None and not any(local_name(child) == "colgroup" for child in after) and \
            _columns(old_rows) == _columns(new_rows) and len(old_colgroup) == _columns(new_rows):
        colgroup = copy.deepcopy(old_colgroup)
        colgroup.tail = None
        after.insert(0, colgroup)
    matcher = difflib.SequenceMatcher(None, [_row_key(row) for row in old_rows], [_row_key(row) for row in new_rows],
                                      autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for old_row, new_row in zip(old_rows[i1:i2], new_rows[j1:j2]):
                _take_row(old_row, new_row)
    _take_sections(before, after, old_rows, new_rows)


def _take_row(before: etree._Element, after: etree._Element) -> None:
    _take_attributes(before, after)
    old_cells = [cell for cell in before if local_name(cell) in ("th", "td")]
    new_cells = [cell for cell in after if local_name(cell) in ("th", "td")]
    if len(old_cells) != len(new_cells):
        return
    for old_cell, new_cell in zip(old_cells, new_cells):
        # A header column, a row of plain cells: Markdown has header cells in its first row only.
        new_cell.tag = old_cell.tag
        # Alignment is the Markdown's to say; spans would not fit the Markdown's grid.
        _take_attributes(old_cell, new_cell, frozenset({"style", "rowspan", "colspan"}))


def _take_sections(before: etree._Element, after: etree._Element, old_rows: list[etree._Element],
                   new_rows: list[etree._Element]) -> None:
    """A ``<thead>`` (other tools write one; Markdown has one header row in ``<tbody>``)."""
    old_head = next((child for child in before if local_name(child) == "thead"), None)
    if old_head is None or any(local_name(child) == "thead" for child in after):
        return
    count = sum(1 for row in old_head if local_name(row) == "tr")
    body = next((child for child in after if local_name(child) == "tbody"), None)
    if body is None or count == 0 or count >= len(new_rows):
        return
    head = etree.Element("thead", dict(old_head.attrib))
    body.addprevious(head)
    for row in new_rows[:count]:
        head.append(row)


def _take_task(before: etree._Element, after: etree._Element) -> None:
    """A task keeps its id: assignments and reports in Confluence refer to it."""
    for name in ("ac:task-id", "ac:task-uuid"):
        old = next((child for child in before if child.tag == _q(name)), None)
        new = next((child for child in after if child.tag == _q(name)), None)
        if old is None:
            continue
        if new is not None:
            new.text = old.text
        else:
            added = copy.deepcopy(old)
            added.tail = None
            anchor = next((child for child in after if child.tag == _q("ac:task-id")), None)
            if anchor is not None:
                anchor.addnext(added)
            else:
                after.insert(0, added)
    _take_attributes(before, after)


def _take_task_list(before: etree._Element, after: etree._Element) -> None:
    _take_attributes(before, after)
    _take_paragraph(before, after)


def _take_link(before: etree._Element, after: etree._Element) -> None:
    _take_attributes(before, after, frozenset({_q("ac:anchor")}))
    for old_child, new_child in zip(before, after):
        if old_child.tag == new_child.tag and old_child.tag.startswith(f"{{{RI}}}") and \
                old_child.get(_q("ri:content-title")) == new_child.get(_q("ri:content-title")):
            _take_attributes(old_child, new_child)  # ri:space-key the editor adds (E8), version-at-save


def _take_a(before: etree._Element, after: etree._Element) -> None:
    _take_attributes(before, after, frozenset({"href", "title"}))


def _take_only(names: frozenset[str]) -> Callable[[etree._Element, etree._Element], None]:
    """Take back only these attributes: the others of the element are what the Markdown says."""
    def transfer(before: etree._Element, after: etree._Element) -> None:
        if local_name(before) == local_name(after):
            for key in names & set(before.attrib) - set(after.attrib):
                after.set(key, before.get(key, ""))

    return transfer


_IDS = frozenset(_q(name) for name in constructs.VOLATILE_ATTRIBUTES)


def _rows(table: etree._Element) -> list[etree._Element]:
    rows = []
    for child in table:
        if local_name(child) == "tr":
            rows.append(child)
        elif local_name(child) in ("thead", "tbody", "tfoot"):
            rows += [row for row in child if local_name(row) == "tr"]
    return rows


def _columns(rows: list[etree._Element]) -> int:
    counts = {sum(1 for cell in row if local_name(cell) in ("th", "td")) for row in rows}
    return counts.pop() if len(counts) == 1 else -1


def _macros(names: set[str]) -> Callable[[etree._Element], Iterator[etree._Element]]:
    def select(root: etree._Element) -> Iterator[etree._Element]:
        return (node for node in root.iter(_MACRO) if node.get(_NAME, "") in names)

    return select


def _elements(*tags: str) -> Callable[[etree._Element], Iterator[etree._Element]]:
    qualified = tuple(_q(tag) for tag in tags)
    return lambda root: root.iter(*qualified)


_RULES: tuple[_Rule, ...] = (
    *(_Rule(_macros({name}), _macro_key, _take_macro(said))
      for name, said in constructs.MARKDOWN_MACRO_PARAMETERS.items()),
    _Rule(_elements("table"), lambda table: "\x1e".join(_row_key(row) for row in _rows(table)), _take_table),
    _Rule(_elements("ac:image"), _image_key, _take_image),
    # A heading's id (other tools link to it) and the editor's ids; its style is carried with it.
    _Rule(_elements(*_HEADINGS), _tag_and_text, _take_only(_IDS | {"id"})),
    _Rule(_elements("ac:task"), _task_key, _take_task),
    _Rule(_elements("ac:task-list"), lambda tasks: "\x1e".join(_task_key(task) for task in tasks), _take_task_list),
    _Rule(_elements("ac:link"), _link_key, _take_link),
    _Rule(_elements("a"), _a_key, _take_a),
    # The editor's ids on blocks (it would only make up new ones).
    _Rule(_elements("p", "ul", "ol", "li", "blockquote"), _tag_and_text, _take_only(_IDS)),
)

__all__ = ["reapply"]
