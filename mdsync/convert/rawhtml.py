"""Raw HTML inside Markdown -> storage, as real READMEs use it.

``<p align="center">``, ``<img>`` without a closing slash, ``<a><img></a>`` badges,
``<br>``, ``<details><summary>``, ``<picture>``, marks like ``<sub>`` and ``<kbd>``, and
plain HTML tables and lists become their storage equivalents. Comments are dropped.
Anything else (scripts, iframes, forms...) is shown as visible text, never emitted as
markup and never an error. Python's tolerant ``html.parser`` reads the fragments.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any, Protocol

from lxml import etree

from mdsync import constructs
from mdsync.convert import carry
from mdsync.convert.inline import InlineHost, InlineWriter
from mdsync.storage.xhtml import append_text, element, macro



class BlockHost(InlineHost, Protocol):
    """What an HtmlWriter needs of the converter: its open blocks too (to_storage.Converter)."""

    stack: list[Any]

    @property
    def here(self) -> etree._Element: ...

    def open_block(self, kind: str, content: etree._Element, list_frame: Any = None,
                   align: str | None = None) -> None: ...

    def close_block(self, kind: str) -> Any: ...

    def is_block_open(self, kind: str) -> bool: ...

VOID = frozenset({"img", "br", "hr", "source", "wbr", "input", "meta", "link", "area", "col", "embed", "track"})
# Block elements that may stay open across Markdown blocks (<details> ... </details>).
PERSISTENT = frozenset({"details", "div", "center", "blockquote", "table", "tbody", "thead", "tfoot", "tr",
                        "td", "th", "ul", "ol", "li", "section", "article", "header", "footer", "main", "aside",
                        "nav", "figure"})
# Containers with no storage element of their own: their content goes where they stand.
TRANSPARENT = frozenset({"div", "center", "section", "article", "header", "footer", "main", "aside", "nav",
                         "figure", "picture", "span", "font"})
TEXT_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption"})
STRUCTURE = {"table": "table", "thead": "tbody", "tbody": "tbody", "tfoot": "tbody", "tr": "tr", "td": "td",
             "th": "th", "ul": "ul", "ol": "ol", "li": "li", "blockquote": "blockquote", "pre": "pre"}
_ALIGN = re.compile(r"^(left|center|right)$", re.IGNORECASE)


class _Events(HTMLParser):
    """Turns an HTML fragment into a list of (kind, tag, attrs, raw) events."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, str, dict[str, str], str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, {k: v or "" for k, v in attrs}, self.get_starttag_text() or ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, {k: v or "" for k, v in attrs}, self.get_starttag_text() or ""))
        if tag not in VOID:
            self.events.append(("end", tag, {}, ""))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag, {}, f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.events.append(("data", "", {}, data))

    def handle_comment(self, data: str) -> None:
        pass  # comments are notes to the author; they have no place on the page

    def handle_decl(self, decl: str) -> None:
        self.events.append(("data", "", {}, f"<!{decl}>"))

    def unknown_decl(self, data: str) -> None:
        self.events.append(("data", "", {}, f"<![{data}]>"))

    def handle_pi(self, data: str) -> None:
        self.events.append(("data", "", {}, f"<?{data}>"))


Event = tuple[str, str, dict[str, str], str]

# How many characters html.parser may scan, per character of a fragment, for constructs that
# never end. Real HTML has one or two, each scanned once to the end; 10,000 need far more.
SCAN_PER_CHARACTER = 8


def html_events(fragment: str) -> tuple[list[Event], bool]:
    """Events of a fragment, and whether its end was too malformed to read (it is then text).

    A fragment the parser cannot read at all is kept as its text.
    """
    parser = _Events()
    try:
        parser.feed(fragment)
        whole = _close(parser, SCAN_PER_CHARACTER * len(fragment) + 4096)
    except (AssertionError, ValueError, IndexError):  # html.parser's reactions to odd markup
        return [("data", "", {}, fragment)], False
    return parser.events, not whole


