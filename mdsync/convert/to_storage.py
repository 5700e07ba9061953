"""Markdown -> Confluence storage format.

markdown-it-py parses (CommonMark plus GitHub's tables, strikethrough, task lists,
alerts and autolinks, and footnotes, mkdocs admonitions and ``{width=…}`` attributes);
this module walks the token stream once and builds the storage as an lxml element tree,
so the output is well-formed by construction. Raw HTML inside the Markdown goes through
``rawhtml.py``. What each construct becomes is decided in ``constructs.py``.

Rules kept here: no input ``str`` raises; nothing is silently dropped (a construct
without a storage equivalent is shown as visible text and reported in ``warnings``);
the same input always gives byte-identical output.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from lxml import etree
from markdown_it.common.utils import unescapeAll
from markdown_it.token import Token

from mdsync import constructs
from mdsync.constructs import CODE
from mdsync.convert import carry
from mdsync.convert.frontmatter import FrontMatter, split_front_matter
from mdsync.convert.inline import InlineWriter
from mdsync.convert.markdown_parser import MAX_NESTING, block_parser, make_parser, plain_text_of
from mdsync.convert.rawhtml import HtmlWriter
from mdsync.errors import MdsyncError
from mdsync.storage.anchors import AnchorCounter, SlugCounter, anchor_safe
from mdsync.storage.xhtml import (
    ROOT_TAG,
    append_text,
    element,
    macro,
    new_root,
    parse_storage,
    qualified,
    serialize_storage,
)

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
_INFO_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_WIDTH = re.compile(r"^\s*(\d{1,5})\s*(?:px)?\s*$")
_ALIGN_STYLE = re.compile(r"text-align\s*:\s*(left|center|right)")
# An opening "# Title" of plain words, as most files start: no character inline rules act on, and no
# "|" (a delimiter row below would make the line a table's header).
# What is said of a link or image to a file outside the repository (Links answers "outside").
_OUTSIDE = ("leads outside the repository, and mdsync never reads a file there for a push (list it under "
            "include_outside in mdsync.yaml to share it)")
_PLAIN_OPENING_H1 = re.compile(r"(?:[ \t]*\n)*[ ]{0,3}#[ \t]+([^\n\r\x00\\`*_\[\]!<>&~{}$|]*)(?:\n|\Z)")


# -- what the converter returns and what it asks the caller ----------------------------


@dataclass(frozen=True)
class LinkTarget:
    """Where a relative link or image points, as the caller resolved it.

    ``kind`` page: another page (``title``, optional ``space_key`` and ``anchor``, the
    Confluence anchor of a heading on it). ``kind`` attachment: a local file uploaded to this
    page under ``filename`` from ``path``. ``kind`` url: an ordinary URL. ``kind`` outside: a
    file outside the repository, which a push never reads (the file referring to it is refused).
    """

    kind: Literal["page", "attachment", "url", "outside"]
    title: str | None = None
    space_key: str | None = None
    anchor: str | None = None
    filename: str | None = None
    path: str | None = None
    url: str | None = None
    anchor_missing: bool = False  # the page exists but has no heading with that anchor


LinkResolver = Callable[[str, "str | None"], "LinkTarget | None"]
ImageResolver = Callable[[str], "LinkTarget | None"]


@dataclass(frozen=True)
class AttachmentRef:
    """A local file the page needs: ``path`` relative to the docs root, ``filename`` on the page."""

    path: str
    filename: str


@dataclass(frozen=True)
class ConversionWarning:
    line: int | None
    message: str
    # "degraded": shown differently in Confluence, nothing lost. "broken": a link, image,
    # anchor or front matter that points nowhere or cannot be read (what `mdsync check` fails on).
    # "refused": a link or image to a file outside the repository: a push refuses the whole file.
    kind: Literal["degraded", "broken", "refused"] = "degraded"

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class StorageResult:
    storage: str
    title_heading: str | None
    attachments: list[AttachmentRef]
    links: list[str]
    warnings: list[ConversionWarning]
    unresolved: list[str] = field(default_factory=list)


def first_heading(markdown: str) -> tuple[str | None, bool]:
    """The first H1's plain text (the page title) and whether it opens the text."""
    plain = _PLAIN_OPENING_H1.match(markdown)
    if plain is not None:
        text = plain.group(1).strip()
        # A closing "#" run and autolinks are left to the parser.
        if text and not text.endswith("#") and not any(sign in text.lower() for sign in ("www.", ":")):
            return text, True
    return parsed_first_heading(markdown)


