"""Render Confluence storage format as HTML, the way Confluence shows the page.

The sandbox uses this for its browser preview and for ``body-format=view``; fidelity
tests render storage through it to check that a Markdown file's meaning reaches the page.

Storage is parsed only through :func:`mdsync.storage.xhtml.parse_storage`. The
output is built as an lxml element tree and serialised by lxml as HTML, so every piece of
text and every attribute value is escaped by the serialiser, never by hand. What reaches
the output passes allowlists: tags, attributes, URL schemes and CSS properties.

Choices worth knowing:

* The fragment is one ``<div class="confluence-view">``; :data:`VIEW_CSS` is scoped to it.
* Empty spacer paragraphs (``<p />``, ``<p><br /></p>``) are kept as empty paragraphs,
  because Confluence shows them as blank lines.
* A ``<p>`` that ends up holding block content (a panel macro inside a paragraph, say)
  becomes ``<div class="p">``; otherwise an HTML parser would close the paragraph early
  and re-arrange the tree. For the same reason a link inside a link becomes a ``<span>``
  and stray table parts are wrapped into (or unwrapped out of) proper rows and cells.
* Headings get ``id = heading_anchor(text)``; a repeated heading gets ``.1``, ``.2`` ...
  appended so ids stay unique (the first one keeps the plain anchor).
* Cloud ADF panel types keep the colour Cloud shows: ``info`` blue, ``note`` purple,
  ``success`` green (``panel-tip``), ``warning`` yellow (``panel-note``, the classic note
  macro is Cloud's "Warning" panel), ``error`` red (``panel-warning``). The element also
  carries ``panel-adf-<type>`` so callers can tell them apart.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

from lxml import etree

from mdsync import constructs
from mdsync.constructs import CODE
from mdsync.preview.dates import calendar_date
from mdsync.preview.highlight import Span, highlight_lines
from mdsync.storage.anchors import AnchorCounter, confluence_anchor
from mdsync.storage.emoticons import emoticon_text
from mdsync.storage.xhtml import StorageParseError, append_text, attribute, local_name, parse_storage

__all__ = [
    "AttachmentResolver",
    "MissingPageResolver",
    "PageResolver",
    "StorageParseError",
    "VIEW_CLASS",
    "VIEW_CSS",
    "emoticon_text",
    "heading_anchor",
    "render_storage",
]

PageResolver = Callable[[str, str | None], str | None]
"""(page title, space key or None for this space) -> URL of that page, or None if unknown."""

AttachmentResolver = Callable[[str, str | None], str | None]
"""(file name, owning page title or None for this page) -> URL of the file, or None."""

MissingPageResolver = Callable[[str, str | None], str | None]
"""(title or link target, space key or None) -> URL of a "page not found" page, or None."""

VIEW_CLASS = "confluence-view"

# libxml2 refuses documents deeper than 256 levels, and each level costs at most two
# Python frames here; the guard only matters if that parser limit is ever lifted.
_MAX_DEPTH = 260

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# Start tags that make an HTML parser close an open <p> (WHATWG "in body" rules).
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "details", "div", "dl", "dd", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main",
        "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "ul",
    }
    | _HEADINGS
)

# lxml.html (libxml2) also closes these parents when one of these tags starts directly
# inside them, which HTML5 parsers do not; such a child gets a neutral <div> in between.
_CLOSES_PARENT = {
    **{tag: frozenset({"p", "table"}) for tag in _HEADINGS},
    **{tag: frozenset({"p"}) for tag in ("b", "i", "u", "s", "small", "big")},
    "a": frozenset({"table"}),
    "pre": frozenset({"ul", "li", "dl", "dt", "dd", "table"}),
    "ul": frozenset({"pre"}),
    "li": frozenset({"li"}),
    "dl": frozenset({"li"}),
    "dt": frozenset({"dl", "dd"}),
    "dd": frozenset({"dt"}),
}

# Plain XHTML that passes through: storage tag -> output tag. Marks as constructs.py spells
# them (tags HTML no longer knows, <strike> and <tt>, as the mark they spell).
_OBSOLETE_IN_HTML = frozenset({"strike", "tt"})
_PASS_THROUGH = {
    **{tag: tag for tag in _HEADINGS},
    **{tag: tag for tag in ("p", "pre", "blockquote", "span", "div", "cite", "q", "kbd", "mark", "abbr")},
    **{spelling: mark.tag if spelling in _OBSOLETE_IN_HTML else spelling
       for mark in constructs.MARK_SPECS for spelling in (mark.tag, *mark.spellings)},
}
_VOID = frozenset({"br", "hr", "img", "col"})
_DROPPED = frozenset({"script", "style"})

_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# Schemes that make a browser run or load content in the page's context never pass;
# every other scheme is an ordinary link, as Confluence shows it.
_UNSAFE_SCHEMES = frozenset({"javascript", "vbscript", "data", "livescript", "mocha", "file", "blob", "about",
                             "filesystem", "view-source", "jar"})
# Browsers strip control characters and spaces around a URL and drop tabs and newlines
# anywhere in it, so they go before the scheme is checked ("java\tscript:" is javascript:).
_URL_EDGES = "".join(map(chr, range(0x21)))
_URL_DROPPED = re.compile(r"[\t\n\r]")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_COLOUR = re.compile(
    r"#[0-9A-Fa-f]{3,8}|(?:rgb|rgba|hsl|hsla)\(\s*[0-9.%\s,/]+\)|[A-Za-z]{3,30}"
)
_LENGTH = re.compile(r"-?\d{1,6}(?:\.\d{1,4})?(?:px|em|rem|%|pt|ch|vw)?|auto")
_STYLE_VALUES = {
    "color": _COLOUR,
    "background-color": _COLOUR,
    "text-align": re.compile(r"left|right|center|justify|start|end"),
    "text-decoration": re.compile(r"[a-z\- ]{1,60}"),
    "margin-left": _LENGTH,
    "width": _LENGTH,
}
_BORDER_STYLES = frozenset(
    {"solid", "dashed", "dotted", "double", "none", "groove", "ridge", "inset", "outset"}
)

_STATUS_COLOURS = frozenset({"grey", "red", "yellow", "green", "blue", "purple"})
_ADF_PANELS = {
    "info": "panel-info",
    "note": "panel-info",  # recoloured purple by the panel-adf-note class
    "success": "panel-tip",
    "warning": "panel-note",
    "error": "panel-warning",
}


# Macros whose output Confluence computes on the server from other pages or data.
_DYNAMIC_MACROS = frozenset(
    {
        "children", "pagetree", "pagetreesearch", "contentbylabel", "recently-updated",
        "attachments", "gallery", "blog-posts", "contributors", "change-history",
        "tasks-report-macro", "related-labels", "popular-labels", "detailssummary",
        "include", "excerpt-include", "listlabels", "space-details", "spaces",
    }
)


# The anchor Confluence gives a heading in storage links (``ac:anchor``): its text with
# whitespace runs as "-", case and punctuation kept ("Set up: the CLI" -> "Set-up:-the-CLI").
heading_anchor = confluence_anchor


@dataclass
class _Context:
    resolve_page: PageResolver | None
    resolve_attachment: AttachmentResolver | None
    missing_page: MissingPageResolver | None = None
    highlight: bool = True
    tocs: list[tuple[etree._Element, _Macro]] = field(default_factory=list)
    depth: int = 0


@dataclass
class _Macro:
    name: str
    params: dict[str, str]  # keys lower-cased; "" is the default parameter
    param_elements: list[tuple[str, etree._Element]]
    rich_body: etree._Element | None
    plain_body: str | None

    def param(self, name: str, default: str = "") -> str:
        return self.params.get(name.lower(), default)

    def flag(self, name: str) -> bool:
        return self.param(name).strip().lower() == "true"


def render_storage(
    storage: str,
    *,
    resolve_page: PageResolver | None = None,
    resolve_attachment: AttachmentResolver | None = None,
    missing_page: MissingPageResolver | None = None,
    highlight: bool = True,
) -> str:
    """Render storage format as an HTML fragment (one ``div.confluence-view``).

    A link to a page that does not exist shows as Confluence shows it, ``a.unresolved``,
    leading to ``missing_page``'s URL (or nowhere without it). With ``missing_page``, a
    relative link (how mdsync writes a link to a Markdown file that has no page) counts as
    unresolved too: on a Confluence page it would only reopen the page itself.

    ``highlight`` colours code as Confluence's page does in the browser; Confluence's REST
    ``view`` body leaves that to the browser's script, so it has plain code.

    Raises StorageParseError for malformed storage and nothing else for well-formed
    storage (exceptions raised by the resolvers themselves propagate).
    """
    source = parse_storage(storage)
    root = etree.Element("div", {"class": VIEW_CLASS})
    ctx = _Context(resolve_page, resolve_attachment, missing_page, highlight)
    _render_children(source, root, ctx)
    _finish(root, ctx)
    return etree.tostring(root, method="html", encoding="unicode")


# ---------------------------------------------------------------------------- building


def _make(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None) -> etree._Element:
    """Append a new output element, keeping the tree one that HTML parsers keep intact."""
    chain = [parent, *parent.iterancestors()]
    classes: list[str] = []
    if tag == "a" and any(el.tag == "a" for el in chain):
        tag = "span"  # <a> inside <a> would be split apart by the parser
    if tag in _HEADINGS and any(el.tag in _HEADINGS for el in chain):
        tag, classes = "div", [f"heading-{tag}"]
    if tag in _BLOCK:
        for el in chain:
            if el.tag == "p":
                el.tag = "div"
                _add_class(el, "p")
    if tag in _CLOSES_PARENT.get(parent.tag, ()):
        if tag == "p":
            tag, classes = "div", [*classes, "p"]
        else:
            parent = etree.SubElement(parent, "div")
    element = etree.SubElement(parent, tag)
    for key, value in (attrib or {}).items():
        element.set(key, value)
    for name in classes:
        _add_class(element, name)
    return element


def _add_class(element: etree._Element, name: str) -> None:
    existing = element.get("class")
    element.set("class", f"{existing} {name}" if existing else name)


def _text_of(element: etree._Element | None) -> str:
    return "" if element is None else "".join(element.itertext())


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if local_name(child) == name:
            return child
    return None


def _token(value: str) -> str:
    """A value made safe and stable to use inside a class name."""
    return re.sub(r"[^a-z0-9_-]+", "-", value.strip().lower()).strip("-")


def _clean(value: object) -> str | None:
    """A resolver's answer as text lxml accepts, or None."""
    if not isinstance(value, str):
        return None
    return _XML_INVALID.sub("", value)


