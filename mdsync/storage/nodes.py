"""A light, read-only view of an lxml storage tree, shaped like the tree markdownify reads.

markdownify converters walk BeautifulSoup trees: elements with ``name``, ``prefix``,
``attrs`` and ``children`` that mix text strings and elements. Building such a tree costs
more than everything else a conversion does, so this view offers the same shape straight
over the lxml tree that ``storage_xml.parse_storage`` already built (and checked).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from mdsync.storage.xhtml import NAMESPACES

_PREFIXES = {uri: prefix for prefix, uri in NAMESPACES.items()}


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return _PREFIXES.get(uri, None), local
    return None, tag


class Tree:
    """Hands out one Node per element, so that identity checks (``is``) work."""

    def __init__(self) -> None:
        self._nodes: dict[etree._Element, Node] = {}

    def node(self, element: etree._Element) -> Node:
        found = self._nodes.get(element)
        if found is None:
            found = self._nodes[element] = Node(self, element)
        return found


class Node:
    __slots__ = ("tree", "element", "prefix", "name", "_attrs", "_children", "_index")

    def __init__(self, tree: Tree, element: etree._Element) -> None:
        self.tree = tree
        self.element = element
        self.prefix, self.name = _split(element.tag)
        self._attrs: dict[str, str] | None = None
        self._children: list[Any] | None = None
        self._index = 0  # where it stands in its parent's children, once they are listed

    @property
    def qname(self) -> str:
        return f"{self.prefix}:{self.name}" if self.prefix else self.name

    @property
    def attrs(self) -> dict[str, str]:
        if self._attrs is None:
            attrs = {}
            for key, value in self.element.attrib.items():
                prefix, local = _split(key)
                attrs[f"{prefix}:{local}" if prefix else local] = value
            self._attrs = attrs
        return self._attrs

    def get(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    @property
    def children(self) -> list[Any]:
        """Text (str) and elements (Node) in order; comments are left out, their tails kept."""
        if self._children is None:
            items: list[Any] = []
            if self.element.text:
                items.append(self.element.text)
            for child in self.element:
                if isinstance(child.tag, str):
                    node = self.tree.node(child)
                    node._index = len(items)
                    items.append(node)
                if child.tail:
                    if items and isinstance(items[-1], str) and not isinstance(child.tag, str):
                        items[-1] += child.tail  # text split by a comment is one text
                    else:
                        items.append(child.tail)
            self._children = items
        return self._children

    @property
    def parent(self) -> Node | None:
        parent = self.element.getparent()
        return None if parent is None else self.tree.node(parent)

    @property
    def descendants(self) -> Iterator[Any]:
        for item in self.children:
            yield item
            if isinstance(item, Node):
                yield from item.descendants

    def _siblings(self) -> tuple[list[Any], int]:
        parent = self.parent
        if parent is None:
            return [self], 0
        # The index set when the parent listed its children: looking for it would make a walk
        # over many siblings (a paragraph of ten thousand marks) quadratic.
        return parent.children, self._index

    @property
    def previous_sibling(self) -> Any:
        items, index = self._siblings()
        return items[index - 1] if index > 0 else None

    @property
    def next_sibling(self) -> Any:
        items, index = self._siblings()
        return items[index + 1] if index + 1 < len(items) else None

    @property
    def previous_siblings(self) -> Iterator[Any]:
        items, index = self._siblings()
        return reversed(items[:index])

    @property
    def next_siblings(self) -> Iterator[Any]:
        items, index = self._siblings()
        return iter(items[index + 1 :])

    def get_text(self) -> str:
        return "".join(item if isinstance(item, str) else item.get_text() for item in self.children)

    def find(self, name: str | bool, attrs: dict[str, str] | None = None) -> Node | None:
        return next(iter(self.find_all(name, attrs)), None)

    def find_all(self, name: str | bool | list[str], attrs: dict[str, str] | None = None) -> list[Node]:
        """Descendant elements by local name (or all, for True), optionally by attributes."""
        names = {name} if isinstance(name, str) else set(name) if isinstance(name, list) else None
        found = []
        for item in self.descendants:
            if isinstance(item, Node) and (names is None or item.name in names) and \
                    all(item.get(key) == value for key, value in (attrs or {}).items()):
                found.append(item)
        return found

    def find_parent(self, name: str) -> Node | None:
        parent = self.parent
        while parent is not None:
            if parent.name == name:
                return parent
            parent = parent.parent
        return None