def parsed_first_heading(markdown: str) -> tuple[str | None, bool]:
    """``first_heading`` from the whole document through the parser (what its shortcut must match)."""
    env: dict[str, Any] = {}  # reference definitions, shared with the heading's inline parse
    tokens = block_parser().parse(markdown, env)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            inline = make_parser().parseInline(tokens[index + 1].content, env)
            return plain_text_of(inline[0].children or []).strip() or None, index == 0
    return None, False


def sanitize(text: str) -> tuple[str, int]:
    """Replace characters XML cannot carry (controls, lone surrogates) with U+FFFD."""
    cleaned, count = _INVALID_XML.subn("\ufffd", text)
    return cleaned, count


# -- element helpers ----------------------------------------------------------------------


def anchors_of(tokens: Sequence[Token]) -> dict[str, str]:
    """GitHub slug -> Confluence anchor for every heading, for ``#section`` links."""
    anchors: dict[str, str] = {}
    slugs, names = SlugCounter(), AnchorCounter()
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            text = plain_text_of(tokens[index + 1].children or [])
            anchors.setdefault(slugs.slug(text), names.anchor(text))
    return anchors


# -- the converter ------------------------------------------------------------------------


@dataclass
class _ListFrame:
    """A Markdown list being written: its items may split into task and plain runs."""

    parent: etree._Element
    ordered: bool
    start: int | None
    tasks: bool
    run: etree._Element | None = None
    run_is_tasks: bool = False
    items: int = 0  # items written so far, so a list split into runs keeps its numbering


@dataclass
class _Frame:
    """One open block: where its content goes, and how to close it."""

    kind: str
    content: etree._Element
    list_frame: _ListFrame | None = None
    align: str | None = None  # text alignment raw HTML asked for (<div align="center">)
    slots: list[etree._Element] = field(default_factory=list)  # a wrap's parts still to fill
    label: str = ""  # what a wrap keeps, for what is said of it
    # Facts about this frame and all below it, so that raw HTML ten thousand tags deep asks
    # "is a <table> open?" or "which alignment applies?" in one step, not one per frame.
    kinds_open: frozenset[str] = frozenset()
    inherited_align: str | None = None