def _close(parser: _Events, budget: int) -> bool:
    """``parser.close()``, in linear time; False if it gave up and kept the rest as text.

    Python's html.parser (before 3.11.13, 3.12.11 and 3.13.5) reads a construct that never
    ends (``<!--``, ``<a b=``, ``</``) at the end of the input by scanning to the end for its
    close, keeping its first characters as text and starting again after them: quadratic in
    ``<!--<!--<!--…``. This does the same, one construct at a time, counting what the scans
    cost; over ``budget`` characters, the rest is kept as text.
    """
    if _CLOSE_IS_LINEAR:
        parser.close()
        return True
    scanned = 0
    while not parser.cdata_elem and len(parser.rawdata) > 1 and parser.rawdata[0] == "<":
        # feed() stopped here: a construct whose end is not in the input.
        rest = parser.rawdata
        scanned += len(rest)
        if scanned > budget:
            parser.rawdata = ""
            parser.handle_data(rest)
            return False
        # What html.parser keeps as text: up to the next ">" (included), else the next "<".
        end = rest.find(">", 1) + 1
        if end == 0:
            end = rest.find("<", 1)
            end = end if end > 0 else 1
        parser.handle_data(unescape(rest[:end]) if parser.convert_charrefs else rest[:end])
        parser.rawdata = rest[end:]
        parser.goahead(False)
    parser.close()
    return True


def _close_is_linear() -> bool:
    """Whether this Python's html.parser ends an unclosed comment as a comment (the fixed, linear one)."""
    probe = _Events()
    probe.handle_comment = lambda data: probe.events.append(("comment", "", {}, data))  # type: ignore[method-assign]
    probe.feed("<!--x")
    probe.close()
    return any(kind == "comment" for kind, *_ in probe.events)


_CLOSE_IS_LINEAR = _close_is_linear()


