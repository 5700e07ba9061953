"""Inline Markdown (and inline raw HTML) -> storage elements inside one block."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from lxml import etree
from markdown_it.token import Token

from mdsync import constructs
from mdsync.convert import carry
from mdsync.convert.markdown_parser import plain_text_of
from mdsync.storage.anchors import anchor_safe
from mdsync.storage.xhtml import append_text, element



class InlineHost(Protocol):
    """What an InlineWriter needs of the converter it writes for (to_storage.Converter)."""

    html: Any  # the raw HTML writer (rawhtml.HtmlWriter)
    restored: list[str]

    def warn(self, message: str, kind: Literal["degraded", "broken", "refused"] = "degraded") -> None: ...

    def kept(self, marker: carry.Marker | None, what: str) -> carry.Carried | None: ...

    def restore(self, storage: str, parent: etree._Element) -> None: ...

    def image(self, parent: etree._Element, src: str, alt: str, title: str | None, width: str | None = None,
              height: str | None = None) -> None: ...

    def start_link(self, parent: etree._Element, href: str, title: str | None) -> tuple[etree._Element, Any]: ...

    def finish_link(self, body: etree._Element, opened: Any) -> None: ...

_LINK_BODY = "{http://atlassian.com/content}link-body"


@dataclass
class _Open:
    kind: str
    element: etree._Element
    link: Any = None


class InlineWriter:
    """Writes inline content into ``parent``, keeping a stack of open marks and links.

    The work per token does not grow with the paragraph: text is gathered and set once per
    element (adding to an element's text copies all of it), and what is open is counted, not
    searched for, so ten thousand nested marks or lines cost ten thousand steps.
    """

    def __init__(self, converter: InlineHost, parent: etree._Element) -> None:
        self.converter = converter
        self.root = parent
        self.stack: list[_Open] = []
        self._open_kinds: Counter[str] = Counter()
        self._link_bodies = 0  # entries on the stack that write into a link body
        self._text: list[str] = []  # text not yet in the tree; it goes to the innermost open element

    @property
    def current(self) -> etree._Element:
        """The element to write into, with the text gathered so far in it."""
        self._flush()
        return self._innermost

    @property
    def _innermost(self) -> etree._Element:
        return self.stack[-1].element if self.stack else self.root

    @property
    def in_link_body(self) -> bool:
        return self._link_bodies > 0

    # -- primitives shared with raw HTML --------------------------------------------------

    def text(self, text: str) -> None:
        if text:
            self._text.append(text)

    def open_mark(self, kind: str, tag: str, attrib: dict[str, str] | None = None) -> None:
        if self.in_link_body and tag not in constructs.LINK_BODY_TAGS:
            # Inside a link body Confluence allows only a few marks; others become styled spans.
            spec = constructs.MARK_BY_TAG.get(tag)
            style = spec.link_body_style if spec is not None else None
            node = element(self.current, "span", {"style": style} if style else None)
        else:
            node = element(self.current, tag, attrib)
        self._push(_Open(kind, node))

    def close(self, kind: str) -> bool:
        """Close the innermost open ``kind`` (and anything opened inside it)."""
        if not self._open_kinds[kind]:
            return False
        self._flush()  # the gathered text belongs inside what closes
        while self._pop().kind != kind:
            pass
        return True

    def is_open(self, kind: str) -> bool:
        return self._open_kinds[kind] > 0

    def start_link(self, kind: str, href: str, title: str | None) -> None:
        if self.in_link_body or self.is_open("link") or self.is_open("html:a"):
            # Links cannot nest: the inner one keeps only its text.
            self._push(_Open(kind, self.current))
            return
        body, link = self.converter.start_link(self.current, href, title)
        self._push(_Open(kind, body, link))

    def image(self, src: str, alt: str, title: str | None, width: str | None, height: str | None) -> None:
        self.converter.image(self.current, src, alt, title, width, height)

    def line_break(self) -> None:
        element(self.current, "br")

    def finish(self) -> None:
        self._flush()
        while self.stack:
            self._pop()

    def _flush(self) -> None:
        if self._text:
            append_text(self._innermost, "".join(self._text))
            self._text.clear()

    def _push(self, entry: _Open) -> None:
        self.stack.append(entry)
        self._open_kinds[entry.kind] += 1
        self._link_bodies += entry.element.tag == _LINK_BODY

    def _pop(self) -> _Open:
        entry = self.stack.pop()
        self._open_kinds[entry.kind] -= 1
        self._link_bodies -= entry.element.tag == _LINK_BODY
        if entry.link is not None:
            self.converter.finish_link(entry.element, entry.link)
        return entry

    # -- Markdown tokens --------------------------------------------------------------------

    def write(self, children: Sequence[Token]) -> None:
        index = 0
        while index < len(children):
            token = children[index]
            if token.type == "html_inline" and carry.is_inline_open(token.content):
                index = self._carried(children, index)
                continue
            self._token(token)
            index += 1
        self.finish()

    def _carried(self, children: Sequence[Token], index: int) -> int:
        """Inline carried storage: put back if its readable part is untouched, else push the edit."""
        end = carry.inline_region_end(children, index)
        if end is None:
            self.converter.warn("a kept-content marker (mdsync-keep) is not closed; its text is pushed as ordinary "
                                "Markdown")
            return index + 1
        carried = self.converter.kept(carry.parse_inline_open(children[index].content), "mdsync-keep")
        if carried is None:
            return index + 1
        if carry.fingerprint(children[index + 1 : end]) == carried.checksum:
            self.converter.restore(carried.storage, self.current)
            self.converter.restored.append(carried.label)
            return end + 1
        self.converter.warn(f"the {carried.label} was edited in Markdown: the edit is pushed, and what only "
                            "Confluence could show of it is replaced")
        return index + 1

    def _token(self, token: Token) -> None:
        kind = token.type
        if kind == "text":
            self.text(token.content)
        elif kind == "softbreak":
            self.text("\n")
        elif kind == "hardbreak":
            self.line_break()
        elif kind == "code_inline":
            element(self.current, "code", None, token.content)
        elif kind.endswith("_open") and kind[:-5] in constructs.MARKS:
            self.open_mark(kind[:-5], constructs.MARKS[kind[:-5]])
        elif kind.endswith("_close") and kind[:-6] in constructs.MARKS:
            self.close(kind[:-6])
        elif kind == "link_open":
            self.start_link("link", str(token.attrGet("href") or ""), _optional(token.attrGet("title")))
        elif kind == "link_close":
            self.close("link")
        elif kind == "image":
            self.image(str(token.attrGet("src") or ""), plain_text_of(token.children or []),
                       _optional(token.attrGet("title")), _optional(token.attrGet("width")),
                       _optional(token.attrGet("height")))
        elif kind == "html_inline":
            self.converter.html.inline(token.content, self)
        elif kind == "footnote_ref":
            self._footnote_ref(token)
        else:
            self.text(token.content)

    def _footnote_ref(self, token: Token) -> None:
        label = str(token.meta.get("label") or token.meta.get("id", 0))
        number = int(token.meta.get("id", 0)) + 1
        sup = element(self.current, "sup")
        link = element(sup, "ac:link", {"ac:anchor": constructs.FOOTNOTE_ANCHOR.format(label=anchor_safe(label))})
        element(link, "ac:link-body").text = str(number)


def _optional(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