@dataclass
class Converter:
    path: str | None = None
    resolve_link: LinkResolver | None = None
    resolve_image: ImageResolver | None = None
    drop_title_heading: bool = True
    warnings: list[ConversionWarning] = field(default_factory=list)
    attachments: dict[str, AttachmentRef] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    _cdata: dict[str, str] = field(default_factory=dict)
    _marker: str = "\ue000"
    _task_id: int = 0
    _line: int | None = None
    _line_offset: int = 0
    _anchors: dict[str, str] = field(default_factory=dict)
    stack: list[_Frame] = field(default_factory=list)
    html: Any = None  # rawhtml.HtmlWriter, made per conversion
    payloads: carry.Payloads | None = None  # what the file's markers refer to (the sync keeps it)
    restored: list[str] = field(default_factory=list)  # labels of carried regions put back
    unresolved: list[str] = field(default_factory=list)  # refs the payloads did not have
    _expected_ends: set[int] = field(default_factory=set)  # token indexes of expected keep end markers

    # -- entry point --------------------------------------------------------------------

    def convert(self, markdown: str, *, line_offset: int = 0) -> StorageResult:
        text, replaced = sanitize(markdown)
        if replaced:
            self.warn(f"{replaced} character(s) that Confluence cannot store were replaced with \ufffd")
        while self._marker in text:
            self._marker += "\ue001"
        self._line_offset = line_offset
        tokens = make_parser().parse(text)
        if tokens and max(token.level for token in tokens) >= MAX_NESTING - 1:
            return self._too_deep(text)
        self._collect_anchors(tokens)
        title_heading, skip_until = self._title_heading(tokens)

        root = new_root()
        self.html = HtmlWriter(self)
        self.stack = [_Frame("root", root, kinds_open=frozenset({"root"}))]
        index = skip_until
        while index < len(tokens):
            index = self._block(tokens, index)
        self.html.finish()
        for frame in self.stack:
            if frame.kind == "wrap":
                self.warn(f"the {frame.label or 'kept container'} is not closed (its <!-- /mdsync:wrap --> line was "
                          "deleted?): everything after its opening line went into it")
        return StorageResult(self._serialize(root), title_heading, list(self.attachments.values()),
                             self.links, self.warnings, self.unresolved)

    def warn(self, message: str, kind: Literal["degraded", "broken", "refused"] = "degraded") -> None:
        self.warnings.append(ConversionWarning(self._line, message, kind))

    def _too_deep(self, text: str) -> StorageResult:
        # markdown-it stops parsing past its nesting limit; rather than lose that content,
        # show the whole document as plain text and say why.
        self.warn(f"the document nests blocks more than {MAX_NESTING - 2} levels deep; it is shown as plain text")
        root = new_root()
        self._code_macro(root, text, None, None, False, None)
        return StorageResult(self._serialize(root), None, [], [], self.warnings)

    def _serialize(self, root: etree._Element) -> str:
        body = serialize_storage(root)
        for marker, code in self._cdata.items():
            body = body.replace(f"<![CDATA[{marker}]]>", "<![CDATA[" + code.replace("]]>", "]]]]><![CDATA[>") + "]]>")
        return body

    # -- pre-passes ---------------------------------------------------------------------

    def _collect_anchors(self, tokens: Sequence[Token]) -> None:
        self._anchors = anchors_of(tokens)

    def _title_heading(self, tokens: Sequence[Token]) -> tuple[str | None, int]:
        """The first H1's text, and where the body starts (after it, if it opens the page)."""
        for index, token in enumerate(tokens):
            if token.type == "heading_open" and token.tag == "h1":
                title = plain_text_of(tokens[index + 1].children or []).strip() or None
                if index == 0 and self.drop_title_heading and title:
                    return title, index + 3
                return title, 0
        return None, 0

    # -- blocks -------------------------------------------------------------------------

    @property
    def here(self) -> etree._Element:
        return self.stack[-1].content

    def open_block(self, kind: str, content: etree._Element, list_frame: _ListFrame | None = None,
              align: str | None = None) -> None:
        below = self.stack[-1]
        self.stack.append(_Frame(kind, content, list_frame, align, kinds_open=below.kinds_open | {kind},
                                 inherited_align=align or below.inherited_align))

    def is_block_open(self, kind: str) -> bool:
        return kind in self.stack[-1].kinds_open

    def close_block(self, kind: str) -> _Frame | None:
        """Close the innermost open block of this kind, and whatever raw HTML opened inside it."""
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].kind == kind:
                frame = self.stack[depth]
                del self.stack[depth:]
                return frame
        return None

    def _block(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        if token.map:
            self._line = token.map[0] + 1 + self._line_offset
        kind = token.type
        handler = _BLOCK_HANDLERS.get(kind)
        if handler is not None:
            return handler(self, tokens, index)
        if kind.endswith("_close"):
            self.close_block(kind[: -len("_close")])
            return index + 1
        self.warn(f"unexpected Markdown construct '{kind}' was kept as text")
        append_text(self._paragraph_target(), token.content)
        return index + 1

    def _paragraph_target(self) -> etree._Element:
        here = self.here
        if here.tag in (ROOT_TAG, qualified("ac:rich-text-body"), "blockquote", "li", "td", "th"):
            return element(here, "p")
        return here

    def _paragraph(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        inline = tokens[index + 1]
        if inline.content.strip() in constructs.TOC_MARKERS and not token.hidden:
            macro(self.here, "toc")
            return index + 3
        frame = self.stack[-1]
        if frame.kind == "task":
            target = frame.content
            if len(target) or target.text:
                element(target, "br")
        elif token.hidden:
            target = self.here
        else:
            target = element(self.here, "p")
        self.inline(inline.children or [], target)
        return index + 3

    def _heading(self, tokens: Sequence[Token], index: int) -> int:
        heading = element(self.here, tokens[index].tag)
        self.inline(tokens[index + 1].children or [], heading)
        return index + 3

    def _blockquote(self, tokens: Sequence[Token], index: int) -> int:
        self.open_block("blockquote", element(self.here, "blockquote"))
        return index + 1

    def _hr(self, tokens: Sequence[Token], index: int) -> int:
        element(self.here, "hr")
        return index + 1

    def _fence(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        info = unescapeAll(token.info).strip()
        language, _, rest = info.partition(" ")
        attributes = {match.group(1).lower(): next(g for g in match.groups()[1:] if g is not None)
                      for match in _INFO_ATTRIBUTE.finditer(rest)}
        if language.startswith("{") and language.endswith("}"):
            language = language.strip("{}").lstrip(".")
        linenums = attributes.get("linenums")
        first_line = linenums if linenums and linenums.isdigit() and linenums != "1" else None
        line_numbers = linenums is not None or "linenums" in rest.split() or "linenumbers" in rest.split()
        self._code_macro(self.here, token.content, language or None, attributes.get("title"), line_numbers,
                         first_line)
        return index + 1

    def _code_block(self, tokens: Sequence[Token], index: int) -> int:
        self._code_macro(self.here, tokens[index].content, None, None, False, None)
        return index + 1

    def _code_macro(self, parent: etree._Element, code: str, language: str | None, title: str | None,
                    line_numbers: bool, first_line: str | None) -> None:
        parameters = []
        mapped = constructs.confluence_language(language) if language else None
        if mapped:
            parameters.append((CODE.language, mapped))
        if title:
            parameters.append((CODE.title, title))
        if line_numbers:
            parameters.append((CODE.line_numbers, "true"))
        if first_line:
            parameters.append((CODE.first_line, first_line))
        node = macro(parent, CODE.name, parameters)
        body = element(node, "ac:plain-text-body")
        if code.endswith("\n"):
            code = code[:-1]  # the fence's last newline ends the block; it is not content
        body.text = etree.CDATA(self._cdata_safe(code))

    def _cdata_safe(self, text: str) -> str:
        if "]]>" not in text:
            return text
        marker = f"{self._marker}{len(self._cdata)}{self._marker}"
        self._cdata[marker] = text
        return marker

    def _html_block(self, tokens: Sequence[Token], index: int) -> int:
        content = tokens[index].content
        kind = carry.opening_kind(content)
        if kind == "keep":
            return self._carried_block(tokens, index)
        if kind == "wrap":
            return self._wrap_open(tokens, index)
        if carry.is_next(content):
            return self._wrap_next(index)
        if carry.is_wrap_end(content):
            frame = self.close_block("wrap")
            if frame is None:
                self.warn("a container's end marker (<!-- /mdsync:wrap -->) has no opening line: what it kept is "
                          "gone, its content is pushed as ordinary Markdown")
            elif frame.slots:
                self.warn(f"the {frame.label or 'kept container'} has {len(frame.slots)} part(s) more than the Markdown "
                          "fills (a <!-- mdsync:next --> line was deleted?): they are left empty")
            return index + 1
        if carry.is_end(content):
            if index not in self._expected_ends:
                self.warn("a kept-content end marker (<!-- /mdsync:keep -->) has no opening line: the text before it "
                          "is pushed as ordinary Markdown, and what only Confluence could show of it is replaced")
            return index + 1  # the end of a carried region whose edited content was pushed
        self.html.block(content)
        return index + 1

    def kept(self, marker: carry.Marker | None, what: str) -> carry.Carried | None:
        """What a marker keeps, or None with a warning saying why it cannot be put back."""
        if marker is None:
            self.warn(f"a kept-content marker ({what}) is damaged; its readable part is pushed as ordinary Markdown")
            return None
        carried = marker.resolve(self.payloads)
        if carried is None and marker.data is None:
            self.unresolved.append(marker.ref or "")
            self.warn(f"the {marker.label or 'kept content'} refers to what Confluence had there ({marker.ref}), "
                      "which this checkout does not have (.mdsync/ was not kept?): its readable part is pushed as "
                      "ordinary Markdown; 'mdsync pull' brings the original back")
        elif carried is None:
            self.warn(f"a kept-content marker ({what}) is damaged; its readable part is pushed as ordinary Markdown")
        return carried

    def _carried_block(self, tokens: Sequence[Token], index: int) -> int:
        """Put carried storage back if its readable part is untouched; else push the edit."""
        end = carry.block_region_end(tokens, index)
        if end is None:
            self.warn("a kept-content marker (mdsync:keep) is not closed; its readable part is pushed as ordinary "
                      "Markdown")
            return index + 1
        self._expected_ends.add(end)  # whatever happens to the region, its end marker is expected
        carried = self.kept(carry.parse_open(tokens[index].content), "mdsync:keep")
        if carried is None:
            return index + 1
        if carry.fingerprint(tokens[index + 1 : end]) == carried.checksum:
            self.restore(carried.storage, self.here)
            self.restored.append(carried.label)
            return end + 1
        self.warn(f"the {carried.label} was edited in Markdown: the edit is pushed, and what only Confluence "
                  "could show of it (its macro or formatting) is replaced")
        return index + 1

    def _wrap_open(self, tokens: Sequence[Token], index: int) -> int:
        """A container kept aside: its markup goes back, the Markdown after it fills its parts."""
        carried = self.kept(carry.parse_open(tokens[index].content), "mdsync:wrap")
        skeleton = None
        if carried is not None:
            try:
                skeleton = parse_storage(carried.storage)
            except MdsyncError:
                self.warn("kept markup could not be read back; its content is pushed as ordinary Markdown")
        if skeleton is None:
            self.open_block("wrap", self.here)  # the content still goes where it stands
            return index + 1
        slots = sorted((node for node in skeleton.iter() if isinstance(node.tag, str) and
                        node.get("data-mdsync-slot") is not None), key=lambda node: int(node.get("data-mdsync-slot")))
        for slot in slots:
            del slot.attrib["data-mdsync-slot"]
        append_text(self.here, skeleton.text or "")
        for child in list(skeleton):
            self.here.append(child)
        self.open_block("wrap", slots[0] if slots else self.here)
        self.stack[-1].slots = slots[1:]
        self.stack[-1].label = carried.label if carried is not None else ""
        self.restored.append(carried.label if carried is not None else "")
        return index + 1

    def _wrap_next(self, index: int) -> int:
        for depth in range(len(self.stack) - 1, 0, -1):
            frame = self.stack[depth]
            if frame.kind == "wrap":
                del self.stack[depth + 1 :]
                if frame.slots:
                    frame.content = frame.slots.pop(0)
                elif frame.content is not self.stack[depth - 1].content:
                    self.warn("a kept container has fewer parts than the Markdown gives it (one mdsync:next too "
                              "many); the rest goes into its last part")
                return index + 1
        self.warn("a <!-- mdsync:next --> line stands outside any kept container (its opening line was deleted?): "
                  "the content around it is pushed as ordinary Markdown")
        return index + 1

    def restore(self, storage: str, parent: etree._Element) -> None:
        """Append carried storage to ``parent`` exactly as it was."""
        try:
            fragment = parse_storage(storage)
        except MdsyncError:
            self.warn("kept content could not be read back; it was left out")  # only if the file was tampered with
            return
        append_text(parent, fragment.text or "")
        for child in list(fragment):
            parent.append(child)

    # -- lists and tasks ----------------------------------------------------------------

    def _list_open(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        ordered = token.type == "ordered_list_open"
        start = None
        if ordered:
            raw = token.attrGet("start")
            start = int(raw) if isinstance(raw, (int, str)) and str(raw).isdigit() else None
        tasks = any(item.meta.get("checked") is not None for item in _direct_items(tokens, index))
        parent = self.here
        outer = self.stack[-2].list_frame if len(self.stack) > 1 else None
        if tasks and self.stack[-1].kind == "task" and outer is not None and outer.run is not None:
            # A nested task list sits beside its parent task, inside the parent's task list.
            parent = outer.run
        frame = _ListFrame(parent, ordered, start, tasks)
        if not tasks:
            frame.run = self._new_list(frame)
        self.open_block("list", frame.run if frame.run is not None else parent, frame)
        return index + 1

    def _new_list(self, frame: _ListFrame) -> etree._Element:
        node = element(frame.parent, "ol" if frame.ordered else "ul")
        start = (1 if frame.start is None else frame.start) + frame.items
        if frame.ordered and start != 1:
            node.set("start", str(start))
        return node

    def _list_item(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        frame = self.stack[-1].list_frame
        assert frame is not None
        checked = token.meta.get("checked")
        if frame.tasks:
            is_task = checked is not None
            if frame.run is None or frame.run_is_tasks != is_task:
                frame.run = element(frame.parent, "ac:task-list") if is_task else self._new_list(frame)
                frame.run_is_tasks = is_task
            frame.items += 1
            if is_task:
                self._task_id += 1
                task = element(frame.run, "ac:task")
                element(task, "ac:task-id", None, str(self._task_id))
                element(task, "ac:task-status", None, constructs.TASK.done if checked else constructs.TASK.open)
                self.open_block("task", element(task, "ac:task-body"))
                return index + 1
        assert frame.run is not None
        self.open_block("list_item", element(frame.run, "li"))
        return index + 1

    def _list_item_close(self, tokens: Sequence[Token], index: int) -> int:
        frame = self.stack[-1]
        self.close_block(frame.kind if frame.kind in ("task", "list_item") else "list_item")
        return index + 1

    def _list_close(self, tokens: Sequence[Token], index: int) -> int:
        self.close_block("list")
        return index + 1

    # -- alerts, admonitions, tables, footnotes -----------------------------------------

    def _alert(self, tokens: Sequence[Token], index: int) -> int:
        kind = str(tokens[index].meta.get("kind", "NOTE")).upper()
        if kind == "IMPORTANT":
            node = macro(self.here, "panel", constructs.IMPORTANT_PANEL_PARAMETERS.items())
        else:
            node = macro(self.here, constructs.ALERT_MACROS.get(kind, "info"))
        self.open_block("alert", element(node, "ac:rich-text-body"))
        return _skip_title(tokens, index + 1, "alert_title")

    def _admonition(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        tag = str(token.meta.get("tag", "note")).lower()
        name = constructs.ADMONITION_MACROS.get(tag)
        if name is None:
            name = "info"
            self.warn(f"admonition type '{tag}' has no Confluence panel; it is shown as an info panel")
        title_index = index + 1
        title = ""
        if title_index + 1 < len(tokens) and tokens[title_index].type == "admonition_title_open":
            title = plain_text_of(tokens[title_index + 1].children or []).strip()
        # mkdocs shows the type as the title when none is given; the panel then gets none.
        explicit = '"' in token.info
        parameters = [("title", title)] if title and explicit else []
        node = macro(self.here, name, parameters)
        self.open_block("admonition", element(node, "ac:rich-text-body"))
        return _skip_title(tokens, index + 1, "admonition_title")

    def _table(self, tokens: Sequence[Token], index: int) -> int:
        table = element(self.here, "table")
        self.open_block("table", element(table, "tbody"))
        return index + 1

    def _table_section(self, tokens: Sequence[Token], index: int) -> int:
        return index + 1  # thead and tbody share Confluence's single tbody

    def _row(self, tokens: Sequence[Token], index: int) -> int:
        self.open_block("tr", element(self.here, "tr"))
        return index + 1

    def _cell(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        cell = element(self.here, token.tag)
        style = str(token.attrGet("style") or "")
        align = _ALIGN_STYLE.search(style)
        if align:
            cell.set("style", f"text-align: {align.group(1)};")
        self.inline(tokens[index + 1].children or [], cell)
        return index + 3

    def _footnote_block(self, tokens: Sequence[Token], index: int) -> int:
        element(self.here, "hr")
        self.open_block("footnote_block", element(self.here, "ol"))
        return index + 1

    def _footnote(self, tokens: Sequence[Token], index: int) -> int:
        label = anchor_safe(str(tokens[index].meta.get("label", tokens[index].meta.get("id", ""))))
        item = element(self.here, "li")
        anchor = macro(item, "anchor")
        element(anchor, "ac:parameter", {"ac:name": ""}, constructs.FOOTNOTE_ANCHOR.format(label=label))
        self.open_block("footnote", item)
        return index + 1

    def _skip(self, tokens: Sequence[Token], index: int) -> int:
        return index + 1

    # -- inline -------------------------------------------------------------------------

    def inline(self, children: Sequence[Token], parent: etree._Element) -> None:
        InlineWriter(self, parent).write(children)

    # -- links and images, shared by Markdown and raw HTML --------------------------------

    def link_target(self, href: str) -> tuple[str, LinkTarget | None]:
        """Classify a link: ('url'|'anchor'|'page'|'attachment'|'plain', target)."""
        href = href.strip()
        if not href:
            return "plain", None
        if href.startswith("#"):
            slug = unquote(href[1:])
            if slug and slug.lower() not in self._anchors:
                self.warn(f"link to '{href}': this file has no heading with that anchor", "broken")
            return "anchor", LinkTarget("page", anchor=self._anchors.get(slug.lower(), slug))
        if _SCHEME.match(href) or href.startswith("//"):
            return "url", LinkTarget("url", url=href)
        parts = urlsplit(href)
        relative = unquote(parts.path)
        fragment = unquote(parts.fragment) if parts.fragment else None
        if not relative:
            return "plain", None
        if relative.startswith("/"):
            return "url", LinkTarget("url", url=href)  # site-absolute: not a file of ours
        target, leaves = self._local_path(relative)
        is_page = target.lower().endswith(_MARKDOWN_SUFFIXES) or relative.endswith("/")
        if leaves and (is_page or self.resolve_link is None):
            self.warn(f"link to '{href}' leaves the docs folder; it is kept as a plain link", "broken")
            return "plain", None
        if is_page:
            self.links.append(target)
        if self.resolve_link is not None:
            resolved = self.resolve_link(target, fragment)
            if resolved is not None and resolved.kind == "outside":
                self.warn(f"link to '{href}' {_OUTSIDE}", "refused")
                return "plain", None
            if resolved is None:
                if is_page:
                    self.warn(f"link to '{href}': no page for that file; it is kept as a plain link", "broken")
                elif leaves:
                    self.warn(f"link to '{href}' leaves the docs folder; it is kept as a plain link", "broken")
                return "plain", None
            if resolved.kind == "attachment":
                return "attachment", self.attach(resolved.path or target, resolved.filename)
            if resolved.anchor_missing:
                self.warn(f"link to '{href}': {target} has no heading with that anchor", "broken")
            return resolved.kind, resolved
        if is_page:
            self.warn(f"link to '{href}' needs the target's title; it is kept as a plain link")
            return "plain", None
        return "attachment", self.attach(target)

    def image_target(self, src: str) -> LinkTarget | None:
        src = src.strip()
        if not src:
            return None
        if _SCHEME.match(src) or src.startswith("//"):
            if src.lower().startswith(("http:", "https:", "//")):
                return LinkTarget("url", url=src)
            return None
        relative = unquote(urlsplit(src).path)
        if relative.startswith("/"):
            return LinkTarget("url", url=src)
        target, leaves = self._local_path(relative)
        if leaves and self.resolve_image is None:
            self.warn(f"image '{src}' is outside the docs folder; only its description is shown", "broken")
            return None
        if self.resolve_image is not None:
            resolved = self.resolve_image(target)
            if resolved is not None and resolved.kind == "outside":
                self.warn(f"image '{src}' {_OUTSIDE}", "refused")
                return None
            if resolved is None:
                where = "is outside the docs folder" if leaves else "was not found"
                self.warn(f"image '{src}' {where}; only its description is shown", "broken")
                return None
            if resolved.kind == "attachment":
                return self.attach(resolved.path or target, resolved.filename)
            return resolved
        return self.attach(target)

    def _local_path(self, relative: str) -> tuple[str, bool]:
        """The path relative to the docs root, and whether it leaves the docs folder (the
        resolver decides whether what it reaches may be attached)."""
        base = posixpath.dirname(self.path or "")
        joined = posixpath.normpath(posixpath.join(base, relative))
        return joined, joined == ".." or joined.startswith("../") or joined.startswith("/")

    def attach(self, path: str, filename: str | None = None) -> LinkTarget:
        """Record a file for upload under a name unique on this page."""
        existing = self.attachments.get(path)
        if existing is None:
            taken = {ref.filename for ref in self.attachments.values()}
            name = filename or posixpath.basename(path) or "file"
            if name in taken:
                folder = posixpath.basename(posixpath.dirname(path))
                name = f"{folder}_{name}" if folder else name
                stem, dot, suffix = name.rpartition(".")
                counter = 2
                while name in taken:
                    name = f"{stem}-{counter}.{suffix}" if dot else f"{name}-{counter}"
                    counter += 1
            existing = AttachmentRef(path, name)
            self.attachments[path] = existing
        return LinkTarget("attachment", filename=existing.filename, path=path)

    def image(self, parent: etree._Element, src: str, alt: str, title: str | None,
              width: str | None = None, height: str | None = None) -> None:
        target = self.image_target(src)
        if target is None:
            append_text(parent, alt or src)
            return
        attributes: dict[str, str] = {}
        if alt:
            attributes[constructs.IMAGE.alt] = alt
        if title:
            attributes[constructs.IMAGE.title] = title
        for name, value in ((constructs.IMAGE.width, width), (constructs.IMAGE.height, height)):
            size = _WIDTH.match(value or "")
            if size:
                attributes[name] = size.group(1)
        node = element(parent, "ac:image", attributes)
        if target.kind == "attachment":
            element(node, "ri:attachment", {"ri:filename": target.filename or ""})
        else:
            element(node, "ri:url", {"ri:value": target.url or src})

    def start_link(self, parent: etree._Element, href: str, title: str | None) -> tuple[etree._Element, Any]:
        """Open a link; returns where its body goes and a token to close it with."""
        kind, target = self.link_target(href)
        if kind in ("url", "plain") or target is None:
            attributes = {"href": href}
            if title:
                attributes["title"] = title
            return element(parent, "a", attributes), None
        link = element(parent, "ac:link")
        if target.anchor:
            link.set(qualified("ac:anchor"), target.anchor)
        if kind == "page" and target.title:
            attributes = {"ri:content-title": target.title}
            if target.space_key:
                attributes["ri:space-key"] = target.space_key
            element(link, "ri:page", attributes)
        elif kind == "attachment":
            element(link, "ri:attachment", {"ri:filename": target.filename or ""})
        body = element(link, "ac:link-body")
        return body, (link, href)

    def finish_link(self, body: etree._Element, opened: Any) -> None:
        """Link text goes in ``ac:link-body``, as the Cloud editor writes it (E10).

        A link with no text at all stays an ordinary empty link: Confluence would fill an
        empty ac:link with the page title or file name, showing text the Markdown never had.
        """
        if opened is None:
            return
        link, href = opened
        if len(body) == 0:
            text = body.text or ""
            if text.strip():
                return
            link.remove(body)
            if not link.get(qualified("ac:anchor")):
                plain = etree.Element("a", {"href": href})
                plain.text = text or None
                plain.tail = link.tail
                link.getparent().replace(link, plain)


def _direct_items(tokens: Sequence[Token], index: int) -> Iterable[Token]:
    level = tokens[index].level
    for token in tokens[index + 1 :]:
        if token.level == level and token.type.endswith("_list_close"):
            return
        if token.type == "list_item_open" and token.level == level + 1:
            yield token


def _skip_title(tokens: Sequence[Token], index: int, kind: str) -> int:
    if index < len(tokens) and tokens[index].type == f"{kind}_open":
        while index < len(tokens) and tokens[index].type != f"{kind}_close":
            index += 1
        return index + 1
    return index


_BLOCK_HANDLERS: dict[str, Callable[[Converter, Sequence[Token], int], int]] = {
    "paragraph_open": Converter._paragraph,
    "heading_open": Converter._heading,
    "blockquote_open": Converter._blockquote,
    "hr": Converter._hr,
    "fence": Converter._fence,
    "code_block": Converter._code_block,
    "html_block": Converter._html_block,
    "bullet_list_open": Converter._list_open,
    "ordered_list_open": Converter._list_open,
    "bullet_list_close": Converter._list_close,
    "ordered_list_close": Converter._list_close,
    "list_item_open": Converter._list_item,
    "list_item_close": Converter._list_item_close,
    "alert_open": Converter._alert,
    "admonition_open": Converter._admonition,
    "table_open": Converter._table,
    "thead_open": Converter._table_section,
    "tbody_open": Converter._table_section,
    "thead_close": Converter._table_section,
    "tbody_close": Converter._table_section,
    "tr_open": Converter._row,
    "th_open": Converter._cell,
    "td_open": Converter._cell,
    "footnote_block_open": Converter._footnote_block,
    "footnote_open": Converter._footnote,
    "footnote_anchor": Converter._skip,
    "front_matter": Converter._skip,
}


# -- the public entry points --------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """A Markdown file converted for Confluence."""

    storage: str
    title: str
    labels: tuple[str, ...]
    front_matter: FrontMatter
    attachments: tuple[AttachmentRef, ...]
    links: tuple[str, ...]
    warnings: tuple[ConversionWarning, ...]
    unresolved: tuple[str, ...] = ()  # refs of carried regions the payloads given did not have


def convert_markdown(text: str, *, path: str | None = None, resolve_link: LinkResolver | None = None,
                     resolve_image: ImageResolver | None = None, title_from_heading: bool = True,
                     payloads: carry.Payloads | None = None) -> Converted:
    """Convert one Markdown file: storage body, title, labels, attachments, links, warnings.

    ``path`` is the file's path relative to the docs root (``guides/install.md``); relative
    links and images are resolved against it. ``payloads`` is what the file's carried regions
    refer to (``convert_storage(..., keep_payloads=True)`` made them). Broken front matter
    raises FrontMatterError (with the file line); everything else converts, with problems
    listed in ``warnings``.
    """
    front, body = split_front_matter(text)
    converter = Converter(path=path, resolve_link=resolve_link, resolve_image=resolve_image,
                          drop_title_heading=title_from_heading and not front.title, payloads=payloads)
    result = converter.convert(body, line_offset=front.line_count)
    warnings = [ConversionWarning(None, problem, "broken") for problem in front.problems] + result.warnings
    title = front.title or (result.title_heading if title_from_heading else None) or _title_from_path(path)
    return Converted(
        storage=result.storage,
        title=title,
        labels=front.labels,
        front_matter=front,
        attachments=tuple(result.attachments),
        links=tuple(dict.fromkeys(result.links)),
        warnings=tuple(warnings),
        unresolved=tuple(result.unresolved),
    )


def markdown_to_storage(text: str, payloads: carry.Payloads | None = None) -> str:
    """The storage body for Markdown text: the pure conversion, nothing taken out.

    Valid front matter is left out of the body; headings all stay. Never raises.
    """
    try:
        _, body = split_front_matter(text)
    except MdsyncError:
        body = text
    return Converter(drop_title_heading=False, payloads=payloads).convert(body).storage


def _title_from_path(path: str | None) -> str:
    if not path:
        return "Untitled"
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return stem or "Untitled"