class HtmlWriter:
    """Applies raw HTML fragments to the converter's open blocks."""

    def __init__(self, converter: BlockHost) -> None:
        self.converter = converter
        self.inline_writer: InlineWriter | None = None  # the text block being filled, if any
        self.inline_owner: int | None = None             # stack depth that block belongs to

    # -- inline HTML inside a Markdown paragraph ------------------------------------------

    def inline(self, fragment: str, writer: InlineWriter) -> None:
        events, cut = html_events(fragment)
        if cut:
            self._warn_unreadable()
        for kind, tag, attrs, raw in events:
            if kind == "data":
                writer.text(raw)
            elif kind == "start":
                self._inline_start(writer, tag, attrs, raw)
            elif not self._inline_end(writer, tag) and tag not in constructs.INLINE_HTML and tag not in TRANSPARENT \
                    and tag != carry.INLINE_TAG:
                writer.text(raw)

    def _inline_start(self, writer: InlineWriter, tag: str, attrs: dict[str, str], raw: str) -> None:
        if tag == "br":
            writer.line_break()
        elif tag == "img":
            writer.image(attrs.get("src", ""), attrs.get("alt", ""), attrs.get("title") or None,
                         attrs.get("width"), attrs.get("height"))
        elif tag == "a" and "href" in attrs:
            writer.start_link("html:a", attrs["href"], attrs.get("title") or None)
        elif tag == "mark":
            writer.open_mark("html:mark", "span", {"style": constructs.MARK_HIGHLIGHT_STYLE})
        elif tag in constructs.INLINE_HTML:
            writer.open_mark(f"html:{tag}", constructs.INLINE_HTML[tag])
        elif tag in ("picture", "source", "span", "font", carry.INLINE_TAG):
            pass  # wrappers: their content (the <img> of a <picture>) is what shows
        elif tag == "a":
            pass  # an anchor without href marks a spot; its text stays
        else:
            writer.text(raw)
            self.converter.warn(f"HTML tag <{tag}> has no Confluence equivalent; it is shown as text")

    def _inline_end(self, writer: InlineWriter, tag: str) -> bool:
        return writer.close(f"html:{tag}")

    # -- HTML blocks ------------------------------------------------------------------------

    def block(self, fragment: str) -> None:
        events, cut = html_events(fragment)
        if cut:
            self._warn_unreadable()
        for kind, tag, attrs, raw in events:
            if kind == "data":
                self._block_data(raw)
            elif kind == "start":
                self._block_start(tag, attrs, raw)
            else:
                self._block_end(tag, raw)
        self._end_of_block()

    def finish(self) -> None:
        """End of document: close what raw HTML left open."""
        self._close_text()

    def _warn_unreadable(self) -> None:
        self.converter.warn("an HTML block has too many tags or comments that never end to be read in reasonable "
                            "time; its rest is shown as text (close them, or put the block in a code block)")

    def _writer(self) -> InlineWriter:
        """The inline writer for the current block, opening a paragraph for stray text."""
        depth = len(self.converter.stack)
        if self.inline_writer is not None and self.inline_owner == depth:
            return self.inline_writer
        self._close_text()
        here = self.converter.here
        frame = self.converter.stack[-1]
        if frame.kind.startswith("html:") and frame.kind[5:] in TEXT_BLOCKS | {"li", "td", "th", "summary", "pre"}:
            target = here
        else:
            target = element(here, "p")
            align = self._inherited_align()
            if align:
                target.set("style", f"text-align: {align};")
        self.inline_writer = InlineWriter(self.converter, target)
        self.inline_owner = depth
        return self.inline_writer

    def _close_text(self) -> None:
        if self.inline_writer is not None:
            self.inline_writer.finish()
        self.inline_writer = None
        self.inline_owner = None

    def _inherited_align(self) -> str | None:
        return self.converter.stack[-1].inherited_align  # type: ignore[no-any-return]

    def _block_data(self, text: str) -> None:
        if not text.strip() and (self.inline_writer is None or self.inline_owner != len(self.converter.stack)):
            return
        self._writer().text(text)

    def _block_start(self, tag: str, attrs: dict[str, str], raw: str) -> None:
        converter = self.converter
        align = attrs.get("align", "")
        align = align.lower() if _ALIGN.match(align) else ("center" if tag == "center" else "")
        if tag == "details":
            self._close_text()
            expand = macro(converter.here, "expand")
            body = element(expand, "ac:rich-text-body")
            converter.open_block("html:details", body)
        elif tag == "summary":
            self._close_text()
            holder = etree.Element("summary")
            converter.open_block("html:summary", holder)
        elif tag in TEXT_BLOCKS:
            self._close_text()
            node = element(converter.here, tag if tag != "figcaption" else "p")
            if align:
                node.set("style", f"text-align: {align};")
            converter.open_block(f"html:{tag}", node)
        elif tag in STRUCTURE:
            self._close_text()
            node = element(converter.here, STRUCTURE[tag])
            if tag == "ol" and attrs.get("start", "").isdigit():
                node.set("start", attrs["start"])
            if tag in ("td", "th") and align:
                node.set("style", f"text-align: {align};")
            converter.open_block(f"html:{tag}", node)
        elif tag in TRANSPARENT and tag not in ("span", "font", "picture"):
            self._close_text()
            converter.open_block(f"html:{tag}", converter.here, align=align or None)
        elif tag == "hr":
            self._close_text()
            element(converter.here, "hr")
        else:
            self._inline_start(self._writer(), tag, attrs, raw)

    def _block_end(self, tag: str, raw: str) -> None:
        converter = self.converter
        kind = f"html:{tag}"
        if self.inline_writer is not None and self.inline_writer.is_open(kind):
            self.inline_writer.close(kind)
            return
        if converter.is_block_open(kind):
            self._close_text()
            frame = converter.close_block(kind)
            if tag == "summary" and frame is not None:
                self._set_expand_title(frame.content)
            return
        if tag not in constructs.INLINE_HTML and tag not in STRUCTURE and tag not in TEXT_BLOCKS \
                and tag not in TRANSPARENT and tag not in ("details", "summary", "a", "mark", "picture"):
            self._writer().text(raw)

    def _set_expand_title(self, holder: etree._Element) -> None:
        title = " ".join("".join(holder.itertext()).split())
        for frame in reversed(self.converter.stack):
            if frame.kind == "html:details":
                expand = frame.content.getparent()
                if expand is not None and title:
                    parameter = etree.Element("{http://atlassian.com/content}parameter",
                                              {"{http://atlassian.com/content}name": "title"})
                    parameter.text = title
                    expand.insert(0, parameter)
                return
        if title:
            append_text(element(self.converter.here, "p"), title)

    def _end_of_block(self) -> None:
        """Text blocks end with their HTML block; containers may stay open for Markdown inside."""
        self._close_text()
        stack = self.converter.stack
        while len(stack) > 1 and stack[-1].kind.startswith("html:") and stack[-1].kind[5:] not in PERSISTENT:
            frame = stack.pop()
            if frame.kind == "html:summary":
                self._set_expand_title(frame.content)