def _safe_url(url: object) -> str | None:
    """The URL unless its scheme could run script; None for those.

    An empty URL stays empty: a link to "" is a link to this page, as in a browser.
    """
    text = _clean(url)
    if text is None:
        return None
    text = _URL_DROPPED.sub("", text).strip(_URL_EDGES)
    if not text:
        return ""
    scheme = _URL_SCHEME.match(text)
    if scheme and scheme.group(1).lower() in _UNSAFE_SCHEMES:
        return None
    return text


def _safe_colour(value: str) -> str | None:
    value = value.strip()
    return value if _COLOUR.fullmatch(value) else None


def _safe_style(value: str) -> str | None:
    kept: list[str] = []
    for declaration in value.split(";"):
        name, colon, raw = declaration.partition(":")
        name, raw = name.strip().lower(), raw.strip()
        pattern = _STYLE_VALUES.get(name)
        if colon and pattern is not None and pattern.fullmatch(raw):
            kept.append(f"{name}: {raw}")
    return "; ".join(kept) or None


def _positive_int(value: str | None, limit: int = 10_000) -> str | None:
    if value is None or not value.strip().isdigit():
        return None
    number = int(value.strip())
    return str(min(number, limit)) if number > 0 else None


def _safe_attributes(element: etree._Element, tag: str) -> dict[str, str]:
    """The attributes of a plain XHTML element that are safe and meaningful to keep."""
    kept: dict[str, str] = {}
    for key, value in element.attrib.items():
        if key.startswith("{"):
            continue  # ac:local-id, xml:lang and other namespaced, editor-only attributes
        key = key.lower()
        if key == "title":
            kept["title"] = value
        elif key == "style":
            style = _safe_style(value)
            if style:
                kept["style"] = style
        elif key == "dir" and value in ("ltr", "rtl", "auto"):
            kept["dir"] = value
        elif key == "lang" and re.fullmatch(r"[A-Za-z0-9-]{1,35}", value):
            kept["lang"] = value
        elif key in ("href", "src") and tag in ("a", "img"):
            url = _safe_url(value)
            if url or (url == "" and key == "href"):
                kept[key] = url
        elif key == "alt" and tag == "img":
            kept["alt"] = value
        elif key in ("width", "height") and tag == "img":
            number = _positive_int(value)
            if number:
                kept[key] = number
        elif key == "start" and tag == "ol" and re.fullmatch(r"-?\d{1,9}", value.strip()):
            kept["start"] = value.strip()
        elif key == "type" and tag == "ol" and value in ("1", "a", "A", "i", "I"):
            kept["type"] = value
        elif key in ("colspan", "rowspan") and tag in ("td", "th"):
            number = _positive_int(value, 1000)
            if number:
                kept[key] = number
        elif key == "scope" and tag == "th" and value in ("row", "col", "rowgroup", "colgroup"):
            kept["scope"] = value
        elif key == "span" and tag in ("col", "colgroup"):
            number = _positive_int(value, 1000)
            if number:
                kept["span"] = number
        elif key == "datetime" and tag == "time":
            kept["datetime"] = value
        elif key == "data-highlight-colour" and tag in ("td", "th"):
            colour = _safe_colour(value)
            if colour:  # show the cell colour the Cloud editor picked
                style = kept.get("style")
                extra = f"background-color: {colour}"
                kept["style"] = f"{style}; {extra}" if style else extra
        elif key == "data-layout" and tag == "table":
            kept["data-layout"] = _token(value)
        elif key == "data-card-appearance" and tag == "a":
            kept["data-card-appearance"] = _token(value)
    return kept


