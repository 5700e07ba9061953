"""Parse and serialise Confluence storage format safely.

Storage format is an XML fragment that uses the ``ac:`` and ``ri:`` prefixes without
declaring them and may contain HTML named entities (``&nbsp;``) that XML does not know.
Every reader of storage (the view renderer, the Markdown converter, the sandbox's
validation) goes through :func:`parse_storage` so they agree on what is well-formed,
and so none of them can be attacked with DOCTYPE or ENTITY declarations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from html.entities import name2codepoint

from lxml import etree

from mdsync.errors import MdsyncError

AC = "http://atlassian.com/content"
RI = "http://atlassian.com/resource/identifier"
AT = "http://atlassian.com/template"
NAMESPACES = {"ac": AC, "ri": RI, "at": AT}

_ROOT = ROOT_TAG = "mdsync-storage-root"
_OPEN = f'<{_ROOT} xmlns:ac="{AC}" xmlns:ri="{RI}" xmlns:at="{AT}">'
_CLOSE = f"</{_ROOT}>"

# CDATA sections and comments are copied verbatim: entities and tags inside them are text.
_OPAQUE = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_DECLARATION = re.compile(r"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b", re.IGNORECASE)
_SELF_CLOSING = re.compile(r"(?<! )/>")


class StorageParseError(MdsyncError):
    """The text is not well-formed storage format."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return f"{self.message}{where}"


def _map_outside_opaque(text: str, change: Callable[[str], str]) -> str:
    """Apply ``change`` to every stretch of ``text`` outside CDATA sections and comments."""
    parts: list[str] = []
    position = 0
    for match in _OPAQUE.finditer(text):
        parts.append(change(text[position : match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(change(text[position:]))
    return "".join(parts)


def _numeric_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _XML_ENTITIES or name not in name2codepoint:
        return match.group(0)
    return f"&#{name2codepoint[name]};"


def named_entities_to_numeric(text: str) -> str:
    """Rewrite XHTML named entities (``&nbsp;``) as numeric references (``&#160;``)."""
    return _map_outside_opaque(text, lambda chunk: _NAMED_ENTITY.sub(_numeric_entity, chunk))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        strip_cdata=False,
        remove_blank_text=False,
        huge_tree=False,
        recover=False,
    )


def parse_storage(text: str) -> etree._Element:
    """Parse a storage fragment into a synthetic root element whose children are the body.

    Raises StorageParseError (never anything else) for text that Confluence would reject.
    """
    if not isinstance(text, str):
        raise StorageParseError("storage format must be text")
    declarations = _map_outside_opaque(text, lambda chunk: "<!DECL>" if _DECLARATION.search(chunk) else "")
    if "<!DECL>" in declarations:
        raise StorageParseError("storage format may not contain DOCTYPE or ENTITY declarations")
    if "\x00" in text:
        raise StorageParseError("storage format may not contain NUL characters")
    document = _OPEN + named_entities_to_numeric(text) + _CLOSE
    try:
        return etree.fromstring(document.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position if error.position else (None, None)
        if line == 1 and column is not None:
            column = max(1, column - len(_OPEN))
        message = (error.msg or str(error)).strip()
        message = message.replace(_ROOT, "body")
        message = re.sub(r",? line \d+, column \d+$", "", message)
        raise StorageParseError(message, line, column) from None


def new_root() -> etree._Element:
    """An empty root to build storage under (its children are the body)."""
    return etree.Element(_ROOT, nsmap={"ac": AC, "ri": RI})


def serialize_storage(root: etree._Element) -> str:
    """Serialise the children of a root (from :func:`parse_storage` or :func:`new_root`).

    Self-closing tags are written as Confluence writes them (``<br />``).
    """
    if len(root) == 0 and not root.text:
        return ""
    whole = etree.tostring(root, encoding="unicode")
    body = whole[whole.index(">") + 1 : -len(_CLOSE)]
    return _map_outside_opaque(body, lambda chunk: _SELF_CLOSING.sub(" />", chunk))


_DECLARATIONS = f' xmlns:ac="{AC}" xmlns:ri="{RI}" xmlns:at="{AT}"'


def serialize_element(element: etree._Element) -> str:
    """One element (without its tail) as storage text, as ``serialize_storage`` writes it."""
    # lxml declares the namespaces on the element it starts from; storage never does.
    text = etree.tostring(element, encoding="unicode", with_tail=False).replace(_DECLARATIONS, "", 1)
    return _map_outside_opaque(text, lambda chunk: _SELF_CLOSING.sub(" />", chunk)) if "/>" in text else text


def local_name(element: etree._Element) -> str:
    """The tag of an element without its namespace, with ``ac:``/``ri:`` prefixes kept."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return _local_name(tag) if tag.startswith("{") else tag


@lru_cache(maxsize=1024)  # a few dozen tags in practice; bounded against a page of made-up ones
def _local_name(tag: str) -> str:
    namespace, _, name = tag[1:].partition("}")
    for prefix, uri in NAMESPACES.items():
        if uri == namespace:
            return f"{prefix}:{name}"
    return name


def attribute(element: etree._Element, name: str, default: str | None = None) -> str | None:
    """Read an attribute given as ``ac:name``, ``ri:name`` or a plain name."""
    prefix, _, rest = name.partition(":")
    if rest and prefix in NAMESPACES:
        return element.get(f"{{{NAMESPACES[prefix]}}}{rest}", default)
    return element.get(name, default)


def append_text(parent: etree._Element, text: str | None) -> None:
    """Add text at the end of ``parent``'s content: after its last child, or as its text."""
    if not text:
        return
    # Not len(parent): lxml counts the children one by one, so a paragraph of many marks
    # would cost quadratic time.
    last = next(parent.iterchildren(reversed=True), None)
    if last is not None:
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


# -- building storage ----------------------------------------------------------------------


def qualified(tag: str) -> str:
    prefix, _, local = tag.partition(":")
    if local and prefix in NAMESPACES:
        return f"{{{NAMESPACES[prefix]}}}{local}"
    return tag


def element(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None,
            text: str | None = None) -> etree._Element:
    """Append a child; ``ac:``/``ri:`` prefixes map to their namespaces."""
    attributes = {qualified(key): value for key, value in (attrib or {}).items()}
    node = etree.SubElement(parent, qualified(tag), attributes)
    if text:
        node.text = text
    return node


def macro(parent: etree._Element, name: str, parameters: Iterable[tuple[str, str]] = ()) -> etree._Element:
    node = element(parent, "ac:structured-macro", {"ac:name": name})
    for key, value in parameters:
        element(node, "ac:parameter", {"ac:name": key}, value)
    return node
