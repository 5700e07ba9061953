"""Normalise two HTML renderings of one document so that they can be compared.

The fidelity test renders a Markdown document twice: with markdown-it's ``gfm-like2``
preset (the reference) and through mdsync (Markdown -> storage -> ``view.py``, the page as
Confluence shows it). :func:`normalise` turns either HTML into a canonical outline, one
line per block or inline token, so that two renderings of the same document give the same
text and any real difference (a missing paragraph, a dropped word, a wrong list number, a
lost emphasis, a changed link target) gives a visible line diff.

What the outline keeps
    Blocks: ``p``, ``h1``-``h6``, ``ul``/``ol`` (with ``start``), ``li`` (with task state),
    ``blockquote``, code blocks (lines verbatim, language loosely), ``table``/``tr``/
    ``th``/``td`` (with alignment), ``hr``, alerts (with kind), ``details``/``summary``,
    ``dl``/``dt``/``dd``. Inline: ``em``, ``strong``, ``s``, ``code``, ``u``, ``sup``,
    ``sub``, ``a`` (href), ``img`` (alt, src), ``br`` and text. A span styled
    ``text-decoration: line-through`` / ``underline`` (how storage marks strike and underline
    inside link bodies) counts as ``s`` / ``u``.

What it deliberately ignores (each is presentation, not content)
    * Tight versus loose lists: inline content directly inside a list item (or any other
      container) counts as one paragraph, so ``<li>a</li>`` equals ``<li><p>a</p></li>``.
      Two paragraphs still differ from one paragraph with a line break.
    * Whitespace the browser collapses: runs of ASCII whitespace become one space; spaces
      at the start or end of a block or next to a ``<br>`` are dropped. Code blocks keep
      their text exactly.
    * ``title`` attributes of links and images: tooltips, not page content.
    * Wrappers with no meaning of their own (``div``, ``span``, ``section`` ...), classes,
      ids, and the decorations each renderer adds: view.py's code-block title bar, panel
      titles and icons, markdown-it's "alert title" paragraph (``<p class="markdown-alert-title">``,
      which only repeats the alert kind), the task checkbox (its state goes on the item).
    * Heading ids: a ``#fragment`` link that names a heading becomes ``#→heading N`` (the
      N-th heading of the document), so GitHub's slug (``#set-up``) and Confluence's anchor
      (``#Set-up``) for the same heading compare equal; any other fragment is kept.
    * Percent-encoding of URLs (``%20`` equals a space).
    * One list split into several by mdsync because Confluence keeps task items in their
      own task list: adjacent ``ul`` lists are merged when one of them holds task items.

What differs by source (``source="markdown-it"`` or ``source="view"``)
    * Code blocks: markdown-it ends every code line with a newline, so one final ``\\n`` is
      a line terminator and is removed; the code macro's body has no final terminator.
    * Code language: the macro carries Confluence's name for it (``python`` -> ``py``), so
      markdown-it's language goes through :func:`mdsync.constructs.confluence_language`
      (plain-text names such as ``text`` mean "no language").
    * Relative links and images: mdsync uploads a relative, non-Markdown target inside the
      docs folder as an attachment of the page, named after the file. So on markdown-it's
      side ``dir/file.png?x#y`` becomes ``attachment:file.png?x#y`` (query and fragment are
      kept, so dropping them shows), and on view's side the URLs that
      :func:`attachment_url` / :func:`page_url` produced become ``attachment:NAME`` /
      ``page:TITLE``. Links to Markdown files, site-absolute paths and paths leaving the
      folder stay as they are on both sides.
    * Heading fragments: markdown-it's headings have no ids, so their GitHub slugs are
      computed here (lower case, punctuation dropped, spaces to ``-``, ``-1``, ``-2`` for
      repeats); view.py's headings carry their Confluence anchors as ids.
    * Alert kinds: markdown-it names the kind in its class; view.py shows Confluence panels
      by colour: blue info = NOTE, green tip = TIP, yellow note = WARNING, red warning =
      CAUTION, and the purple custom panel (``#EAE6FF``) = IMPORTANT.
"""

from __future__ import annotations

import json
import posixpath
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

import lxml.html
from lxml import etree

from mdsync.constructs import confluence_language

Source = Literal["markdown-it", "view"]

