"""Confluence storage format -> Markdown: degrade, never delete; carry what Markdown cannot say.

The storage is checked and parsed safely first (``storage_xml.parse_storage``: malformed
markup is one clear error with its position, DOCTYPE and ENTITY declarations are refused),
then walked once; each construct is written as ``constructs.py`` says, the table the other
direction writes from. Three things can happen to a construct:

* it has a Markdown form: it is written in it. What Markdown cannot say about it (a table's
  width, a code block's breakout, a task's id, a smart link's card) is left out of the
  file: a push takes it back from the page as last synced (``reapply.py``);
* it has none, but its content does (a layout, a coloured panel): its content is written as
  Markdown inside a *wrap* region that keeps the container (``carry.py``);
* it has none at all (a Jira macro, a mention, merged cells): it is written as readable
  Markdown inside a *keep* region, and a push puts the original storage back unless the
  readable part was edited.

Nothing is dropped: every word a reader sees in the page is in the Markdown a reader sees.

Why not markdownify: its conversions read BeautifulSoup trees and escape for Markdown in
general; mdsync needs escaping that mdsync's own reader (markdown-it) reads back to the same
characters, and a tree it already parsed safely. Building the soup alone cost more than this
whole conversion (README, "Confluence -> Markdown").
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from lxml import etree

from mdsync import constructs
from mdsync.constructs import CODE
from mdsync.convert import carry
from mdsync.convert.markdown_parser import make_parser
from mdsync.convert.markdown_text import (
    code_fence,
    code_span,
    escape_inline,
    escape_line_starts,
    href_destination,
    link_destination,
    link_title,
    path_destination,
)
from mdsync.storage.anchors import AnchorCounter, SlugCounter
from mdsync.storage.emoticons import emoticon_text
from mdsync.storage.nodes import Node as Tag
from mdsync.storage.nodes import Tree
from mdsync.storage.xhtml import (
    AC,
    RI,
    StorageParseError,
    new_root,
    parse_storage,
    serialize_element,
)

# (title, space key, anchor) -> the page's address, or a relative URL to its file (``a%20b.md#part``)
PageResolver = Callable[[str, "str | None", "str | None"], "str | None"]
AttachmentResolver = Callable[[str, "str | None"], "str | None"]
UserResolver = Callable[[str], "str | None"]

_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "tbody", "thead", "tfoot",
               "tr", "td", "th", "blockquote", "hr", "pre", "div", "ac:structured-macro", "ac:macro",
               "ac:rich-text-body", "ac:task-list", "ac:task", "ac:layout", "ac:layout-section",
               "ac:layout-cell", "ac:adf-extension", "ac:adf-node", "ac:adf-content", "colgroup", "col",
               "ac:parameter", "ac:plain-text-body", "ac:default-parameter", "ac:caption", "section"}
_SPACE_RUN = re.compile(r"[ \t\r\f\v]+")
_HARD_BREAK = "\x00hard-break\x00\n"  # a stand-in until the paragraph's text is final
_ODD_BACKSLASH_AT_EOL = re.compile(r"((?<!\\)(?:\\\\)*)\\$", re.MULTILINE)
_NEWLINE_SPACE = re.compile(r"[ \t]*\n[ \t\n]*")
_BLANK_LINES = re.compile(r"\n[ \t]*\n[\s]*")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_IGNORED = constructs.VOLATILE_ATTRIBUTES | {"class"}
_INLINE_CONTEXT = frozenset({"inline", "run", "heading", "link"})
# Diagram macros and the parameter naming their picture (attachment "<name>.png").
_DIAGRAMS = {"drawio": "diagramName", "gliffy": "name"}


@dataclass(frozen=True)
class ConvertedBack:
    """A page converted to Markdown."""

    markdown: str
    attachments: tuple[str, ...]
    links: tuple[tuple[str, str | None], ...]
    carried: tuple[str, ...]
    losses: tuple[str, ...]
    # ref -> what the markers keep, when asked to keep it out of the file (``keep_payloads``).
    payloads: dict[str, carry.Carried] = field(default_factory=dict)


@dataclass
class _State:
    attachments: list[str] = field(default_factory=list)
    links: list[tuple[str, str | None]] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)  # Confluence anchor -> GitHub slug
    slugs: set[str] = field(default_factory=set)  # every heading's GitHub slug
    footnotes: dict[str, str] = field(default_factory=dict)  # anchor name -> label


@dataclass
class _Region:
    """A carried region as written, until its fingerprint and ref are known."""

    placeholder: str
    kind: carry.Kind
    label: str
    readable: str
    inline: bool
    storage: str
    element: Any  # the lxml element (None for loose text), for its canonical form


@dataclass
class _MarkGroup:
    """Marks of one kind that touch, some around links: one emphasis to a reader (E12)."""

    tag: str
    pieces: list[Tag]


class StorageConverter:
    """Walks a storage tree and writes Markdown, following constructs.py."""

    def __init__(self, *, resolve_page: PageResolver | None = None,
                 resolve_attachment: AttachmentResolver | None = None,
                 resolve_user: UserResolver | None = None, keep_payloads: bool = False) -> None:
        self.resolve_page = resolve_page
        self.resolve_attachment = resolve_attachment
        self.resolve_user = resolve_user
        self.keep_payloads = keep_payloads
        self.state = _State()
        self.payloads: dict[str, carry.Carried] = {}
        self._regions: list[_Region] = []
        self._in_cell = 0
        self._skip: set[Tag] = set()  # elements written by their parent's own rule

    # -- entry ------------------------------------------------------------------------------

    def convert_storage(self, storage: str) -> str:
        root = Tree().node(parse_storage(storage))  # the strict, safe parse (raises StorageParseError)
        self.state = _State()
        self.payloads = {}
        self._regions = []
        self._in_cell = 0
        self._skip = set()
        self._index_headings(root)
        markdown = _tidy(self.blocks(root, frozenset()).replace(_HARD_BREAK, "\\\n"))
        return self._seal(markdown) if self._regions else markdown

    def _seal(self, markdown: str) -> str:
        """Fill in each region's fingerprint (or ref).

        A keep's readable part is parsed as part of its outermost region (written last),
        which also gives the fingerprints of the regions nested in it. All outermost parts are
        parsed in one go (block parts, then inline parts), copies taken out first:
        fingerprints ignore them, and parsing is the costly step.
        """
        covered: set[str] = set()
        outermost: list[_Region] = []
        for region in reversed(self._regions):
            if region.kind != "keep" or region.placeholder in covered:
                continue
            outermost.append(region)
            covered.update(carry.placeholders_in(region.readable))
        parser = make_parser()
        sums: dict[str, str] = {}
        # A readable part is parsed once however often it occurs (a mention, a status...).
        first: dict[tuple[bool, str], _Region] = {}
        repeats: list[tuple[_Region, _Region]] = []
        pending: list[_Region] = []
        for region in outermost:
            key = (region.inline, region.readable)
            if not region.readable.strip():
                sums[region.placeholder] = _EMPTY_FINGERPRINT
            elif key in first:
                repeats.append((region, first[key]))  # (regions nested in it have their own placeholders)
            else:
                first[key] = region
                pending.append(region)
        blocks = [region for region in pending if not region.inline]
        if blocks:
            text = f"\n\n{_SEAL_BLOCK}\n\n".join(_sealable(region.readable) for region in blocks)
            for region, tokens in zip(blocks, _split_tokens(parser.parse(text))):
                sums[region.placeholder] = carry.fingerprint(tokens)
                carry.nested_sums(tokens, sums)
        inlines = [region for region in pending if region.inline]
        if inlines:
            parsed = parser.parseInline(_SEAL_INLINE.join(_sealable(region.readable) for region in inlines))
            children = parsed[0].children or [] if parsed else []
            for region, tokens in zip(inlines, _split_inline(children)):
                sums[region.placeholder] = carry.fingerprint(tokens)
                carry.nested_sums([_Holder(tokens)], sums)
        for region, original in repeats:
            sums[region.placeholder] = sums[original.placeholder]
        values: dict[str, str] = {}
        # Refs name what a region keeps by what it shows; a self-contained keep marker holds
        # its fingerprint instead, and a self-contained wrap needs only a stable name.
        named = [region for region in self._regions if self.keep_payloads or region.kind == "wrap"]
        identities = _identities(named) if self.keep_payloads else [region.storage for region in named]
        kept_as: dict[str, str] = {}  # ref -> the storage it names
        for region, identity in zip(named, identities):
            checksum = sums.get(region.placeholder) if region.kind == "keep" else None
            ref = carry.payload_ref(region.kind, region.label, identity, checksum)
            repeat = 0
            while kept_as.setdefault(ref, region.storage) != region.storage:
                # Two regions that show the same but are not (two statuses with their own ids, links
                # to one title in two spaces): each its own ref, numbered in the page's order.
                repeat += 1
                ref = carry.payload_ref(region.kind, region.label, f"{identity}\x1e{repeat}", checksum)
            values[region.placeholder] = ref
            if self.keep_payloads:
                self.payloads[ref] = carry.Carried(region.kind, region.label, region.storage, checksum)
        for region in self._regions:
            values.setdefault(region.placeholder, sums.get(region.placeholder, region.placeholder))
        return carry.fill_placeholders(markdown, values)

    # -- traversal --------------------------------------------------------------------------

    @staticmethod
    def qname(node: Tag) -> str:
        return node.qname

    def process_tag(self, node: Tag, context: frozenset[str]) -> str:
        return self._handler(node.qname)(self, node, context)

    @classmethod
    @cache
    def _handler(cls, name: str) -> Callable[[StorageConverter, Tag, frozenset[str]], str]:
        """The method that writes an element, by its name (looked up once per name)."""
        handler = getattr(cls, "tag_" + re.sub(r"[^A-Za-z0-9]", "_", name), None)
        if handler is not None:
            return handler
        if name in constructs.MARK_BY_TAG:
            return cls.mark_tag
        if name in _BLOCK_TAGS or name.startswith("ac:"):
            return cls.unknown_element
        return cls.inline

    def blocks(self, node: Tag, context: frozenset[str]) -> str:
        """The children of a block container: blocks, and runs of inline content as paragraphs."""
        parts: list[str] = []
        run: list[Any] = []

        # Markdown makes loose text a paragraph except in list items, cells and tasks holding
        # only text; loose text elsewhere is carried so that it comes back unwrapped.
        holds_text = node.qname in ("li", "td", "th", "ac:task-body")
        bare = not holds_text  # ... and, in those, text that comes after a block (set below)

        def flush() -> None:
            if run:
                text = self.inline_run(run, context)
                if text.strip():
                    if bare and any(isinstance(item, Tag) or str(item).strip() for item in run):
                        text = self.carry_run(list(run), text)
                    parts.append(text)
                run.clear()

        previous = ""
        for child in node.children:
            if isinstance(child, Tag) and child in self._skip:
                continue
            if isinstance(child, Tag) and (bare or not holds_text) and child.qname == "ac:image" and \
                    not any(isinstance(item, Tag) or str(item).strip() for item in run):
                # An image standing at block level is a paragraph of its own (E7).
                flush()
                rendered = self.process_tag(child, context)
                if rendered.strip():
                    parts.append(rendered.strip("\n"))
                previous = ""
                continue
            block = self._as_block(child) if isinstance(child, Tag) else None
            if block is not None:
                flush()
                bare = True  # Markdown cannot put loose text after a block in the same item
                name = block.qname
                # Two lists in a row would merge into one; a different marker keeps them apart.
                alternate = {"alternate"} if name == previous and name in ("ul", "ol", "ac:task-list") else set()
                rendered = self.process_tag(block, context | alternate)
                if rendered.strip():
                    parts.append(rendered.strip("\n"))
                    previous = name if not alternate else ""
            else:
                if isinstance(child, Tag) or str(child).strip():
                    previous = ""
                run.append(child)
        flush()
        return "\n\n".join(parts)

    def _as_block(self, node: Tag) -> Tag | None:
        """The block a child stands for: itself, or what a bare paragraph around one block holds.

        Legacy editors and hand-written pages put macros, task lists and tables inside a
        ``<p>``; the paragraph adds nothing a reader sees (a push puts it back, reapply.py).
        """
        if self.is_block(node):
            if node.qname == "p" and not _significant_attributes(node):
                inner = _sole_element(node)
                if inner is not None and inner.qname != "p" and self.is_block(inner):
                    return inner
            return node
        return None

    def is_block(self, node: Tag) -> bool:
        name = node.qname
        if name == "ac:structured-macro":
            return _macro_name(node) not in constructs.INLINE_MACROS
        if name == "ac:image":
            return False
        return name in _BLOCK_TAGS or name in ("ac:task-list", "ac:layout", "ac:adf-extension")

    def inline_run(self, nodes: Iterable[Any], context: frozenset[str]) -> str:
        context = context | {"run"}
        nodes = [item for item in nodes if not (isinstance(item, Tag) and item in self._skip)]
        # A line break at the very end of a paragraph shows nothing (and "\" there would be text).
        while nodes and (isinstance(nodes[-1], Tag) and nodes[-1].name == "br" or
                         not isinstance(nodes[-1], Tag) and not str(nodes[-1]).strip()):
            nodes.pop()
        text = self.pieces(nodes, context)
        if "\n" in text:
            text = _NEWLINE_SPACE.sub("\n", text)
        # Markdown trims a paragraph's edges, Unicode spaces included: a no-break space there
        # (a common indent) is written as a reference, which Markdown keeps.
        text = _edge_spaces_as_references(text.strip(" \t\n\r\f\v"))
        # A backslash from the text that ends up last on a line would be read as a line
        # break (or shown only sometimes): double it. Real line breaks are written after.
        if "\\" in text:
            text = _ODD_BACKSLASH_AT_EOL.sub(r"\1\\\\", text)
        return escape_line_starts(text).replace(_HARD_BREAK, "\\\n")

    def pieces(self, nodes: list[Any], context: frozenset[str]) -> str:
        """Inline nodes in order, marks split around links taken as one (E12)."""
        out = []
        # A lone link wholly in a mark reads as the mark around it, unless a mark is open already.
        items = _group_marks(nodes, hoist_single=not any(entry.startswith("mark:") for entry in context))
        index = 0
        while index < len(items):
            item = items[index]
            if _plain_code(item) and index + 1 < len(items) and _plain_code(items[index + 1]):
                # Code spans that touch are one span: written apart, their backticks would meet.
                end = index
                while end < len(items) and _plain_code(items[end]):
                    end += 1
                code = "".join(piece.get_text() for piece in items[index:end])
                out.append(self.tag_code_text(code, context))
                index = end
                continue
            if isinstance(item, _MarkGroup):
                out.append(self.mark_group(item, context))
            elif isinstance(item, Tag):
                out.append(self.process_tag(item, context))
            else:
                out.append(self.text(item, context))
            index += 1
        return _join_inline(out)

    def inline(self, node: Tag, context: frozenset[str]) -> str:
        """Children of an inline element, as inline Markdown."""
        return self.pieces([child for child in node.children if not (isinstance(child, Tag) and child in self._skip)],
                           context)

    def text(self, text: str, context: frozenset[str]) -> str:
        if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
            text = _SPACE_RUN.sub(" ", text)
        if "code" in context:
            return text
        return escape_inline(text, pipes="cell" not in context)

    # -- carrying -----------------------------------------------------------------------------

    def storage_of(self, node: Tag) -> str:
        """The page's own storage for an element (attribute order, CDATA and all)."""
        return serialize_element(node.element)

    def placeholder(self) -> str:
        """A unique stand-in for a fingerprint or ref, filled in once the document is written."""
        return f"{len(self._regions) + 1:012x}"

    def _region(self, kind: carry.Kind, label: str, readable: str, inline: bool, storage: str,
                element: Any) -> str:
        placeholder = self.placeholder()
        self._regions.append(_Region(placeholder, kind, carry.clean_label(label), readable, inline, storage, element))
        if kind == "keep":
            self.state.carried.append(label)
        return placeholder

    def carry(self, node: Tag, readable: str, label: str, context: frozenset[str]) -> str:
        """Keep an element: inline where its context is a line of text, else as a block."""
        if self._in_cell or context & _INLINE_CONTEXT:
            return self.carry_inline(node, readable, label)
        return self.carry_block(node, readable, label)

    def carry_block(self, node: Tag, readable: str, label: str) -> str:
        readable = readable.strip("\n")
        if self._in_cell:
            return self.carry_inline(node, readable, label)
        storage = self.storage_of(node)
        placeholder = self._region("keep", label, readable, False, storage, node.element)
        marker = carry.open_marker("keep", label, placeholder, None if self.keep_payloads else storage)
        body = f"\n\n{readable}\n\n" if readable else "\n\n"
        return f"{marker}{body}{carry.END}"

    def carry_run(self, nodes: list[Any], readable: str) -> str:
        """Inline content standing loose among blocks (no paragraph around it)."""
        storage = "".join(self.storage_of(node) if isinstance(node, Tag) else xml_escape(str(node)) for node in nodes)
        if self._in_cell:
            return self._inline_region(readable, "loose text", storage, None)  # a cell is one line
        placeholder = self._region("keep", "loose text", readable, False, storage, None)
        marker = carry.open_marker("keep", "loose text", placeholder, None if self.keep_payloads else storage)
        return f"{marker}\n\n{readable}\n\n{carry.END}"

    def carry_inline(self, node: Tag, readable: str, label: str) -> str:
        """Keep an element inside a line of text."""
        return self._inline_region(readable, label, self.storage_of(node), node.element)

    def _inline_region(self, readable: str, label: str, storage: str, element: Any) -> str:
        # One line of text: a blank line or a line start would end the paragraph it stands in.
        readable = _BLANK_LINES.sub("<br>", readable.replace(_HARD_BREAK, "<br>").strip()).replace("\n", " ")
        placeholder = self._region("keep", label, readable, True, storage, element)
        return f"{carry.inline_open(placeholder, None if self.keep_payloads else storage)}{readable}{carry.INLINE_CLOSE}"

    def wrap(self, node: Tag, slots: list[Tag], label: str, context: frozenset[str]) -> str:
        """Keep a container while its content stays Markdown, one slot after another."""
        if self._in_cell or context & _INLINE_CONTEXT:
            readable = "<br>".join(part for part in (self.blocks(slot, context) for slot in slots) if part.strip())
            return self.carry_inline(node, readable, label)
        skeleton = copy.deepcopy(node.element)
        skeleton.tail = None
        for number, slot in enumerate(slots):
            target = _same_place(node.element, slot.element, skeleton)
            target.text = None
            for child in list(target):
                target.remove(child)
            target.set("data-mdsync-slot", str(number))
        storage = serialize_element(skeleton)
        contents = [self.blocks(slot, context).strip("\n") for slot in slots]
        placeholder = self._region("wrap", label, "", False, storage, skeleton)
        marker = carry.open_marker("wrap", label, placeholder, None if self.keep_payloads else storage)
        body = f"\n\n{carry.NEXT}\n\n".join(content if content else "" for content in contents)
        body = re.sub(r"\n{3,}", "\n\n", f"\n\n{body}\n\n")
        return f"{marker}{body}{carry.WRAP_END}"

    def unknown_element(self, node: Tag, context: frozenset[str]) -> str:
        """An element nobody mapped: its content stays readable, the element is carried."""
        name = node.qname
        if self.is_block(node) or name.startswith("ac:"):
            if context & _INLINE_CONTEXT:
                return self.carry_inline(node, self.inline(node, context), name)
            return self.carry_block(node, self.blocks(node, context), name)
        return self.inline(node, context)

    # -- paragraphs and headings --------------------------------------------------------------

    def tag_p(self, node: Tag, context: frozenset[str]) -> str:
        # In a cell, the editor puts the cell's alignment on its paragraph (E6): the column says it.
        # An image alone in a centred paragraph is a block image (centred already, E7, E9).
        centred_image = _alignment_only(node) and _alignment_of(node.get("style", "")) == "center" and \
            (inner := _sole_element(node)) is not None and inner.qname == "ac:image"
        if _significant_attributes(node) and not ("cell" in context and _alignment_only(node)) and not centred_image:
            return self.carry(node, self.inline_run(node.children, context), "styled paragraph", context)
        text = self.inline_run(node.children, context)
        if context & _INLINE_CONTEXT:
            return text.replace("\n", " ")
        return text

    def tag_h1(self, node: Tag, context: frozenset[str]) -> str:
        return self.heading(node, context, int(node.name[1]))

    tag_h2 = tag_h3 = tag_h4 = tag_h5 = tag_h6 = tag_h1

    def heading(self, node: Tag, context: frozenset[str], level: int) -> str:
        text = self.inline(node, context | {"heading"})  # Markdown already: escaped once, here
        text = _NEWLINE_SPACE.sub(" ", text).strip()
        line = f"{'#' * level} {text}"
        if text.endswith("#"):
            line = line[:-1] + "\\#"  # a trailing '#' run would be read as closing marks
        # An id names the heading for other tools; it stays with the page (reapply.py).
        if _significant_attributes(node) - {"id"} or "\\\n" in text or "<br>" in text:
            return self.carry(node, line, "styled heading", context)
        if context & _INLINE_CONTEXT or self._in_cell:
            return f"<strong>{text}</strong>" if text else ""
        if not text:
            return self.carry_block(node, "", "empty heading")
        return line

    def tag_br(self, node: Tag, context: frozenset[str]) -> str:
        if "heading" in context or "inline" in context or "cell" in context:
            return "<br>"
        return _HARD_BREAK

    def tag_blockquote(self, node: Tag, context: frozenset[str]) -> str:
        body = self.blocks(node, context | {"quote"})
        if context & _INLINE_CONTEXT:
            return self.carry_inline(node, body, "quote")
        return _prefix_lines(body, "> ", ">")

    def tag_pre(self, node: Tag, context: frozenset[str]) -> str:
        code = node.get_text()
        fence = code_fence(code)
        return self.carry(node, f"{fence}\n{code}\n{fence}" if not context & _INLINE_CONTEXT else code_span(code),
                          "preformatted text", context)

    # -- marks ----------------------------------------------------------------------------------

    def mark_tag(self, node: Tag, context: frozenset[str]) -> str:
        spec = constructs.MARK_BY_TAG[node.qname]
        if _significant_attributes(node):
            return self.carry(node, self.inline(node, context), "styled text", context)
        if spec.tag == "code":
            return self.tag_code(node, context)
        if spec.tag == "sup":
            label = self._footnote_reference(node)
            if label is not None:
                return f"[^{label}]"
        if spec.delimiter is None:
            inner = self.inline(node, context)
            return f"<{spec.tag}>{inner}</{spec.tag}>" if inner else ""
        return self._delimited(spec, self.inline(node, context | {f"mark:{spec.tag}"}), node, node, context)

    def mark_group(self, group: _MarkGroup, context: frozenset[str]) -> str:
        spec = constructs.MARK_BY_TAG[group.tag]
        if spec.tag == "sup" and len(group.pieces) == 1 and group.pieces[0].qname == "ac:link":
            label = self._footnote_label(group.pieces[0], None)  # a footnote's number, the link around it (E12)
            if label is not None:
                return f"[^{label}]"
        inner_context = context | {f"mark:{spec.tag}", f"unmark:{spec.tag}"}
        parts = []
        for piece in group.pieces:
            if constructs.MARK_BY_TAG.get(piece.qname) is spec:  # the mark itself; else a link inside it
                parts.append(self.inline(piece, context | {f"mark:{spec.tag}"}))
            else:
                parts.append(self.process_tag(piece, inner_context))
        inner = "".join(parts)
        if spec.delimiter is None:
            return f"<{spec.tag}>{inner}</{spec.tag}>" if inner else ""
        return self._delimited(spec, inner, group.pieces[0], group.pieces[-1], context)

    def _delimited(self, spec: constructs.Mark, inner: str, first: Tag, last: Tag, context: frozenset[str]) -> str:
        if not inner.strip():
            return inner
        nested = f"mark:{spec.tag}" in context  # the same mark inside itself: "**" would close it
        lead, core, trail = _chomp(inner)
        before, after = _neighbour_before(first), _neighbour_after(last)
        # Delimiter runs only work where CommonMark's flanking rules let them (punctuation
        # inside against a letter outside; "_" not inside words); elsewhere the HTML tag
        # says the same thing.
        edge_break = core.startswith(_HARD_BREAK) or core.endswith(_HARD_BREAK)  # written as "\": punctuation
        if _flanking_ok(before, core, after) and not nested and not edge_break:
            return f"{lead}{spec.delimiter}{core}{spec.delimiter}{trail}"
        return f"{lead}<{spec.tag}>{core}</{spec.tag}>{trail}"

    def tag_code(self, node: Tag, context: frozenset[str]) -> str:
        if any(isinstance(child, Tag) for child in node.children):
            return self.carry(node, code_span(node.get_text()), "styled code", context)
        return self.tag_code_text(node.get_text(), context)

    def tag_code_text(self, code: str, context: frozenset[str]) -> str:
        return code_span(code) if code else ""

    def tag_span(self, node: Tag, context: frozenset[str]) -> str:
        style = " ".join(node.get("style", "").split())
        inner = self.inline(node, context)
        if not _significant_attributes(node) - {"style"} and not style:
            return inner
        if style.rstrip(";") == constructs.MARK_HIGHLIGHT_STYLE.rstrip(";") and set(_significant_attributes(node)) == \
                {"style"}:
            return f"<mark>{inner}</mark>" if inner else ""
        if "line-through" in style and style.replace(" ", "").rstrip(";") == "text-decoration:line-through":
            return self.carry_inline(node, f"~~{inner}~~" if inner.strip() else inner, "struck text")
        return self.carry_inline(node, inner, "styled text")

    # -- links and images -----------------------------------------------------------------------

    def _link_text(self, body: Tag | None, context: frozenset[str]) -> str:
        return self.inline(body, context | {"link"}) if body is not None else ""

    def _unmark(self, node: Tag, context: frozenset[str]) -> Tag | None:
        """A link (or comment marker) whose text is all in a mark its caller writes around it (E12):
        a copy of it without that mark, to write (and keep) in its stead."""
        wanted = [item[len("unmark:"):] for item in context if item.startswith("unmark:")]
        if not wanted:
            return None
        mark = next((inner for inner in _covering(node) if constructs.MARK_BY_TAG[inner.qname].tag == wanted[0]), None)
        if mark is None:
            return None
        element = copy.deepcopy(node.element)
        element.tail = None
        _unwrap_element(_same_place(node.element, mark.element, element))
        return Tree().node(element)

    def tag_a(self, node: Tag, context: frozenset[str]) -> str:
        unmarked = self._unmark(node, context)
        if unmarked is not None:
            return self.pieces([unmarked], _without_unmark(context))  # marks left inside: outside too
        href = node.get("href")
        inner = self._link_text(node, context)
        if "link" in context:
            return inner
        if href is None:
            # An anchor without a target marks a spot (<a name="x">): kept, its text readable.
            return self.carry_inline(node, inner, "anchor")
        title = node.get("title")
        if not inner and not title:
            return f"[]({link_destination(href)})"
        rendered = f"[{inner}]({link_destination(href)}{' ' + link_title(title) if title else ''})"
        if href.startswith("#") or href and not _SCHEME.match(href) and not href.startswith(("/", "//")):
            # "#x" is a heading in Markdown and a relative path a file of ours: neither is what
            # the page meant, so the link is kept as it is.
            return self.carry_inline(node, rendered, "link")
        if inner == escape_inline(href) and not title and re.match(r"^[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*$", href):
            return f"<{href}>"
        return rendered

    def tag_ac_link(self, node: Tag, context: frozenset[str]) -> str:
        unmarked = self._unmark(node, context)
        if unmarked is not None:
            return self.pieces([unmarked], _without_unmark(context))  # marks left inside: outside too
        anchor = node.get("ac:anchor")
        page = _child(node, "page")
        attachment = _child(node, "attachment")
        body = _child(node, "plain-text-link-body")
        rich = _child(node, "link-body")
        if body is not None:
            text = escape_inline(body.get_text())
        else:
            text = self._link_text(rich, context)
        if "link" in context:
            return text
        label = self._footnote_label(node, None) if anchor and not page and not attachment else None
        if label is not None:
            return f"[^{label}]"
        if page is not None:
            title = page.get("ri:content-title", "")
            space = page.get("ri:space-key")
            self.state.links.append((title, space))
            target = self.resolve_page(title, space, anchor) if self.resolve_page else None
            shown = text or escape_inline(title)
            destination = _page_destination(target) if target else ""
            if target and not _SCHEME.match(target) and text:
                return f"[{shown}]({destination})"
            readable = f"[{shown}]({destination})" if target else shown
            return self.carry_inline(node, readable, "page link")
        if attachment is not None:
            filename = attachment.get("ri:filename", "")
            owner = _child(attachment, "page")
            owner_title = owner.get("ri:content-title") if owner is not None else None
            href = self._attachment_href(filename, owner_title)
            shown = text or escape_inline(filename)
            if owner is None and text and not anchor:
                return f"[{shown}]({path_destination(href)})"
            return self.carry_inline(node, f"[{shown}]({path_destination(href)})", "file link")
        if anchor is not None and len(_elements(node)) <= 1 and text:
            slug = self.state.headings.get(anchor)
            if slug is None and anchor.lower() not in self.state.slugs:
                slug = anchor  # an anchor macro's name: written as it is, read back as it is
            if slug is not None:
                return f"[{text}]({link_destination('#' + slug)})"
            return self.carry_inline(node, f"[{text}]({link_destination('#' + anchor)})", "anchor link")
        user = _child(node, "user")
        if user is not None:
            account = user.get("ri:account-id") or user.get("ri:userkey") or user.get("ri:username") or "user"
            name = (self.resolve_user(account) if self.resolve_user else None) or account
            return self.carry_inline(node, text or escape_inline(f"@{name}"), "mention")
        readable = text or escape_inline(_identifier_text(node))
        return self.carry_inline(node, readable, "link")

    def _attachment_href(self, filename: str, owner_title: str | None) -> str:
        self.state.attachments.append(filename)
        if self.resolve_attachment is not None:
            resolved = self.resolve_attachment(filename, owner_title)
            if resolved:
                return resolved
        return filename

    def tag_ac_image(self, node: Tag, context: frozenset[str]) -> str:
        alt = node.get(constructs.IMAGE.alt) or ""
        title = node.get(constructs.IMAGE.title)
        width = node.get(constructs.IMAGE.width)
        height = node.get(constructs.IMAGE.height)
        attachment = _child(node, "attachment")
        url = _child(node, "url")
        if attachment is not None:
            owner = _child(attachment, "page")
            src = path_destination(self._attachment_href(attachment.get("ri:filename", ""),
                                                          owner.get("ri:content-title") if owner is not None else None))
            exotic = owner is not None
        elif url is not None:
            src = link_destination(url.get("ri:value", ""))
            exotic = False
        else:
            return self.carry_inline(node, escape_inline(alt), "image")
        rendered = f"![{escape_inline(alt)}]({src}{' ' + link_title(title) if title else ''})"
        sizes = [f"{name}={value}" for name, value in (("width", width), ("height", height)) if value]
        if sizes:
            rendered += "{" + " ".join(sizes) + "}"
        caption = _child(node, "caption")
        if caption is not None:
            # The caption is shown under the image; its text stays readable beside it.
            rendered += " " + self.inline_run(caption.children, context).replace("\n", " ")
        odd_size = any(value and not value.isdigit() for value in (width, height))
        if exotic or caption is not None or odd_size:
            return self.carry_inline(node, rendered.strip(), "image")
        return rendered  # layout, alignment, borders... stay with the page (reapply.py)

    # -- code and macros --------------------------------------------------------------------------

    def tag_ac_structured_macro(self, node: Tag, context: frozenset[str]) -> str:
        name = _macro_name(node)
        handler = self._macro_handler(name.lower())
        if handler is not None:
            return handler(self, node, context, _parameters(node))
        return self.unknown_macro(node, context, name)

    @classmethod
    @cache
    def _macro_handler(cls, name: str) -> Callable[..., str] | None:
        return getattr(cls, "macro_" + re.sub(r"[^a-z0-9]", "_", name), None)

    def tag_ac_macro(self, node: Tag, context: frozenset[str]) -> str:
        return self.unknown_macro(node, context, node.get("ac:name", "macro"))

    def unknown_macro(self, node: Tag, context: frozenset[str], name: str) -> str:
        """Any macro: its bodies stay Markdown (wrapped), or its text readable (kept)."""
        bodies = _children(node, "rich-text-body")
        plain = _child(node, "plain-text-body")
        label = f"{name} macro"
        if bodies and not context & _INLINE_CONTEXT and not self._in_cell:
            return self.wrap(node, bodies, label, context)
        if context & _INLINE_CONTEXT or not self.is_block(node):
            if bodies:
                readable = " ".join(self.inline(body, context) for body in bodies)
            else:
                readable = escape_inline(plain.get_text() if plain is not None else _parameter_summary(node))
            return self.carry_inline(node, readable, label)
        if plain is not None:
            code = plain.get_text()
            fence = code_fence(code)
            readable = f"{fence}\n{code}\n{fence}"
        else:
            summary = _parameter_summary(node)
            readable = escape_line_starts(escape_inline(f"[{name}: {summary}]" if summary else f"[{name}]"))
        return self.carry_block(node, readable, label)

    def macro_code(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        plain = _child(node, "plain-text-body")
        code = plain.get_text() if plain is not None else ""
        language = constructs.markdown_language(params.get(CODE.language))
        info = [language] if language else []
        if params.get(CODE.title):
            info.append(f'title="{params[CODE.title]}"')
        numbered = params.get(CODE.line_numbers, "").lower() == "true"
        first = params.get(CODE.first_line, "")
        if numbered:
            info.append(f'linenums="{first if first.isdigit() else "1"}"')
        fence = code_fence(code)
        if info and not language:
            info.insert(0, "text")
        rendered = f"{fence}{' '.join(info)}\n{code}\n{fence}"
        sayable = '"' not in params.get(CODE.title, "") and " " not in language and _child(node, "rich-text-body") is None
        if first and not (numbered and first.isdigit()):
            sayable = False  # a first line number without line numbers: no fence says that
        if context & _INLINE_CONTEXT or self._in_cell or not sayable:
            return self.carry(node, rendered if not context & _INLINE_CONTEXT and not self._in_cell
                              else code_span(code), "code macro", context)
        return rendered  # theme, collapse, breakout... stay with the page (reapply.py)

    def macro_noformat(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        return self.unknown_macro(node, context, "noformat")

    def macro_html(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        """The HTML macro's body is HTML: shown as HTML in the Markdown, kept exactly for Confluence."""
        plain = _child(node, "plain-text-body")
        html = (plain.get_text() if plain is not None else "").strip("\n")
        if context & _INLINE_CONTEXT or self._in_cell or not html.lstrip().startswith("<") or "mdsync" in html or \
                not _ends_where_it_stands(html):
            return self.unknown_macro(node, context, "html")
        return self.carry_block(node, html, "html macro")

    def diagram(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        """A draw.io or Gliffy diagram: its exported picture shown, the macro kept exactly."""
        name = params.get(_DIAGRAMS[_macro_name(node)], "").strip()
        if not name:
            return self.unknown_macro(node, context, _macro_name(node))
        src = self._attachment_href(f"{name}.png", None)
        picture = f"![{escape_inline(name)}]({path_destination(src)})"
        return self.carry(node, picture, f"{_macro_name(node)} diagram", context)

    macro_drawio = macro_gliffy = diagram

    def panel(self, node: Tag, context: frozenset[str], params: dict[str, str], kind: str) -> str:
        body = _child(node, "rich-text-body")
        if len(_children(node, "rich-text-body")) > 1 or context & _INLINE_CONTEXT or self._in_cell:
            return self.unknown_macro(node, context, _macro_name(node))
        inner = self.blocks(body, context) if body is not None else ""
        title = params.get("title", "")
        macro = _macro_name(node)
        if title and ('"' in title or "\n" in title or title != title.strip()):
            return self.wrap(node, [body] if body is not None else [], f"{macro} panel", context)
        if title:
            tag = constructs.MACRO_ADMONITIONS[macro]
            # Every line indented, blank ones too: two blank lines would end the admonition.
            return f'!!! {tag} "{title}"\n' + _indent(inner, "    ", blank=True) if inner else f'!!! {tag} "{title}"'
        # icon, other parameters: no Markdown form; they stay with the page (reapply.py).
        return _prefix_lines(f"[!{kind}]" + ("\n" + inner if inner else ""), "> ", ">")

    def macro_info(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        return self.panel(node, context, params, constructs.MACRO_ALERTS[_macro_name(node)])

    macro_tip = macro_note = macro_warning = macro_info

    def macro_panel(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        body = _child(node, "rich-text-body")
        if params == constructs.IMPORTANT_PANEL_PARAMETERS and not context & _INLINE_CONTEXT and not self._in_cell \
                and len(_children(node, "rich-text-body")) == 1:
            inner = self.blocks(body, context) if body is not None else ""
            return _prefix_lines("[!IMPORTANT]" + ("\n" + inner if inner else ""), "> ", ">")
        return self.unknown_macro(node, context, "panel")

    def macro_expand(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        bodies = _children(node, "rich-text-body")
        title = params.get("title", "")
        if len(bodies) != 1 or context & _INLINE_CONTEXT or self._in_cell or _leading_space(title) or "\n" in title:
            return self.unknown_macro(node, context, "expand")
        inner = self.blocks(bodies[0], context)
        if not inner.strip():
            return self.unknown_macro(node, context, "expand")
        summary = f"<summary>{_html_text(title)}</summary>\n" if title else ""
        return f"<details>\n{summary}\n{inner}\n\n</details>"

    def macro_toc(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        if context & _INLINE_CONTEXT or self._in_cell:
            return self.carry(node, "[TOC]", "toc", context)
        return "[TOC]"  # its levels and style stay with the page (reapply.py)

    def macro_anchor(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        return self.carry_inline(node, "", "anchor")

    def macro_status(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        title = params.get("title", "") or params.get("colour", "")
        return self.carry_inline(node, escape_inline(f"[{title.upper()}]") if title else "", "status")

    def macro_jira(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        key = params.get("key")
        server = params.get("server", "Jira")
        readable = escape_inline(key) if key else escape_inline(f"[{server}: {params.get('jqlQuery', '')}]")
        if self.is_block(node) and not context & _INLINE_CONTEXT and not key:
            return self.carry_block(node, readable, "jira macro")
        return self.carry_inline(node, readable, "jira issue")

    # -- lists and tasks ---------------------------------------------------------------------------

    def tag_ul(self, node: Tag, context: frozenset[str]) -> str:
        return self.listing(node, context, ordered=False)

    def tag_ol(self, node: Tag, context: frozenset[str]) -> str:
        if self._is_footnote_list(node) and not context & _INLINE_CONTEXT:
            return self.footnote_definitions(node, context)
        return self.listing(node, context, ordered=True)

    # -- footnotes: mdsync writes them as an anchored list after a rule -------------------------

    def _footnote_reference(self, sup: Tag) -> str | None:
        """``[^label]``: a superscript link to a note's anchor (or the link around the superscript, E12)."""
        link = _sole_element(sup)
        if link is None or link.qname != "ac:link":
            return None
        return self._footnote_label(link, sup)

    def _footnote_label(self, link: Tag, number: Tag | None) -> str | None:
        label = self.state.footnotes.get(link.get("ac:anchor", ""))
        body = _child(link, "plain-text-link-body") or _child(link, "link-body")
        if label is None or set(_significant_attributes(link)) != {"ac:anchor"} or body is None or \
                len(_elements(link)) != 1:
            return None
        if number is None:  # the link holds the superscript
            number = _sole_element(body)
            if number is None or number.qname != "sup" or _elements(number):
                return None
        elif _elements(body):
            return None
        return label if re.fullmatch(r"[^\s\[\]]+", label) else None

    def _footnote_anchor(self, item: Tag) -> Tag | None:
        """The anchor macro a note's list item starts with (in a paragraph of its own, E6)."""
        first = next(iter(_elements(item)), None)
        if first is not None and first.qname == "p" and not _significant_attributes(first):
            first = _sole_element(first)
        if first is None or first.qname != "ac:structured-macro" or _macro_name(first) != "anchor" or \
                _parameters(first).get("", "") not in self.state.footnotes:
            return None
        return first

    def _is_footnote_list(self, node: Tag) -> bool:
        previous = next((sibling for sibling in node.previous_siblings if isinstance(sibling, Tag)), None)
        items = [child for child in node.children if isinstance(child, Tag)]
        if previous is None or previous.name != "hr" or not items or _significant_attributes(node):
            return False
        return all(item.name == "li" and self._footnote_anchor(item) is not None for item in items)

    def footnote_definitions(self, node: Tag, context: frozenset[str]) -> str:
        definitions = []
        for item in _children(node, "li"):
            anchor = self._footnote_anchor(item)
            assert anchor is not None
            label = self.state.footnotes[_parameters(anchor).get("", "")]
            # The anchor is how the note is found; Markdown needs none (nor the paragraph around it).
            self._skip.add(anchor if anchor.parent is item else anchor.parent)
            body = self.blocks(item, context)
            definitions.append(f"[^{label}]: " + _indent(body, "    ").lstrip(" "))
        return "\n\n".join(definitions)

    def tag_hr(self, node: Tag, context: frozenset[str]) -> str:
        following = next((sibling for sibling in node.next_siblings if isinstance(sibling, Tag)), None)
        if following is not None and following.name == "ol" and self._is_footnote_list(following):
            return ""  # the rule is part of how footnotes are shown; Markdown writes it itself
        if context & _INLINE_CONTEXT or self._in_cell:
            return self.carry_inline(node, "", "rule")
        # In a list item "- ---" would be read as a rule ending the list (and "* ***" too).
        return "***" if "list" in context and "star-bullet" not in context else "---"

    def listing(self, node: Tag, context: frozenset[str], ordered: bool) -> str:
        items = [child for child in node.children if isinstance(child, Tag)]
        loose_text = any(isinstance(child, str) and child.strip() for child in node.children)
        if context & _INLINE_CONTEXT or self._in_cell or loose_text or any(child.name != "li" for child in items) \
                or _significant_attributes(node) - {"start"} or any(_significant_attributes(item) for item in items):
            return self.carry(node, self._list_readable(node, context, ordered), "list", context)
        start = node.get("start", "1")
        number = int(start) if start.isdigit() else 1
        rendered = []
        loose = False
        alternate = "alternate" in context
        context = context - {"alternate"}
        item_context = (context - {"star-bullet"}) | ({"star-bullet"} if alternate and not ordered else set())
        for item in items:
            marker = (f"{number}) " if alternate else f"{number}. ") if ordered else ("* " if alternate else "- ")
            body, item_loose = self.list_item(item, item_context)
            loose = loose or item_loose
            rendered.append(marker + _indent(body, " " * len(marker)).lstrip(" ") if body else marker.rstrip())
            number += 1
        return ("\n\n" if loose else "\n").join(rendered)

    def _list_readable(self, node: Tag, context: frozenset[str], ordered: bool) -> str:
        """A list Markdown cannot write as it is (styled, or holding more than items), read as a list."""
        lines = []
        number = int(node.get("start", "1")) if node.get("start", "1").isdigit() else 1
        for child in node.children:
            if isinstance(child, Tag) and child.name == "li":
                marker = f"{number}. " if ordered else "- "
                body = " ".join(self.blocks(child, context - {"inline"}).split())
                lines.append(marker + body)
                number += 1
            elif isinstance(child, Tag):
                nested = self.process_tag(child, context - {"inline"})
                if nested.strip():
                    lines.append(_indent(nested, "  "))
            elif str(child).strip():
                lines.append(escape_inline(str(child).strip()))
        return "\n".join(lines)

    def list_item(self, node: Tag, context: frozenset[str]) -> tuple[str, bool]:
        # An image standing after the item's text is a paragraph of its own (E7).
        paragraphs = sum(1 for index, child in enumerate(node.children) if isinstance(child, Tag) and
                         (child.name == "p" or child.qname == "ac:image" and index and
                          any(isinstance(before, Tag) and self.is_block(before) for before in node.children[:index])))
        parts = self.blocks(node, context | {"list"})
        if paragraphs >= 2:
            return parts, True
        # One paragraph and nested blocks read as a tight item: no blank lines inside it.
        return re.sub(r"\n\n(?=\S)", "\n", parts) if self._tight_joinable(node) else parts, \
            "\n\n" in parts and not self._tight_joinable(node)

    def _tight_joinable(self, node: Tag) -> bool:
        blocks = [child for child in node.children if isinstance(child, Tag) and self.is_block(child)]
        return all(child.qname in ("ul", "ol", "p", "ac:task-list") for child in blocks)

    def tag_li(self, node: Tag, context: frozenset[str]) -> str:
        return self.blocks(node, context)

    def tag_ac_task_list(self, node: Tag, context: frozenset[str]) -> str:
        lines: list[str] = []
        bullet = "*" if "alternate" in context else "-"
        context = context - {"alternate"}
        faithful = not context & _INLINE_CONTEXT and not self._in_cell
        for child in node.children:
            if not isinstance(child, Tag):
                if str(child).strip():
                    faithful = False
                    lines.append(escape_inline(str(child).strip()))
                continue
            name = child.qname
            if name == "ac:task":
                line = self.task(child, context)
                if line:
                    lines.append(bullet + line[1:])
                else:
                    faithful = False  # an empty task (or one holding blocks) has no Markdown form
                    lines.append(self._task_readable(child, context))
            elif name == "ac:task-list" and lines:
                lines[-1] += "\n" + _indent(self.tag_ac_task_list(child, context), "  ")
            else:
                faithful = False
                lines.append(self.blocks(child, context) if self.is_block(child) else self.inline(child, context))
        if faithful:
            return "\n".join(lines)
        return self.carry(node, "\n".join(line for line in lines if line.strip()), "task list", context)

    def _task_readable(self, node: Tag, context: frozenset[str]) -> str:
        """What a reader sees of a task Markdown cannot write: its box and its text on one line."""
        status = _child(node, "task-status")
        body = _child(node, "task-body")
        done = status is not None and constructs.TASK.is_done(status.get_text())
        text = " ".join(self.blocks(body, context | {"task"}).split()) if body is not None else ""
        return f"{bullet_box(done)} {text}".rstrip()

    def task(self, node: Tag, context: frozenset[str]) -> str:
        status = _child(node, "task-status")
        body = _child(node, "task-body")
        done = status is not None and constructs.TASK.is_done(status.get_text())
        text_parts: list[Any] = []
        nested: list[Tag] = []
        for child in _unwrapped_spans(body) if body is not None else []:
            if isinstance(child, Tag) and child.qname in ("ac:task-list", "ul", "ol"):
                nested.append(child)  # a sub-list inside the task's text: written nested below
            elif isinstance(child, Tag) and self.is_block(child):
                return ""  # blocks in a task's text: no Markdown form (the caller carries the list)
            elif nested and (isinstance(child, Tag) or str(child).strip()):
                return ""  # text after a sub-list: no Markdown form either
            else:
                text_parts.append(child)
        self._skip.update(nested)
        text = self.inline_run(text_parts, context | {"task"})
        if not text:
            return ""  # an empty task has no Markdown form; the caller carries the list
        line = _indent(f"- [{'x' if done else ' '}] {text}", "  ").lstrip(" ")
        for inner in nested:
            rendered = self.tag_ac_task_list(inner, context) if inner.qname == "ac:task-list" else \
                self.listing(inner, context | {"list"}, ordered=inner.qname == "ol")
            if carry.KEEP in rendered or carry.WRAP in rendered:
                return ""
            line += "\n" + _indent(rendered, "  ")
        return line

    # -- tables -------------------------------------------------------------------------------------

    def tag_table(self, node: Tag, context: frozenset[str]) -> str:
        rows = _rows(node)
        if not rows:
            return self.carry(node, "", "table", context)
        simple = self._simple_table(node, rows) and not context & _INLINE_CONTEXT and not self._in_cell
        row_cells = [_children(row, "th", "td") for row in rows]  # once: a wide table has many columns
        cells = [[self.cell(cell, context) for cell in row] for row in row_cells]
        width = max(len(row) for row in cells) or 1
        aligns = [self._column_align(row_cells, column) for column in range(width)]
        lines = [_table_row(cells[0], width)]
        lines.append("| " + " | ".join({"left": ":--", "center": ":-:", "right": "--:"}.get(a or "", "---")
                                      for a in aligns) + " |")
        lines += [_table_row(row, width) for row in cells[1:]]
        rendered = "\n".join(lines)
        if simple and None not in aligns:
            return rendered  # width, layout, column widths, cell colours stay with the page (reapply.py)
        return self.carry(node, rendered, "table", context)

    def cell(self, node: Tag, context: frozenset[str]) -> str:
        self._in_cell += 1  # what is carried inside a cell must be carried inline
        try:
            text = self.blocks(node, context | {"inline", "cell"})
        finally:
            self._in_cell -= 1
        text = re.sub(r"\n\n+", "<br>", text).replace("\n", " ")
        # A table reads every "\|" in a row as "|" before anything else (in code spans too).
        return text.replace("|", "\\|")

    def _simple_table(self, node: Tag, rows: list[Tag]) -> bool:
        """A table a GFM pipe table says: one row shape, one line of text per cell."""
        if node.find("table") is not None or any(_significant_attributes(row) for row in rows):
            return False
        widths = set()
        for row in rows:
            cells = _children(row, "th", "td")
            widths.add(len(cells))
            for cell in cells:
                if cell.get("colspan", "1") != "1" or cell.get("rowspan", "1") != "1":
                    return False
                blocks = [child for child in cell.children if isinstance(child, Tag) and self.is_block(child)]
                if len(blocks) > 1 or any(child.name != "p" or not _alignment_only(child) for child in blocks):
                    return False
                if blocks and any(isinstance(child, str) and child.strip() or isinstance(child, Tag) and
                                  not self.is_block(child) for child in cell.children):
                    return False  # text beside a paragraph: two lines Markdown cannot tell apart
        return len(widths) == 1 and bool(rows)

    def _column_align(self, row_cells: list[list[Tag]], column: int) -> str | None:
        """A column's alignment if every cell of it agrees; '' for none; None if they differ.

        A cell with no text, or only an image (which the editor aligns itself, E7), shows
        no alignment and says nothing about its column's.
        """
        found = set()
        for cells in row_cells:
            if column < len(cells) and not _shows_no_alignment(cells[column]):
                found.add(_cell_alignment(cells[column]))
        return (found.pop() if len(found) == 1 else None) if found else ""

    # -- everything else has a readable form and is carried -------------------------------------------

    def tag_ac_layout(self, node: Tag, context: frozenset[str]) -> str:
        cells = [cell for section in _children(node, "layout-section") for cell in _children(section, "layout-cell")]
        return self.wrap(node, cells, "layout", context)

    def tag_ac_adf_extension(self, node: Tag, context: frozenset[str]) -> str:
        content = node.find("adf-content")
        adf = node.find("adf-node")
        kind = adf.get("type", "") if adf is not None else ""
        if kind == "decision-list":
            items = []
            for item in node.find_all("adf-node", attrs={"type": "decision-item"}):
                state = item.find("adf-attribute", attrs={"key": "state"})
                mark = "\u2713" if state is not None and state.get_text().strip() == "DECIDED" else "\u25c7"
                body = item.find("adf-content")
                items.append(f"- {mark} " + (self.inline_run(body.children, context) if body is not None else ""))
            return self.carry(node, "\n".join(items), "decisions", context)
        if content is not None:
            return self.carry(node, _prefix_lines(self.blocks(content, context), "> ", ">"), f"{kind} panel", context)
        fallback = node.find("adf-fallback")
        readable = self.blocks(fallback, context) if fallback is not None else ""
        return self.carry(node, readable, kind or "Confluence element", context)

    def tag_ac_emoticon(self, node: Tag, context: frozenset[str]) -> str:
        text = emoticon_text(node.get("ac:name", ""), node.get("ac:emoji-fallback", ""),
                             node.get("ac:emoji-shortname", ""), node.get("ac:emoji-id", ""))
        return self.carry_inline(node, escape_inline(text), "emoticon")

    def tag_time(self, node: Tag, context: frozenset[str]) -> str:
        return self.carry_inline(node, escape_inline(node.get("datetime", "") or node.get_text()), "date")

    def tag_ac_inline_comment_marker(self, node: Tag, context: frozenset[str]) -> str:
        unmarked = self._unmark(node, context)
        if unmarked is not None:
            return self.pieces([unmarked], _without_unmark(context))  # marks left inside: outside too
        return self.carry_inline(node, self.inline(node, context), "comment marker")

    def tag_ac_placeholder(self, node: Tag, context: frozenset[str]) -> str:
        return self.carry_inline(node, self.inline(node, context), "placeholder")

    def tag_div(self, node: Tag, context: frozenset[str]) -> str:
        if not _significant_attributes(node):
            return self.blocks(node, context) if not context & _INLINE_CONTEXT else self.inline(node, context)
        return self.wrap(node, [node], "division", context)

    # -- headings, for in-page links ------------------------------------------------------------------

    def _index_headings(self, root: Tag) -> None:
        slugs, names = SlugCounter(), AnchorCounter()
        tree = root.tree
        for raw in root.element.iter("h1", "h2", "h3", "h4", "h5", "h6", f"{{{AC}}}structured-macro"):
            element = tree.node(raw)
            if element.name in ("h1", "h2", "h3", "h4", "h5", "h6") and not element.prefix:
                text = _visible_text(element)
                slug = slugs.slug(text)
                self.state.headings.setdefault(names.anchor(text), slug)
                self.state.slugs.add(slug.lower())
                continue
            macro = element
            if macro.name == "structured-macro" and macro.get("ac:name") == "anchor":
                name = _parameters(macro).get("", "")
                if name.startswith(constructs.FOOTNOTE_ANCHOR.format(label="")):
                    self.state.footnotes[name] = name[len(constructs.FOOTNOTE_ANCHOR.format(label="")):]


# -- helpers ------------------------------------------------------------------------------


_SEAL_BLOCK = "<!-- mdsync:seal -->"
_EMPTY_FINGERPRINT = carry.fingerprint([])
_SEAL_INLINE = "<mdsync-seal>"


def _sealable(readable: str) -> str:
    return carry.without_payloads(readable.replace(_HARD_BREAK, "\\\n"))


def _split_tokens(tokens: list[Any]) -> list[list[Any]]:
    parts: list[list[Any]] = [[]]
    for token in tokens:
        if token.type == "html_block" and token.level == 0 and token.content.strip() == _SEAL_BLOCK:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _split_inline(children: list[Any]) -> list[list[Any]]:
    parts: list[list[Any]] = [[]]
    for token in children:
        if token.type == "html_inline" and token.content == _SEAL_INLINE:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


class _Holder:
    """Makes a list of inline tokens look like one inline token, for nested_sums."""

    type = "inline"
    content = ""

    def __init__(self, children: list[Any]) -> None:
        self.children = children


def _identities(regions: list[_Region]) -> list[str]:
    """What each region's storage shows (its canonical form), for its ref.

    Also left out: what the Cloud editor adds on every save and nobody chose (a page link's
    own space key, E8; a table's column widths, E2), so that a colleague's re-save leaves
    the refs, and so the file, as they were. The payload a ref points at is always the
    page's latest storage. All regions are put in their canonical form in one go, each in a
    holder of its own: canonicalising costs a pass over the tree, not a pass per region.
    """
    from mdsync.storage.canonical import canonicalise

    root = new_root()
    holders = []
    for region in regions:
        holder = etree.SubElement(root, "div", {"data-mdsync-identity": str(len(holders))})
        if region.element is None:
            fragment = parse_storage(region.storage)
            holder.text = fragment.text
            holder.extend(list(fragment))
        else:
            element = copy.deepcopy(region.element)
            element.tail = None
            holder.append(element)
        holders.append(holder)
    canonicalise(root)
    for colgroup in list(root.iter("colgroup")):
        colgroup.getparent().remove(colgroup)
    for page in root.iter(f"{{{RI}}}page"):
        page.attrib.pop(f"{{{RI}}}space-key", None)
    identities = []
    for holder in holders:
        del holder.attrib["data-mdsync-identity"]
        identities.append(etree.tostring(holder, encoding="unicode", with_tail=False))
    return identities


def _same_place(original_root: Any, original: Any, copied_root: Any) -> Any:
    """The element of a copied tree standing where ``original`` stands in the original tree."""
    path = []
    node = original
    while node is not original_root:
        parent = node.getparent()
        path.append(parent.index(node))
        node = parent
    target = copied_root
    for index in reversed(path):
        target = target[index]
    return target


def _covering(node: Tag) -> list[Tag]:
    """The plain marks that hold all a link's (or comment marker's) text, outermost first."""
    if node.qname == "a":
        body: Tag | None = node if node.get("href") is not None else None
    elif node.qname == "ac:link":
        body = _child(node, "link-body")
    elif node.qname == "ac:inline-comment-marker":
        body = node
    else:
        return []
    marks = []
    inner = _sole_element(body) if body is not None else None
    while inner is not None and inner.qname in constructs.MARK_BY_TAG and not _significant_attributes(inner):
        marks.append(inner)
        inner = _sole_element(inner)
    return marks


def _without_unmark(context: frozenset[str]) -> frozenset[str]:
    return frozenset(item for item in context if not item.startswith("unmark:"))


def _unwrap_element(node: Any) -> None:
    """Replace an lxml element by its content."""
    parent = node.getparent()
    index = parent.index(node)
    previous = node.getprevious()
    if node.text:
        if previous is not None:
            previous.tail = (previous.tail or "") + node.text
        else:
            parent.text = (parent.text or "") + node.text
    children = list(node)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    if node.tail:
        last = children[-1] if children else previous
        if last is not None:
            last.tail = (last.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _ends_where_it_stands(markdown: str) -> bool:
    """Whether Markdown (raw HTML, say) ends before what follows it: an unclosed fence, comment,
    ``<?``, ``<![CDATA[`` or ``<pre>`` would run on past its region's end marker."""
    tokens = make_parser().parse(f"{markdown}\n\n{_SEAL_BLOCK}\n")
    return bool(tokens) and tokens[-1].type == "html_block" and tokens[-1].level == 0 and \
        tokens[-1].content.strip() == _SEAL_BLOCK


def _join_inline(pieces: list[str]) -> str:
    """Join inline pieces, escaping a "!" that ends one when the next starts a link: "![" would
    make the link an image. Only there, so a "!" that ends a paragraph reads back the same."""
    last = -1  # the last piece with text
    for index, piece in enumerate(pieces):
        if not piece:
            continue
        if last >= 0 and piece.startswith("[") and pieces[last].endswith("!") and not pieces[last].endswith("\\!"):
            pieces[last] = pieces[last][:-1] + "\\!"
        last = index
    return "".join(pieces)


def _plain_code(item: Any) -> bool:
    return isinstance(item, Tag) and constructs.MARK_BY_TAG.get(item.qname) is constructs.MARK_BY_TAG["code"] and \
        not _significant_attributes(item) and not any(isinstance(child, Tag) for child in item.children)


def _group_marks(nodes: list[Any], hoist_single: bool = True) -> list[Any]:
    """Runs of touching marks of one kind, links whose text is that mark among them, as groups."""
    result: list[Any] = []
    index = 0
    while index < len(nodes):
        best, best_end = None, index + 1
        for tag in _marks_of(nodes[index]):
            end = index + 1
            while end < len(nodes) and tag in _marks_of(nodes[end]):
                end += 1
            if end > best_end:
                best, best_end = tag, end
        if best is None and hoist_single and isinstance(nodes[index], Tag) and _covering(nodes[index]) and \
                _marks_of(nodes[index]):
            # A link whose whole text is marked reads as the mark around the link (E12).
            best = _marks_of(nodes[index])[0]
        if best is not None:
            result.append(_MarkGroup(best, nodes[index:best_end]))
        else:
            result.extend(nodes[index:best_end])
        index = best_end
    return result


def _marks_of(node: Any) -> list[str]:
    """The marks a node applies to all it shows: its own, or those around a link's whole text."""
    if not isinstance(node, Tag):
        return []
    spec = constructs.MARK_BY_TAG.get(node.qname)
    if spec is not None:
        return [spec.tag] if spec.tag != "code" and not _significant_attributes(node) else []
    return [constructs.MARK_BY_TAG[mark.qname].tag for mark in _covering(node)
            if constructs.MARK_BY_TAG[mark.qname].tag != "code"]


def _significant_attributes(node: Tag) -> set[str]:
    """Attributes that change what the element shows (ids and editor noise left out)."""
    found = set()
    for key, value in node.attrs.items():
        if key in _IGNORED:
            continue
        if key == "style" and not _style_says_something(value):
            continue
        found.add(key)
    return found


def _style_says_something(style: str) -> bool:
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name and value and not (name == "text-align" and value == "start"):
            return True
    return False


def _alignment_only(paragraph: Tag) -> bool:
    """A cell's paragraph that says nothing but its text's alignment (E6 puts it there)."""
    extra = _significant_attributes(paragraph)
    return not extra or extra == {"style"} and _alignment_of(paragraph.get("style", "")) is not None and \
        not re.sub(r"text-align\s*:\s*[a-z]+\s*;?", "", paragraph.get("style", "")).strip()


def _alignment_of(style: str) -> str | None:
    match = re.search(r"text-align\s*:\s*(left|center|right|start)", style)
    if not match:
        return None
    return "" if match.group(1) == "start" else match.group(1)


def _cell_alignment(cell: Tag) -> str | None:
    """A cell's alignment: on the cell, or on its one paragraph (E6); None if neither says one thing."""
    style = cell.get("style", "")
    rest = re.sub(r"text-align\s*:\s*[a-z]+\s*;?", "", style).strip()
    if rest:
        return None  # a cell styled beyond its alignment: only a carried table says that
    own = _alignment_of(style)
    paragraphs = [child for child in cell.children if isinstance(child, Tag) and child.qname == "p"]
    inner = {_alignment_of(paragraph.get("style", "")) for paragraph in paragraphs}
    inner.discard(None)
    if own is not None and inner and inner != {own}:
        return None
    if own is not None:
        return own
    if len(inner) > 1:
        return None
    return inner.pop() if inner else ""


def bullet_box(done: bool) -> str:
    return f"- [{'x' if done else ' '}]"


def _edge_spaces_as_references(text: str) -> str:
    if not text or not (text[0].isspace() or text[-1].isspace()):
        return text
    core = text.strip()
    if not core:
        return "".join(f"&#{ord(char)};" for char in text if char == "\u00a0")
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    # Only the outermost character needs the reference: Markdown trims no further.
    start = f"&#{ord(lead[0])};{lead[1:]}" if lead else ""
    end = f"{trail[:-1]}&#{ord(trail[-1])};" if trail else ""
    return start + core + end


def _unwrapped_spans(node: Tag) -> list[Any]:
    """A node's children, with plain spans (legacy ``span.placeholder-inline-tasks``) opened up."""
    items: list[Any] = []
    for child in node.children:
        if isinstance(child, Tag) and child.qname == "span" and not _significant_attributes(child):
            items += _unwrapped_spans(child)
        else:
            items.append(child)
    return items


def _page_destination(target: str) -> str:
    """Where a page link points: a URL (the page's address) as it is; a path to its file (a
    relative URL, as the resolver gives it: ``a%20b.md#part``) written bare."""
    return link_destination(target) if _SCHEME.match(target) or target.startswith("//") else href_destination(target)


def _shows_no_alignment(cell: Tag) -> bool:
    inner = _sole_element(cell)
    if inner is None:
        return not any(isinstance(child, str) and child.strip() for child in cell.children)
    return inner.qname == "ac:image" or inner.qname == "p" and not inner.children


def _sole_element(node: Tag) -> Tag | None:
    """The one element a node holds, with nothing but white space beside it."""
    found = None
    for child in node.children:
        if isinstance(child, Tag):
            if found is not None:
                return None
            found = child
        elif str(child).strip():
            return None
    return found


def _visible_text(node: Tag) -> str:
    """The text a reader sees: macro parameters and plain bodies are not shown as text."""
    parts = []
    for child in node.children:
        if isinstance(child, Tag):
            if not (child.prefix == "ac" and child.name in ("parameter", "default-parameter", "plain-text-body")):
                parts.append(_visible_text(child))
        elif type(child).__name__ not in ("Comment", "ProcessingInstruction"):
            parts.append(str(child))
    return "".join(parts)


def _elements(node: Tag) -> list[Tag]:
    return [child for child in node.children if isinstance(child, Tag)]


def _child(node: Tag, name: str) -> Tag | None:
    """A direct child element by local name (ri:page, ac:rich-text-body...)."""
    for child in node.children:
        if isinstance(child, Tag) and child.name == name:
            return child
    return None


def _children(node: Tag, *names: str) -> list[Tag]:
    return [child for child in node.children if isinstance(child, Tag) and child.name in names]


def _rows(table: Tag) -> list[Tag]:
    rows = []
    for child in _elements(table):
        if child.name == "tr":
            rows.append(child)
        elif child.name in ("thead", "tbody", "tfoot"):
            rows += _children(child, "tr")
    return rows


def _macro_name(node: Tag) -> str:
    return (node.get("ac:name") or "").strip()


def _parameters(node: Tag) -> dict[str, str]:
    found = {}
    for parameter in _children(node, "parameter"):
        found[parameter.get("ac:name", "")] = parameter.get_text()
    return found


def _parameter_summary(node: Tag) -> str:
    return ", ".join(f"{key}={' '.join(value.split())}" if key else " ".join(value.split())
                     for key, value in _parameters(node).items() if value.strip())


def _identifier_text(node: Tag) -> str:
    for child in node.find_all(True):
        for key in ("ri:content-title", "ri:space-key", "ri:value", "ri:filename", "ri:content-id", "ri:key"):
            if child.get(key):
                return child.get(key)
    return ""


def _chomp(text: str) -> tuple[str, str, str]:
    """A mark's text without the white space at its edges, which goes outside it (as one space:
    a line break there would put the mark's tag alone on a line, where it opens an HTML block)."""
    lead = " " if text[:1] in (" ", "\n") else ""
    stripped = text.lstrip(" \n")
    # (a line break mark-up ends in a newline too: that one stays inside)
    trail = " " if text.endswith(" ") or text.endswith("\n") and not text.endswith(_HARD_BREAK) else ""
    while stripped.endswith(" ") or stripped.endswith("\n") and not stripped.endswith(_HARD_BREAK):
        stripped = stripped[:-1]
    return lead, stripped, trail


def _neighbour_before(node: Tag) -> str:
    """The character just before an inline element ('' at a block's edge)."""
    before = node.previous_sibling
    if before is None:
        return ""
    return str(before.get_text() if isinstance(before, Tag) else before)[-1:]


def _neighbour_after(node: Tag) -> str:
    after = node.next_sibling
    if after is None:
        return ""
    return str(after.get_text() if isinstance(after, Tag) else after)[:1]


def _is_punct(char: str) -> bool:
    return bool(char) and (unicodedata.category(char).startswith("P") or unicodedata.category(char).startswith("S"))


def _flanking_ok(before: str, core: str, after: str) -> bool:
    if not core:
        return True
    first, last = core[0], core[-1]
    if first.isspace() or last.isspace():
        return False
    opens = not _is_punct(first) or not before or before.isspace() or _is_punct(before)
    closes = not _is_punct(last) or not after or after.isspace() or _is_punct(after)
    return opens and closes


def _indent(text: str, pad: str, *, blank: bool = False) -> str:
    return "\n".join(pad + line if line or blank else line for line in text.split("\n"))


def _prefix_lines(text: str, prefix: str, empty: str) -> str:
    return "\n".join(prefix + line if line else empty for line in text.split("\n"))


def _html_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _leading_space(text: str) -> bool:
    return text != text.strip()


def _table_row(cells: list[str], width: int) -> str:
    padded = cells + [""] * (width - len(cells))
    return "| " + " | ".join(padded) + " |"


def _tidy(markdown: str) -> str:
    text = markdown.strip("\n")
    if text.startswith("---"):
        # A rule on the first line would open YAML front matter; *** is the same rule.
        text = "***" + text[3:]
    return text + "\n" if text else ""


# -- the public entry points --------------------------------------------------------------


def convert_storage(xhtml: str, *, resolve_page: PageResolver | None = None,
                    resolve_attachment: AttachmentResolver | None = None,
                    resolve_user: UserResolver | None = None, keep_payloads: bool = False) -> ConvertedBack:
    """A page's storage as Markdown, with the attachments and pages it refers to.

    With ``keep_payloads`` the markers of carried regions hold short refs and what they keep
    is returned in ``payloads`` (the sync keeps it under ``.mdsync/``); without, each marker
    holds its own compressed copy, so the Markdown alone is enough to push the page back.
    Raises StorageParseError (one sentence with the position) for malformed or hostile XML.
    """
    converter = StorageConverter(resolve_page=resolve_page, resolve_attachment=resolve_attachment,
                                 resolve_user=resolve_user, keep_payloads=keep_payloads)
    markdown = converter.convert_storage(xhtml)
    state = converter.state
    return ConvertedBack(
        markdown=markdown,
        attachments=tuple(dict.fromkeys(state.attachments)),
        links=tuple(dict.fromkeys(state.links)),
        carried=tuple(state.carried),
        # Nothing is dropped; what Markdown cannot say is shown degraded and carried exactly.
        losses=tuple(dict.fromkeys(f"{label}: shown as its text in Markdown, kept exactly for Confluence"
                                   for label in state.carried)),
        payloads=dict(converter.payloads),
    )


def storage_to_markdown(xhtml: str) -> str:
    """The Markdown for a storage body (no link resolution; self-contained markers)."""
    return convert_storage(xhtml).markdown


__all__ = ["ConvertedBack", "StorageParseError", "convert_storage", "storage_to_markdown"]