# ---------------------------------------------------------------------------- walking


def _render_children(source: etree._Element, out: etree._Element, ctx: _Context) -> None:
    """Render the content of ``source`` (text, children, their tails) into ``out``."""
    append_text(out, source.text)
    ctx.depth += 1
    try:
        for child in source:
            if isinstance(child.tag, str):  # comments and processing instructions vanish
                if ctx.depth > _MAX_DEPTH:
                    append_text(out, _text_of(child))
                else:
                    name = local_name(child).lower()
                    _HANDLERS.get(name, _render_unknown_element)(child, out, ctx)
            append_text(out, child.tail)
    finally:
        ctx.depth -= 1


def _render_unknown_element(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    name = local_name(element).lower()
    if name in _DROPPED:
        return
    tag = _PASS_THROUGH.get(name)
    if tag is None:
        _render_children(element, out, ctx)  # unknown tag: keep what it says, drop the tag
        return
    new = _make(out, tag, _safe_attributes(element, name))
    _render_children(element, new, ctx)


def _render_void(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    name = local_name(element).lower()
    if name == "col" and out.tag not in ("colgroup", "table"):
        _render_children(element, out, ctx)
        return
    if name == "col":
        # Column definitions show nothing; whatever a col holds has no place in a table.
        holder = out if out.tag == "colgroup" else _make(out, "colgroup")
        _make(holder, "col", _safe_attributes(element, "col"))
        return
    attrib = _safe_attributes(element, name)
    if name == "img" and "src" not in attrib:
        _add_attrib_class(attrib, "image-blocked")
    _make(out, name, attrib)
    # Void elements cannot hold content in HTML; anything inside follows them instead.
    _render_children(element, out, ctx)


def _add_attrib_class(attrib: dict[str, str], name: str) -> None:
    attrib["class"] = f"{attrib['class']} {name}" if attrib.get("class") else name


def _render_li(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    # Outside a list an <li> would close the enclosing item when parsed, so it becomes a div.
    tag = "li" if out.tag in ("ul", "ol") else "div"
    new = _make(out, tag, _safe_attributes(element, "li"))
    if tag == "div":
        _add_class(new, "li")
    _render_children(element, new, ctx)


def _render_list(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    """A ul/ol whose content outside items joins the item before it (as legacy nesting means)."""
    name = local_name(element).lower()
    listing = _make(out, name, _safe_attributes(element, name))
    last: etree._Element | None = None

    def item() -> etree._Element:
        nonlocal last
        if last is None:
            last = _make(listing, "li", {"class": "list-filler"})
        return last

    def text(value: str | None) -> None:
        if value and value.strip():  # whitespace between items means nothing
            append_text(item(), value)

    text(element.text)
    ctx.depth += 1
    try:
        for child in element:
            if isinstance(child.tag, str):
                child_name = local_name(child).lower()
                if ctx.depth > _MAX_DEPTH:
                    append_text(item(), _text_of(child))
                elif child_name == "li":
                    _render_li(child, listing, ctx)
                    last = listing[-1]
                else:
                    _HANDLERS.get(child_name, _render_unknown_element)(child, item(), ctx)
            text(child.tail)
    finally:
        ctx.depth -= 1


def _render_link_element(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    attrib = _safe_attributes(element, "a")
    href = attrib.get("href", "")
    if ctx.missing_page is not None and href and not _URL_SCHEME.match(href) and href[0] not in "/#?":
        attrib.pop("href")
        _render_children(element, _unresolved(out, ctx, href, None), ctx)
        return
    new = _make(out, "a", attrib)
    if element.get("href") is not None and "href" not in attrib:
        _add_class(new, "blocked-link")
    _render_children(element, new, ctx)


def _render_time(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    attrib = _safe_attributes(element, "time")
    attrib["class"] = "date-lozenge"
    new = _make(out, "time", attrib)
    if element.text or len(element):
        _render_children(element, new, ctx)
        return
    moment = attrib.get("datetime", "")
    # The lozenge reads "Jan 31, 2026" as in Confluence; the ISO date stays in its attributes.
    new.text = calendar_date(moment) or moment
    if moment and "title" not in attrib:
        new.set("title", moment)


# ---------------------------------------------------------------------------- tables

_TABLE_PARTS = {
    "table": frozenset({"caption", "colgroup", "thead", "tbody", "tfoot", "tr", "col"}),
    "thead": frozenset({"tr"}),
    "tbody": frozenset({"tr"}),
    "tfoot": frozenset({"tr"}),
    "tr": frozenset({"td", "th"}),
}


def _render_table_part(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    name = local_name(element).lower()
    if name not in _TABLE_PARTS.get(out.tag, ()) and name != "table":
        _render_children(element, out, ctx)  # a stray row or section: keep its content
        return
    new = _make(out, name, _safe_attributes(element, name))
    if name in ("td", "th", "caption"):
        _render_children(element, new, ctx)
    elif name == "colgroup":
        for child in element:
            if local_name(child).lower() == "col":
                _make(new, "col", _safe_attributes(child, "col"))
    else:
        _render_table_content(element, new, ctx)


def _render_table_content(source: etree._Element, out: etree._Element, ctx: _Context) -> None:
    """Render the children of a table, section or row, putting misplaced content in cells.

    HTML parsers move text and non-table elements found directly in a table out of it, so
    anything that is not a proper child goes into a filler row and cell instead.
    """
    allowed = _TABLE_PARTS[out.tag]
    row: etree._Element | None = None
    cell: etree._Element | None = None

    def filler_row() -> etree._Element:
        nonlocal row
        if row is None:
            row = _make(out, "tr")
        return row

    def filler_cell() -> etree._Element:
        nonlocal cell
        holder = out if out.tag == "tr" else filler_row()
        if cell is None or cell.getparent() is not holder or cell is not holder[-1]:
            cell = _make(holder, "td")
        return cell

    def text(value: str | None) -> None:
        if value and value.strip():
            append_text(filler_cell(), value)

    text(source.text)
    ctx.depth += 1
    try:
        for child in source:
            if isinstance(child.tag, str):
                name = local_name(child).lower()
                handler = _HANDLERS.get(name, _render_unknown_element)
                if ctx.depth > _MAX_DEPTH:
                    append_text(filler_cell(), _text_of(child))
                elif name in allowed:
                    row = cell = None
                    handler(child, out, ctx)
                elif name in _DROPPED:
                    pass
                elif name in ("td", "th") and out.tag != "tr":
                    cell = None
                    handler(child, filler_row(), ctx)
                else:
                    handler(child, filler_cell(), ctx)
            text(child.tail)
    finally:
        ctx.depth -= 1


# ---------------------------------------------------------------------------- macros


def _read_macro(element: etree._Element) -> _Macro:
    name = (attribute(element, "ac:name") or "").strip()
    params: dict[str, str] = {}
    param_elements: list[tuple[str, etree._Element]] = []
    rich: etree._Element | None = None
    plain: str | None = None
    for child in element:
        kind = local_name(child)
        if kind in ("ac:parameter", "ac:default-parameter"):
            key = "" if kind == "ac:default-parameter" else (attribute(child, "ac:name") or "")
            params.setdefault(key.lower(), _text_of(child).strip())
            param_elements.append((key, child))
        elif kind == "ac:rich-text-body" and rich is None:
            rich = child
        elif kind == "ac:plain-text-body" and plain is None:
            plain = _text_of(child)
    return _Macro(name, params, param_elements, rich, plain)


def _render_macro(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    macro = _read_macro(element)
    _MACROS.get(macro.name.lower(), _macro_unknown)(macro, out, ctx)


def _macro_code(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    language = macro.param(CODE.language).strip()
    box = _make(out, "div", {"class": "code-block"})
    if language:
        box.set("data-language", language)
    title = macro.param(CODE.title).strip()
    if title or language:
        # The language is shown, not only tagged: a reader must see what the block is.
        bar = _make(box, "div", {"class": "code-title"})
        bar.text = title
        if language:
            _make(bar, "span", {"class": "code-language"}).text = language
    holder = box
    if macro.flag(CODE.collapse):
        holder = _make(box, "details", {"class": "code-collapse"})
        _make(holder, "summary").text = "Expand source"
    code = _make(_make(holder, "pre"), "code")
    if language:
        code.set("class", "language-" + re.sub(r"\s+", "-", language))
    text = macro.plain_body if macro.plain_body is not None else _text_of(macro.rich_body)
    lines = highlight_lines(text, language if ctx.highlight else "")
    if not macro.flag(CODE.line_numbers):
        for index, line in enumerate(lines):
            if index:
                append_text(code, "\n")
            _append_tokens(code, line)
        return
    _add_class(code, "linenumbers")
    first = macro.param(CODE.first_line).strip()
    number = int(first) if re.fullmatch(r"\d{1,9}", first) else 1
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # a final newline ends the last line; it does not start a new one
    for index, line in enumerate(lines):
        wrapper = _make(code, "span", {"class": "line"})
        _make(wrapper, "span", {"class": "line-number"}).text = str(number + index)
        _append_tokens(wrapper, line)
        if index < len(lines) - 1:
            wrapper.tail = "\n"


def _append_tokens(out: etree._Element, spans: list[Span]) -> None:
    """One highlighted line: a span per token Pygments named, plain text for the rest."""
    for name, value in spans:
        if name:
            _make(out, "span", {"class": name}).text = value
        else:
            append_text(out, value)


def _macro_noformat(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    attrib = {"class": "noformat nopanel" if macro.flag("nopanel") else "noformat"}
    pre = _make(out, "pre", attrib)
    pre.text = macro.plain_body if macro.plain_body is not None else _text_of(macro.rich_body)


# The icon Confluence shows at the top left of each kind of panel, drawn inline (the preview
# fetches nothing): (shape in the panel's colour, mark drawn over it in white). The attribute is
# spelt "viewbox" as HTML parsers give it back; in an <svg> the browser reads it as viewBox.
_PANEL_ICON_SHAPES = {
    "info": ('<circle cx="12" cy="12" r="10"/>', '<path d="M11 10.5h2v6.5h-2zM11 7h2v2h-2z"/>'),
    "note": ('<rect x="3" y="2" width="18" height="20" rx="2"/>', '<path d="M7 7h10v2H7zM7 11h10v2H7zM7 15h6v2H7z"/>'),
    "success": ('<circle cx="12" cy="12" r="10"/>',
                '<path d="M7 12.5l3.2 3.2L17 9" fill="none" stroke="#fff" stroke-width="2.2"/>'),
    "warning": ('<path d="M12 2.5 23 21.5H1z"/>', '<path d="M11 9h2v6h-2zM11 16.5h2v2h-2z"/>'),
    "error": ('<circle cx="12" cy="12" r="10"/>',
              '<path d="M8.5 8.5l7 7M15.5 8.5l-7 7" fill="none" stroke="#fff" stroke-width="2.2"/>'),
}
_PANEL_ICON_SVG = {
    kind: etree.fromstring(f'<svg viewbox="0 0 24 24" width="20" height="20"><g fill="currentColor">{shape}</g>'
                           f'<g fill="#fff">{mark}</g></svg>')
    for kind, (shape, mark) in _PANEL_ICON_SHAPES.items()
}
# Cloud shows the classic macros as its panel types: tip is success, note is warning, warning is error.
_MACRO_PANEL_ICONS = {"info": "info", "tip": "success", "note": "warning", "warning": "error"}


def _panel_icon(box: etree._Element, icon: str) -> None:
    """The type's drawn icon, or the emoji a custom panel chose (its ``panelIconText``)."""
    if icon in _PANEL_ICON_SVG:
        drawn = copy.deepcopy(_PANEL_ICON_SVG[icon])
        drawn.set("class", f"panel-icon panel-icon-{icon}")
        drawn.set("aria-hidden", "true")
        box.append(drawn)
    else:
        _make(box, "span", {"class": "panel-icon panel-icon-emoji", "aria-hidden": "true"}).text = icon


def _panel(
    out: etree._Element,
    classes: str,
    title: str,
    body: etree._Element | None,
    ctx: _Context,
    style: str | None = None,
    title_style: str | None = None,
    icon: str | None = None,
) -> etree._Element:
    box = _make(out, "div", {"class": f"panel {classes}"})
    if style:
        box.set("style", style)
    if icon:
        _panel_icon(box, icon)
    if title:
        heading = _make(box, "div", {"class": "panel-title"})
        heading.text = title
        if title_style:
            heading.set("style", title_style)
    inner = _make(box, "div", {"class": "panel-body"})
    if body is not None:
        _render_children(body, inner, ctx)
    return box


def _macro_admonition(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    classes = constructs.PANEL_CLASSES[macro.name.lower()]
    icon: str | None = _MACRO_PANEL_ICONS[macro.name.lower()]
    if macro.param("icon").strip().lower() == "false":
        classes += " panel-no-icon"
        icon = None
    _panel(out, classes, macro.param("title").strip(), macro.rich_body, ctx, icon=icon)


def _macro_panel(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    styles: list[str] = []
    title_styles: list[str] = []
    for param, prop, target in (
        ("bgColor", "background-color", styles),
        ("borderColor", "border-color", styles),
        ("titleBGColor", "background-color", title_styles),
        ("titleColor", "color", title_styles),
    ):
        colour = _safe_colour(macro.param(param))
        if colour:
            target.append(f"{prop}: {colour}")
    border = macro.param("borderStyle").strip().lower()
    if border in _BORDER_STYLES:
        styles.append(f"border-style: {border}")
    width = macro.param("borderWidth").strip().removesuffix("px")
    if re.fullmatch(r"\d{1,2}", width):
        styles.append(f"border-width: {width}px")
    _panel(
        out,
        "panel-generic",
        macro.param("title").strip(),
        macro.rich_body,
        ctx,
        "; ".join(styles) or None,
        "; ".join(title_styles) or None,
        icon=macro.param("panelIconText").strip()[:8] or None,
    )


def _macro_expand(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    details = _make(out, "details", {"class": "expand"})
    summary = _make(details, "summary", {"class": "expand-title"})
    summary.text = macro.param("title").strip() or "Click here to expand..."
    body = _make(details, "div", {"class": "expand-body"})
    if macro.rich_body is not None:
        _render_children(macro.rich_body, body, ctx)


def _macro_status(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    colour = macro.param("colour").strip().lower() or macro.param("color").strip().lower()
    if colour not in _STATUS_COLOURS:
        colour = "grey"
    classes = f"status status-{colour}" + (" status-subtle" if macro.flag("subtle") else "")
    title = macro.param("title").strip()
    _make(out, "span", {"class": classes}).text = title or colour.upper()


def _macro_anchor(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    name = macro.param("").strip() or next((v.strip() for v in macro.params.values() if v.strip()), "")
    if name:
        _make(out, "a", {"id": name})


def _macro_toc(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    # Filled in once the whole page is rendered and every heading has its id.
    ctx.tocs.append((_make(out, "nav", {"class": "toc"}), macro))


def _macro_jira(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    key = macro.param("key").strip()
    if not key:
        _macro_unknown(macro, out, ctx)  # a JQL table is computed by Jira
        return
    _make(out, "span", {"class": "jira-issue"}).text = key


def _macro_body_only(tag: str, classes: str) -> Callable[[_Macro, etree._Element, _Context], None]:
    def render(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
        chosen = tag
        if macro.param("atlassian-macro-output-type").strip().lower() == "inline":
            chosen = "span"
        box = _make(out, chosen, {"class": classes})
        if macro.rich_body is not None:
            _render_children(macro.rich_body, box, ctx)
        elif macro.plain_body:
            box.text = macro.plain_body

    return render


def _macro_unknown(macro: _Macro, out: etree._Element, ctx: _Context) -> None:
    """Show a macro this renderer cannot run: its name, its parameters, any body."""
    name = macro.name or "unnamed"
    classes = f"macro macro-unknown macro-{_token(name) or 'unnamed'}"
    if name.lower() in _DYNAMIC_MACROS:
        classes += " macro-dynamic"
    box = _make(out, "div", {"class": classes, "data-macro-name": name})
    _make(box, "div", {"class": "macro-name"}).text = name
    if macro.param_elements:
        listing = _make(box, "dl", {"class": "macro-parameters"})
        for key, element in macro.param_elements:
            _make(listing, "dt").text = key or "(default)"
            _render_children(element, _make(listing, "dd"), ctx)
    if macro.rich_body is not None:
        _render_children(macro.rich_body, _make(box, "div", {"class": "macro-body"}), ctx)
    elif macro.plain_body is not None:
        _make(box, "pre", {"class": "macro-body"}).text = macro.plain_body


_MACROS: dict[str, Callable[[_Macro, etree._Element, _Context], None]] = {
    "code": _macro_code,
    "noformat": _macro_noformat,
    "info": _macro_admonition,
    "tip": _macro_admonition,
    "note": _macro_admonition,
    "warning": _macro_admonition,
    "panel": _macro_panel,
    "expand": _macro_expand,
    "status": _macro_status,
    "anchor": _macro_anchor,
    "toc": _macro_toc,
    "jira": _macro_jira,
    "excerpt": _macro_body_only("div", "excerpt"),
    "details": _macro_body_only("div", "page-properties"),
    "toc-zone": _macro_body_only("div", "toc-zone"),
    "section": _macro_body_only("div", "columns"),
    "column": _macro_body_only("div", "column"),
}


# ---------------------------------------------------------------------------- ADF (Cloud)


def _adf_attributes(node: etree._Element) -> dict[str, str]:
    return {
        (child.get("key") or "").lower(): _text_of(child).strip()
        for child in node
        if local_name(child) == "ac:adf-attribute"
    }


def _render_adf_extension(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    node = _child(element, "ac:adf-node")
    fallback = _child(element, "ac:adf-fallback")
    if node is not None and _render_adf_node(node, out, ctx):
        return
    if fallback is not None:
        box = _make(out, "div", {"class": "adf-fallback"})
        _render_children(fallback, box, ctx)
    else:
        _render_children(element, out, ctx)  # the node shows as an unknown-node box


def _render_bare_adf_node(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    if not _render_adf_node(element, out, ctx):
        _adf_unknown(element, out, ctx)


def _render_adf_node(node: etree._Element, out: etree._Element, ctx: _Context) -> bool:
    """Render an ADF node this renderer understands; False if it does not understand it."""
    kind = (node.get("type") or "").strip().lower()
    attrs = _adf_attributes(node)
    if kind == "panel":
        panel_type = attrs.get("panel-type", "info").lower()
        classes = _ADF_PANELS.get(panel_type, "panel-generic")
        classes += f" panel-adf-{_token(panel_type) or 'info'}"
        colour = _safe_colour(attrs.get("panel-color", "")) if panel_type == "custom" else None
        style = f"background-color: {colour}" if colour else None
        # The node's children: ac:adf-attribute shows nothing, ac:adf-content unwraps.
        icon = panel_type if panel_type in _PANEL_ICON_SVG else attrs.get("panel-icon-text", "")[:8] or None
        _panel(out, classes, "", node, ctx, style, icon=icon)
        return True
    if kind == "decision-list":
        listing = _make(out, "ul", {"class": "decision-list"})
        for item in _adf_items(node):
            _render_decision(item, listing, ctx)
        return True
    if kind == "decision-item":
        _render_decision(node, _make(out, "ul", {"class": "decision-list"}), ctx)
        return True
    return False


def _adf_items(node: etree._Element) -> list[etree._Element]:
    """The decision items of a list, whether they sit in the node or its ac:adf-content."""
    items: list[etree._Element] = []
    for child in node:
        name = local_name(child)
        if name == "ac:adf-node":
            items.append(child)
        elif name == "ac:adf-content":
            items.extend(grand for grand in child if local_name(grand) == "ac:adf-node")
    return items


def _render_decision(item: etree._Element, listing: etree._Element, ctx: _Context) -> None:
    decided = _adf_attributes(item).get("state", "").upper() == "DECIDED"
    li = _make(listing, "li", {"class": "decision decision-decided" if decided else "decision decision-undecided"})
    if decided:
        icon = _make(li, "span", {"class": "decision-icon"})
        icon.text = "✓"
        icon.tail = " "
    _render_children(item, li, ctx)


def _adf_unknown(node: etree._Element, out: etree._Element, ctx: _Context) -> None:
    kind = node.get("type") or "unknown"
    box = _make(out, "div", {"class": "macro macro-unknown adf-node", "data-adf-type": kind})
    _make(box, "div", {"class": "macro-name"}).text = kind
    _render_children(node, _make(box, "div", {"class": "macro-body"}), ctx)


# ---------------------------------------------------------------------------- tasks


def _render_task_list(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    listing = _make(out, "ul", {"class": "task-list"})
    last: etree._Element | None = None
    ctx.depth += 1
    try:
        if element.text and element.text.strip():
            last = _make(listing, "li", {"class": "task-other"})
            append_text(last, element.text)
        for child in element:
            if not isinstance(child.tag, str):
                pass
            elif ctx.depth > _MAX_DEPTH:
                last = last if last is not None else _make(listing, "li")
                append_text(last, _text_of(child))
            elif local_name(child) == "ac:task":
                last = _render_task_item(child, listing, ctx)
            else:
                # A nested task list (or anything else) belongs to the item before it.
                if last is None:
                    last = _make(listing, "li", {"class": "task-other"})
                name = local_name(child).lower()
                _HANDLERS.get(name, _render_unknown_element)(child, last, ctx)
            if child.tail and child.tail.strip():
                last = last if last is not None else _make(listing, "li", {"class": "task-other"})
                append_text(last, child.tail)
    finally:
        ctx.depth -= 1


def _render_task(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    # An ac:task outside a task list still shows as a task.
    _render_task_item(element, _make(out, "ul", {"class": "task-list"}), ctx)


def _render_task_item(task: etree._Element, listing: etree._Element, ctx: _Context) -> etree._Element:
    complete = constructs.TASK.is_done(_text_of(_child(task, "ac:task-status")))
    li = _make(listing, "li", {"class": "task task-complete" if complete else "task task-incomplete"})
    box = _make(li, "input", {"type": "checkbox", "disabled": "disabled"})
    if complete:
        box.set("checked", "checked")
    box.tail = " "
    body = _make(li, "span", {"class": "task-body"})
    append_text(body, task.text)
    for child in task:
        name = local_name(child)
        if name == "ac:task-body":
            _render_children(child, body, ctx)
        elif name not in ("ac:task-id", "ac:task-uuid", "ac:task-status") and isinstance(child.tag, str):
            _HANDLERS.get(name.lower(), _render_unknown_element)(child, body, ctx)
        append_text(body, child.tail)
    return li


# ---------------------------------------------------------------------------- media and links


def _resolve(resolver: Callable[[str, str | None], str | None] | None, name: str, owner: str | None) -> str | None:
    if resolver is None or not name:
        return None
    return _safe_url(resolver(name, owner))


def _render_image(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    caption = _child(element, "ac:caption")
    holder = out
    if caption is not None:
        holder = _make(out, "figure", {"class": "image-figure"})
    attrib: dict[str, str] = {"class": "confluence-image"}
    align = _token(attribute(element, "ac:align") or attribute(element, "ac:layout") or "")
    if align:
        attrib["class"] += f" image-align-{align}"
    title = attribute(element, constructs.IMAGE.title)
    if title:
        attrib["title"] = title
    for name, storage_name in (("width", constructs.IMAGE.width), ("height", constructs.IMAGE.height)):
        number = _positive_int(attribute(element, storage_name))
        if number:
            attrib[name] = number
    alt = attribute(element, constructs.IMAGE.alt)
    target = _child(element, "ri:url")
    attachment = _child(element, "ri:attachment")
    if target is not None:
        src = _safe_url(attribute(target, "ri:value"))
        attrib["alt"] = alt if alt is not None else ""
        if src:
            attrib["src"] = src
        else:
            attrib["class"] += " image-blocked"
        _make(holder, "img", attrib)
    elif attachment is not None:
        filename = attribute(attachment, "ri:filename") or ""
        owner_page = _child(attachment, "ri:page")
        owner = attribute(owner_page, "ri:content-title") if owner_page is not None else None
        src = _resolve(ctx.resolve_attachment, filename, owner)
        attrib["alt"] = alt if alt is not None else ""
        if src:
            attrib["src"] = src
            _make(holder, "img", attrib)
        else:
            missing = _make(holder, "span", {"class": "image-missing"})
            attrib["data-missing-attachment"] = filename
            _make(missing, "img", attrib)
            _make(missing, "span", {"class": "missing-attachment-name"}).text = filename
    else:
        attrib["alt"] = alt or ""
        attrib["class"] += " image-blocked"
        _make(holder, "img", attrib)
    if caption is not None:
        _render_children(caption, _make(holder, "figcaption"), ctx)


def _link_body(element: etree._Element, target: etree._Element, default: str, ctx: _Context) -> None:
    """Fill a link with its rich body, else its plain body, else ``default``."""
    rich = _child(element, "ac:link-body")
    if rich is not None and (len(rich) or (rich.text or "").strip()):
        _render_children(rich, target, ctx)
        return
    plain = _text_of(_child(element, "ac:plain-text-link-body"))
    target.text = plain if plain.strip() else default


def _render_ac_link(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    anchor = attribute(element, "ac:anchor") or ""
    resource = next((c for c in element if local_name(c).startswith("ri:")), None)
    kind = local_name(resource) if resource is not None else ""
    if kind == "ri:page" and attribute(resource, "ri:content-title"):
        title = attribute(resource, "ri:content-title") or ""
        space = attribute(resource, "ri:space-key") or None
        url = _resolve(ctx.resolve_page, title, space)
        if url is None:
            _link_body(element, _unresolved(out, ctx, title, space), title, ctx)
        else:
            _link(element, out, url, anchor, title, ctx)
    elif kind == "ri:attachment":
        filename = attribute(resource, "ri:filename") or ""
        owner_page = _child(resource, "ri:page")
        owner = attribute(owner_page, "ri:content-title") if owner_page is not None else None
        url = _resolve(ctx.resolve_attachment, filename, owner)
        _link(element, out, url, "", filename, ctx)
    elif kind == "ri:url":
        value = attribute(resource, "ri:value") or ""
        _link(element, out, _safe_url(value), "", value, ctx)
    elif kind == "ri:user":
        name = (
            _text_of(_child(element, "ac:plain-text-link-body")).strip()
            or attribute(resource, "ri:username")
            or attribute(resource, "ri:account-id")
            or attribute(resource, "ri:userkey")
            or "unknown user"
        )
        _make(out, "span", {"class": "mention"}).text = name if name.startswith("@") else "@" + name
    elif resource is None or kind == "ri:page":  # a link within this page
        if anchor:
            _link_body(element, _make(out, "a", {"href": "#" + anchor}), anchor, ctx)
        else:
            _link_body(element, _make(out, "span", {"class": "link"}), "", ctx)
    else:
        if kind == "ri:blog-post":
            default = attribute(resource, "ri:content-title") or "blog post"
        elif kind == "ri:space":
            default = attribute(resource, "ri:space-key") or "space"
        elif kind == "ri:content-entity":
            default = "content " + (attribute(resource, "ri:content-id") or "")
        elif kind == "ri:shortcut":
            default = ":".join(filter(None, (attribute(resource, "ri:key"), attribute(resource, "ri:parameter"))))
        else:
            default = kind.removeprefix("ri:")
        span = _make(out, "span", {"class": f"link link-{_token(kind.removeprefix('ri:'))}"})
        _link_body(element, span, default.strip() or kind, ctx)


def _unresolved(out: etree._Element, ctx: _Context, name: str, space: str | None) -> etree._Element:
    """A link to a page that does not exist: red and dashed, to a "not found" page or nowhere."""
    target = _make(out, "a", {"class": "unresolved"})
    stub = _resolve(ctx.missing_page, name, space)
    if stub:
        target.set("href", stub)
    return target


def _link(
    element: etree._Element, out: etree._Element, url: str | None, anchor: str, default: str, ctx: _Context
) -> None:
    if url is None:
        target = _make(out, "a", {"class": "unresolved"})  # a missing attachment, say
    else:
        target = _make(out, "a", {"href": f"{url}#{anchor}" if anchor else url})
    _link_body(element, target, default, ctx)


def _render_emoticon(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    name = (attribute(element, "ac:name") or "").strip()
    shortname = (attribute(element, "ac:emoji-shortname") or "").strip()
    text = emoticon_text(name, attribute(element, "ac:emoji-fallback") or "", shortname,
                         attribute(element, "ac:emoji-id") or "")
    classes = "emoticon" + (f" emoticon-{_token(name)}" if _token(name) else "")
    span = _make(out, "span", {"class": classes})
    span.text = text
    if name or shortname:
        span.set("title", name or shortname)


def _render_placeholder(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    _render_children(element, _make(out, "span", {"class": "placeholder"}), ctx)


def _render_layout(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    name = local_name(element)
    if name == "ac:layout":
        classes = "layout"
    elif name == "ac:layout-section":
        section_type = _token(attribute(element, "ac:type") or "") or "single"
        classes = f"layout-section layout-{section_type}"
        breakout = _token(attribute(element, "ac:breakout-mode") or "")
        if breakout:
            classes += f" breakout-{breakout}"
    else:
        classes = "layout-cell"
    _render_children(element, _make(out, "div", {"class": classes}), ctx)


def _ignore(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    """Metadata that Confluence does not show (task ids, ADF attributes)."""


def _unwrap(element: etree._Element, out: etree._Element, ctx: _Context) -> None:
    _render_children(element, out, ctx)


_HANDLERS: dict[str, Callable[[etree._Element, etree._Element, _Context], None]] = {
    **{tag: _render_void for tag in _VOID},
    "li": _render_li,
    "ul": _render_list,
    "ol": _render_list,
    "a": _render_link_element,
    "time": _render_time,
    **{
        tag: _render_table_part
        for tag in ("table", "caption", "colgroup", "thead", "tbody", "tfoot", "tr", "td", "th")
    },
    "ac:structured-macro": _render_macro,
    "ac:macro": _render_macro,
    "ac:adf-extension": _render_adf_extension,
    "ac:adf-node": _render_bare_adf_node,
    "ac:adf-attribute": _ignore,
    "ac:task-list": _render_task_list,
    "ac:task": _render_task,
    "ac:task-id": _ignore,
    "ac:task-uuid": _ignore,
    "ac:task-status": _ignore,
    "ac:image": _render_image,
    "ac:link": _render_ac_link,
    "ac:emoticon": _render_emoticon,
    "ac:placeholder": _render_placeholder,
    "ac:inline-comment-marker": _unwrap,
    "ac:layout": _render_layout,
    "ac:layout-section": _render_layout,
    "ac:layout-cell": _render_layout,
}


# ---------------------------------------------------------------------------- finishing


def _finish(root: etree._Element, ctx: _Context) -> None:
    headings = _assign_heading_ids(root)
    for nav, macro in ctx.tocs:
        _fill_toc(nav, macro, headings)
    for pre in root.iter("pre"):
        # HTML parsers drop one newline right after <pre>; double it so none is lost.
        if pre.text and pre.text.startswith("\n"):
            pre.text = "\n" + pre.text


def _assign_heading_ids(root: etree._Element) -> list[tuple[int, str, str]]:
    """Give every heading its anchor as id; return (level, text, id) in page order."""
    names = AnchorCounter()
    found: list[tuple[int, str, str]] = []
    for heading in root.iter(*_HEADINGS):
        text = "".join(heading.itertext()).strip()
        if not heading_anchor(text):
            continue
        unique = names.anchor(text)
        heading.set("id", unique)
        found.append((int(heading.tag[1]), re.sub(r"\s+", " ", text), unique))
    return found


def _level(value: str, default: int) -> int:
    value = value.strip()
    return min(max(int(value), 1), 7) if re.fullmatch(r"\d{1,3}", value) else default


def _fill_toc(nav: etree._Element, macro: _Macro, headings: list[tuple[int, str, str]]) -> None:
    low = _level(macro.param("minLevel"), 1)
    high = _level(macro.param("maxLevel"), 7)
    entries = [entry for entry in headings if low <= entry[0] <= high]
    if not entries:
        return
    top = _make(nav, "ul")
    if macro.param("type").strip().lower() == "flat":
        _add_class(nav, "toc-flat")
        for _, text, anchor in entries:
            _make(_make(top, "li"), "a", {"href": "#" + anchor}).text = text
        return
    base = min(level for level, _, _ in entries)
    stack: list[tuple[int, etree._Element]] = [(base, top)]
    for level, text, anchor in entries:
        while len(stack) > 1 and level < stack[-1][0]:
            stack.pop()
        while level > stack[-1][0]:
            parent = stack[-1][1]
            holder = parent[-1] if len(parent) else _make(parent, "li")
            stack.append((stack[-1][0] + 1, _make(holder, "ul")))
        _make(_make(stack[-1][1], "li"), "a", {"href": "#" + anchor}).text = text


# ---------------------------------------------------------------------------- style

# The stylesheet the fragment is shown with (package data, so it is edited as CSS).
VIEW_CSS = (resources.files("mdsync.preview") / "view.css").read_text(encoding="utf-8")