ATTACHMENT_PREFIX = "/.fidelity-attachment/"
PAGE_PREFIX = "/.fidelity-page/"


def attachment_url(filename: str, page: str | None) -> str:
    """The URL view.py is given for an attachment (resolve_attachment)."""
    return ATTACHMENT_PREFIX + quote(filename, safe="")


def page_url(title: str, space: str | None) -> str:
    """The URL view.py is given for a page (resolve_page)."""
    return PAGE_PREFIX + quote(title, safe="")


# ------------------------------------------------------------------------ the outline


@dataclass
class Block:
    kind: str
    attrs: tuple[tuple[str, str], ...] = ()
    children: list[Item] = field(default_factory=list)
    lines: list[str] | None = None  # code blocks: their text, line by line


@dataclass(frozen=True)
class Token:
    """An inline token: text, or an opening/closing mark, or a void element."""

    kind: str  # "text", "open", "close", "br", "img"
    value: str = ""
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Boundary:
    """The edge of a wrapper block (a plain div): inline text does not run across it."""


Item = Block | Token | Boundary

_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_INLINE_MARKS = {
    "em": "em", "i": "em",
    "strong": "strong", "b": "strong",
    "s": "s", "del": "s", "strike": "s",
    "code": "code", "tt": "code", "kbd": "code",
    "u": "u", "ins": "u",
    "sup": "sup", "sub": "sub",
}
# Wrappers that are blocks in HTML: their content starts and ends a line.
_BLOCK_WRAPPERS = frozenset({
    "div", "section", "article", "aside", "header", "footer", "main", "nav", "figure",
    "figcaption", "center", "address", "fieldset", "form", "body", "html",
})
_DROPPED = frozenset({"script", "style", "head", "title", "meta", "colgroup", "col"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
_ALIGN = re.compile(r"text-align\s*:\s*(left|right|center)", re.IGNORECASE)
_PANEL_KINDS = {"panel-info": "note", "panel-tip": "tip", "panel-note": "warning", "panel-warning": "caution"}
_DECORATION = re.compile(r"text-decoration\s*:[^;]*\b(line-through|underline)\b", re.IGNORECASE)
_IMPORTANT_COLOUR = re.compile(r"background-color\s*:\s*#eae6ff", re.IGNORECASE)


def normalise(html: str, *, source: Source) -> str:
    """The canonical outline of an HTML fragment, as text (one token per line)."""
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    if source == "view" and len(root) == 1 and "confluence-view" in _classes(root[0]):
        root = root[0]  # view.py's one wrapper
    walker = _Walker(source, _heading_targets(root, source))
    _mark_tasks(root)
    blocks = walker.flow(walker.items(root))
    return "\n".join(_render(blocks, 0))


# ------------------------------------------------------------------------ pre-passes


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


def github_slug(text: str) -> str:
    """GitHub's heading anchor: lower case; letters, digits, marks, '_', '-' and spaces kept; spaces to '-'."""
    kept = []
    for char in unicodedata.normalize("NFC", text.strip()).lower():
        category = unicodedata.category(char)
        if char in "-_ " or category[0] in "LMN" or category == "Pc":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def _heading_targets(root: etree._Element, source: Source) -> dict[str, int]:
    """Fragment -> index of the heading it names (first wins)."""
    targets: dict[str, int] = {}
    seen: dict[str, int] = {}
    for index, heading in enumerate(root.iter(*_HEADINGS)):
        if source == "view":
            anchor = heading.get("id")
        else:
            base = github_slug("".join(heading.itertext()))
            count = seen.get(base)
            seen[base] = 0 if count is None else count + 1
            anchor = base if count is None else f"{base}-{count + 1}"
        if anchor:
            targets.setdefault(anchor, index)
    return targets


def _mark_tasks(root: etree._Element) -> None:
    """A list item that opens with a checkbox is a task: its state goes on the item."""
    for item in list(root.iter("li")):
        holder = item
        while not (holder.text or "").strip() and len(holder) and holder[0].tag in ("p", "span"):
            holder = holder[0]
        if (holder.text or "").strip() or not len(holder):
            continue
        box = holder[0]
        if box.tag != "input" or (box.get("type") or "").lower() != "checkbox":
            continue
        item.set("data-fidelity-task", "x" if box.get("checked") is not None else " ")
        tail = box.tail or ""
        holder.remove(box)
        holder.text = (holder.text or "") + tail


def _code_text(element: etree._Element) -> str:
    """The text of a code block; view.py's line numbers are not part of the code."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and "line-number" not in _classes(child):
            parts.append(_code_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


# ------------------------------------------------------------------------ walking


class _Walker:
    def __init__(self, source: Source, headings: dict[str, int]) -> None:
        self.source = source
        self.headings = headings

    # -- content of an element: blocks and inline tokens in order -----------------------

    def items(self, element: etree._Element) -> list[Item]:
        found: list[Item] = []
        self._text(found, element.text)
        for child in element:
            if isinstance(child.tag, str):
                found.extend(self.element(child))
            self._text(found, child.tail)
        return found

    @staticmethod
    def _text(found: list[Item], text: str | None) -> None:
        if text:
            found.append(Token("text", text))

    def element(self, el: etree._Element) -> list[Item]:
        tag = el.tag.lower()
        classes = _classes(el)
        if tag in _DROPPED:
            return []
        # Decorations that only repeat what the outline already says.
        if {"markdown-alert-title", "panel-title", "panel-icon", "code-title"} & classes:
            return []
        if tag in _HEADINGS:
            return [Block(tag, (), self.items(el))]
        if tag == "div" and any(name.startswith("heading-h") for name in classes):
            return [Block(next(n for n in classes if n.startswith("heading-h"))[8:], (), self.items(el))]
        if tag == "p" or (tag == "div" and "p" in classes):
            return [Block("p", (), self.items(el))]
        if tag in ("ul", "ol"):
            return [self.listing(el, tag)]
        if tag == "li" or (tag == "div" and "li" in classes):
            task = el.get("data-fidelity-task")
            return [Block("li", (("task", f"[{task}]"),) if task else (), self.flow(self.items(el)))]
        if tag == "blockquote":
            return [Block("blockquote", (), self.flow(self.items(el)))]
        if tag == "pre" or (tag == "div" and "code-block" in classes):
            return [self.code(el)]
        if tag == "hr":
            return [Block("hr")]
        if tag == "table":
            return [Block("table", (), [Block("tr", (), self.cells(row)) for row in el.iter("tr")])]
        if tag in ("thead", "tbody", "tfoot", "tr", "td", "th", "caption"):
            return [Block(tag, (), self.flow(self.items(el)))]  # stray table parts (not produced)
        if tag == "div" and "markdown-alert" in classes:
            kind = next((n[len("markdown-alert-"):] for n in classes if n.startswith("markdown-alert-")), "?")
            return [Block("alert", (("kind", kind),), self.flow(self.items(el)))]
        if tag == "div" and "panel" in classes:
            return [Block("alert", (("kind", self.panel_kind(el, classes)),), self.flow(self.items(el)))]
        if tag == "details":
            return [Block("details", (), self.flow(self.items(el)))]
        if tag == "summary":
            return [Block("summary", (), self.items(el))]
        if tag in ("dl", "dt", "dd"):
            return [Block(tag, (), self.flow(self.items(el)) if tag != "dt" else self.items(el))]
        if tag in _BLOCK_WRAPPERS:
            return [Boundary(), *self.items(el), Boundary()]
        # Inline content.
        if tag == "br":
            return [Token("br")]
        if tag == "img":
            attrs = (("alt", el.get("alt") or ""), ("src", self.url(el.get("src"), image=True)))
            return [Token("img", attrs=attrs)]
        if tag == "a":
            if el.get("href") is None and el.get("id") is not None and not len(el) and not el.text:
                return []  # an anchor target (<a id=...>) shows nothing
            attrs = (("href", self.url(el.get("href"), image=False)),)
            return [Token("open", "a", attrs), *self.items(el), Token("close", "a")]
        mark = _INLINE_MARKS.get(tag)
        if mark is not None:
            return [Token("open", mark), *self.items(el), Token("close", mark)]
        content = self.items(el)  # span, small, mark, input ...: only their content shows
        # Confluence writes strike and underline inside link bodies as styled spans.
        decoration = _DECORATION.search(el.get("style") or "") if tag == "span" else None
        if decoration:
            mark = "s" if decoration.group(1).lower() == "line-through" else "u"
            return [Token("open", mark), *content, Token("close", mark)]
        return content

    # -- blocks with structure ------------------------------------------------------------

    def listing(self, el: etree._Element, tag: str) -> Block:
        attrs: tuple[tuple[str, str], ...] = ()
        if tag == "ol":
            start = (el.get("start") or "1").strip()
            attrs = (("start", str(int(start)) if re.fullmatch(r"-?\d+", start) else start),)
        children: list[Item] = []
        for item in self.items(el):
            if isinstance(item, Block):
                children.append(item)
            elif isinstance(item, Token) and (item.kind != "text" or item.value.strip()):
                children.append(Block("stray", (), [item]))  # content outside any item shows too
        return Block(tag, attrs, children)

    def cells(self, row: etree._Element) -> list[Item]:
        cells: list[Item] = []
        for cell in row:
            if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
                continue
            align = _ALIGN.search(cell.get("style") or "") or None
            attrs = (("align", align.group(1).lower()),) if align else ()
            if cell.get("align"):
                attrs = (("align", cell.get("align", "").lower()),)
            for span in ("colspan", "rowspan"):
                if cell.get(span) not in (None, "1"):
                    attrs += ((span, cell.get(span) or ""),)
            cells.append(Block(cell.tag, attrs, self.flow(self.items(cell))))
        return cells

    def code(self, el: etree._Element) -> Block:
        pre = el if el.tag == "pre" else next(el.iter("pre"), None)
        if pre is None:
            return Block("code-block", (), [], [])
        code = next(pre.iter("code"), None)
        language = None
        if code is not None:
            language = next((n[len("language-"):] for n in _classes(code) if n.startswith("language-")), None)
        text = _code_text(pre)
        if self.source == "markdown-it":
            text = text[:-1] if text.endswith("\n") else text
            language = confluence_language(unquote(language)) if language else None
        attrs = (("language", language.lower()),) if language else ()
        return Block("code-block", attrs, [], text.split("\n"))

    def panel_kind(self, el: etree._Element, classes: set[str]) -> str:
        adf = sorted(name for name in classes if name.startswith("panel-adf-"))
        if adf:
            return "adf:" + adf[0][len("panel-adf-"):]  # Cloud panels: not written by mdsync
        for name, kind in _PANEL_KINDS.items():
            if name in classes:
                return kind
        if "panel-generic" in classes and _IMPORTANT_COLOUR.search(el.get("style") or ""):
            return "important"
        return "panel:" + " ".join(sorted(classes - {"panel"}))

    # -- URLs -------------------------------------------------------------------------------

    def url(self, value: str | None, *, image: bool) -> str:
        if value is None:
            return "(none)"
        url = value.strip()
        if url.startswith("#"):
            return self.fragment(url[1:])
        if self.source == "view":
            if url.startswith(ATTACHMENT_PREFIX):
                return "attachment:" + unquote(url[len(ATTACHMENT_PREFIX):])
            if url.startswith(PAGE_PREFIX):
                return "page:" + unquote(url[len(PAGE_PREFIX):])
            # A plain relative link (mdsync keeps empty links plain) reads like markdown-it's.
        if _SCHEME.match(url) or url.startswith(("/", "//")):
            return unquote(url)
        parts = urlsplit(url)
        path = unquote(parts.path)
        if not path:
            return unquote(url)
        local = posixpath.normpath(path)
        if local == ".." or local.startswith("../"):
            return unquote(url)  # outside the docs folder: mdsync keeps such links as they are
        if not image and (local.lower().endswith(_MARKDOWN_SUFFIXES) or path.endswith("/")):
            return unquote(url)  # another page: a plain link until a sync resolves it
        name = posixpath.basename(local) or "file"
        query = "?" + unquote(parts.query) if parts.query else ""
        fragment = "#" + unquote(parts.fragment) if parts.fragment else ""
        return f"attachment:{name}{query}{fragment}"

    def fragment(self, fragment: str) -> str:
        name = unquote(fragment)
        index = self.headings.get(name)
        if index is None:
            index = next((i for anchor, i in self.headings.items() if anchor.lower() == name.lower()), None)
        return f"#→heading {index}" if index is not None else "#" + name

    # -- grouping inline runs into paragraphs --------------------------------------------

    def flow(self, items: list[Item]) -> list[Item]:
        """Blocks of a container: inline runs between blocks become (implicit) paragraphs."""
        blocks: list[Item] = []
        run: list[Token] = []

        def flush() -> None:
            tokens = collapse(run)
            if tokens:
                blocks.append(Block("p", (), list(tokens)))
            run.clear()

        for item in items:
            if isinstance(item, Token):
                run.append(item)
                continue
            flush()
            if isinstance(item, Block):
                blocks.append(item)
        flush()
        return _merge_task_lists(blocks)


def _merge_task_lists(blocks: list[Item]) -> list[Item]:
    merged: list[Item] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if isinstance(block, Block) and isinstance(previous, Block) and block.kind == previous.kind == "ul" \
                and (_has_tasks(block) or _has_tasks(previous)):
            previous.children.extend(block.children)
            continue
        merged.append(block)
    return merged


def _has_tasks(listing: Block) -> bool:
    return any(isinstance(item, Block) and item.attrs and item.attrs[0][0] == "task" for item in listing.children)


def collapse(tokens: list[Token]) -> list[Token]:
    """Collapse whitespace as a browser does; drop it at line starts and ends; merge text."""
    out: list[Token] = []
    line_start = True
    after_space = False
    for token in tokens:
        if token.kind == "text":
            text = _WHITESPACE.sub(" ", token.value)
            if line_start or after_space:
                text = text.lstrip(" ")
            if text:
                out.append(Token("text", text))
                line_start = False
                after_space = text.endswith(" ")
        else:
            out.append(token)
            if token.kind == "br":
                line_start, after_space = True, False
            elif token.kind == "img":
                line_start, after_space = False, False
    # Spaces before a line end (a <br> or the end of the block) do not show.
    line_end = True
    for index in range(len(out) - 1, -1, -1):
        token = out[index]
        if token.kind == "text":
            if line_end:
                out[index] = Token("text", token.value.rstrip(" "))
                if out[index].value:
                    line_end = False
        elif token.kind == "br":
            line_end = True
        elif token.kind == "img":
            line_end = False
    merged: list[Token] = []
    for token in out:
        if token.kind == "text" and not token.value:
            continue
        if token.kind == "text" and merged and merged[-1].kind == "text":
            merged[-1] = Token("text", merged[-1].value + token.value)
        else:
            merged.append(token)
    return merged


# ------------------------------------------------------------------------ rendering


def _attrs(attrs: tuple[tuple[str, str], ...]) -> str:
    return "".join(f" {key}={json.dumps(value, ensure_ascii=False)}" for key, value in attrs)


def _render(items: list[Item], depth: int) -> Iterator[str]:
    pad = "  " * depth
    for item in items:
        if isinstance(item, Block):
            yield f"{pad}{item.kind}{_attrs(item.attrs)}"
            if item.lines is not None:
                for line in item.lines:
                    yield f"{pad}  | {line}"
            if item.kind in ("p", "summary", "dt", *_HEADINGS):
                yield from _render_inline(collapse([i for i in item.children if isinstance(i, Token)]), item.children,
                                          depth + 1)
            else:
                yield from _render(item.children, depth + 1)
        elif isinstance(item, Token):
            yield from _render_inline([item], [item], depth)


def _render_inline(tokens: list[Token], original: list[Item], depth: int) -> Iterator[str]:
    pad = "  " * depth
    if any(not isinstance(item, Token) for item in original):
        # A block inside a text block (view.py's <div class="p">): show everything in order.
        run: list[Token] = []
        for item in original:
            if isinstance(item, Token):
                run.append(item)
                continue
            yield from _render_inline(collapse(run), run, depth)
            run = []
            if isinstance(item, Block):
                yield from _render([item], depth)
        yield from _render_inline(collapse(run), run, depth)
        return
    for token in tokens:
        if token.kind == "text":
            yield f"{pad}{json.dumps(token.value, ensure_ascii=False)}"
        elif token.kind == "open":
            yield f"{pad}<{token.value}{_attrs(token.attrs)}>"
        elif token.kind == "close":
            yield f"{pad}</{token.value}>"
        else:
            yield f"{pad}<{token.kind}{_attrs(token.attrs)}>"
