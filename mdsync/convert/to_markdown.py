"""Confluence storage format -> Markdown: degrade, never delete; carry what Markdown cannot say.

The storage is checked and parsed safely first (``storage_xml.parse_storage``: malformed
markup is one clear error with its position, DOCTYPE and ENTITY declarations are refused),
then read by a markdownify converter whose conversions follow ``constructs.py``, the table
the other direction writes from. Whatever has no faithful Markdown form is written as
readable Markdown inside a carried region (``carry.py``), so pushing the file back restores
the original storage exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape as xml_escape
from dataclasses import dataclass, field
from typing import Any

from markdownify import MarkdownConverter

from mdsync.convert import carry, constructs
from mdsync.convert.anchors import AnchorCounter, SlugCounter
from mdsync.convert.nodes import Node as Tag
from mdsync.convert.nodes import Tree
from mdsync.convert.markdown_text import (
    code_fence,
    code_span,
    escape_heading,
    escape_inline,
    escape_line_starts,
    link_destination,
    link_title,
)
from mdsync.convert.storage_xml import AC, StorageParseError, parse_storage, serialize_element

PageResolver = Callable[[str, "str | None", "str | None"], "str | None"]
AttachmentResolver = Callable[[str, "str | None"], "str | None"]
UserResolver = Callable[[str], "str | None"]

_BLOCK_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "tbody", "thead", "tfoot",
               "tr", "td", "th", "blockquote", "hr", "pre", "div", "ac:structured-macro", "ac:macro",
               "ac:rich-text-body", "ac:task-list", "ac:task", "ac:layout", "ac:layout-section",
               "ac:layout-cell", "ac:adf-extension", "ac:adf-node", "ac:adf-content", "colgroup", "col",
               "ac:parameter", "ac:plain-text-body", "ac:default-parameter", "ac:caption", "section"}
_INLINE_MACROS = {"status", "anchor", "jira", "emoticon", "mention"}
_SPACE_RUN = re.compile(r"[ \t\r\f\v]+")
_HARD_BREAK = "\x00hard-break\x00\n"  # a stand-in until the paragraph's text is final
_ODD_BACKSLASH_AT_EOL = re.compile(r"((?<!\\)(?:\\\\)*)\\$", re.MULTILINE)
_NEWLINE_SPACE = re.compile(r"[ \t]*\n[ \t\n]*")
_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "s": "~~", "del": "~~", "strike": "~~"}
_HTML_MARKS = {"u": "u", "sub": "sub", "sup": "sup", "small": "small", "big": "big", "ins": "u"}


@dataclass(frozen=True)
class ConvertedBack:
    """A page converted to Markdown."""

    markdown: str
    attachments: tuple[str, ...]
    links: tuple[tuple[str, str | None], ...]
    carried: tuple[str, ...]
    losses: tuple[str, ...]


@dataclass
class _State:
    attachments: list[str] = field(default_factory=list)
    links: list[tuple[str, str | None]] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    headings: dict[str, str] = field(default_factory=dict)  # Confluence anchor -> GitHub slug
    slugs: set[str] = field(default_factory=set)  # every heading's GitHub slug
    footnotes: dict[str, str] = field(default_factory=dict)  # anchor name -> label


class StorageConverter(MarkdownConverter):
    """markdownify, taught Confluence's storage format and mdsync's round-trip rules."""

    class Options(MarkdownConverter.DefaultOptions):
        bullets = "-"
        heading_style = "atx"
        strong_em_symbol = "*"
        newline_style = "backslash"
        escape_asterisks = False
        escape_underscores = False
        escape_misc = False

    def __init__(self, *, resolve_page: PageResolver | None = None,
                 resolve_attachment: AttachmentResolver | None = None,
                 resolve_user: UserResolver | None = None) -> None:
        super().__init__()
        self.resolve_page = resolve_page
        self.resolve_attachment = resolve_attachment
        self.resolve_user = resolve_user
        self.state = _State()
        self._placeholders = 0
        self._in_cell = 0
        self._skip: set[Tag] = set()  # elements written by their parent's own rule

    # -- entry ------------------------------------------------------------------------------

    def convert_storage(self, storage: str) -> str:
        # The strict, safe parse (raises StorageParseError), read through a markdownify-shaped view.
        root = Tree().node(parse_storage(storage))
        self.state = _State()
        self._placeholders = 0
        self._in_cell = 0
        self._skip = set()
        self._carries: list[tuple[str, str, bool]] = []  # (placeholder, readable, inline)
        self._index_headings(root)
        markdown = _tidy(self.blocks(root, frozenset()).replace(_HARD_BREAK, "\\\n"))
        return self._seal(markdown) if self._carries else markdown

    def _seal(self, markdown: str) -> str:
        """Fill in each carried region's fingerprint.

        A region's readable part is parsed as part of its outermost carried ancestor (written
        last), which also gives the fingerprints of the regions nested in it. All outermost
        parts are parsed in one go (block parts, then inline parts), copies taken out first:
        fingerprints ignore them, and parsing is the costly step.
        """
        from mdsync.convert.to_storage import make_parser

        covered: set[str] = set()
        outermost: list[tuple[str, str, bool]] = []
        for placeholder, readable, inline in reversed(self._carries):
            if placeholder in covered:
                continue
            outermost.append((placeholder, readable, inline))
            covered.update(first or second for first, second in _PLACEHOLDERS.findall(readable))
        parser = make_parser()
        sums: dict[str, str] = {}
        blocks = [(placeholder, readable) for placeholder, readable, inline in outermost if not inline]
        if blocks:
            text = f"\n\n{_SEAL_BLOCK}\n\n".join(_sealable(readable) for _, readable in blocks)
            for (placeholder, _), tokens in zip(blocks, _split_tokens(parser.parse(text))):
                sums[placeholder] = carry.fingerprint(tokens)
                carry.nested_sums(tokens, sums)
        inlines = [(placeholder, readable) for placeholder, readable, inline in outermost if inline]
        if inlines:
            parsed = parser.parseInline(_SEAL_INLINE.join(_sealable(readable) for _, readable in inlines))
            children = parsed[0].children or [] if parsed else []
            for (placeholder, _), tokens in zip(inlines, _split_inline(children)):
                sums[placeholder] = carry.fingerprint(tokens)
                carry.nested_sums([_Holder(tokens)], sums)
        return carry.fill_sums(markdown, sums)

    # -- traversal --------------------------------------------------------------------------

    @staticmethod
    def qname(node: Tag) -> str:
        return node.qname

    def process_tag(self, node: Tag, parent_tags: Any = None) -> str:
        context = frozenset(parent_tags or ())
        name = self.qname(node)
        handler = getattr(self, "tag_" + re.sub(r"[^A-Za-z0-9]", "_", name), None)
        if handler is not None:
            return handler(node, context)
        if name in _BLOCK_TAGS or name.startswith("ac:"):
            return self.unknown_element(node, context)
        return self.inline(node, context)

    def blocks(self, node: Tag, context: frozenset[str]) -> str:
        """The children of a block container: blocks, and runs of inline content as paragraphs."""
        parts: list[str] = []
        run: list[Any] = []

        # Markdown makes loose text a paragraph except in list items, cells and tasks holding
        # only text; loose text elsewhere is carried so that it comes back unwrapped.
        holds_text = self.qname(node) in ("li", "td", "th", "ac:task-body")
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
            if isinstance(child, Tag) and self.is_block(child):
                flush()
                bare = True  # Markdown cannot put loose text after a block in the same item
                name = self.qname(child)
                # Two lists in a row would merge into one; a different marker keeps them apart.
                alternate = {"alternate"} if name == previous and name in ("ul", "ol", "ac:task-list") else set()
                rendered = self.process_tag(child, context | alternate)
                if rendered.strip():
                    parts.append(rendered.strip("\n"))
                    previous = name if not alternate else ""
            else:
                if isinstance(child, Tag) or str(child).strip():
                    previous = ""
                run.append(child)
        flush()
        return "\n\n".join(parts)

    def is_block(self, node: Tag) -> bool:
        name = self.qname(node)
        if name == "ac:structured-macro":
            return _macro_name(node) not in _INLINE_MACROS
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
        text = "".join(self.inline_piece(node, context) for node in nodes)
        # Markdown trims a paragraph's edges, Unicode spaces included; so does the writer.
        if "\n" in text:
            text = _NEWLINE_SPACE.sub("\n", text)
        text = text.strip()
        # A backslash from the text that ends up last on a line would be read as a line
        # break (or shown only sometimes): double it. Real line breaks are written after.
        if "\\" in text:
            text = _ODD_BACKSLASH_AT_EOL.sub(r"\1\\\\", text)
        return escape_line_starts(text).replace(_HARD_BREAK, "\\\n")

    def inline_piece(self, node: Any, context: frozenset[str]) -> str:
        if isinstance(node, Tag):
            return self.process_tag(node, context)
        return self.text(node, context)

    def inline(self, node: Tag, context: frozenset[str]) -> str:
        """Children of an inline element, as inline Markdown."""
        return "".join(self.inline_piece(child, context) for child in node.children
                       if not (isinstance(child, Tag) and child in self._skip))

    def text(self, text: str, context: frozenset[str]) -> str:
        if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
            text = _SPACE_RUN.sub(" ", text)
        if "code" in context:
            return text
        text = escape_inline(text)
        # "!" before a link would make it an image.
        return text[:-1] + "\\!" if text.endswith("!") and not text.endswith("\\!") else text

    # -- carrying -----------------------------------------------------------------------------

    def storage_of(self, node: Tag) -> str:
        """The page's own storage for an element (attribute order, CDATA and all)."""
        return serialize_element(node.element)

    def storage_of_run(self, nodes: list[Any]) -> str:
        return "".join(self.storage_of(node) if isinstance(node, Tag) else xml_escape(str(node)) for node in nodes)

    def placeholder(self) -> str:
        """A unique stand-in for a fingerprint, filled in once the document is written."""
        self._placeholders += 1
        return f"{self._placeholders:012x}"

    def carry_block(self, node: Tag, readable: str, label: str) -> str:
        readable = readable.strip("\n")
        if self._in_cell:
            return self.carry_inline(node, re.sub(r"\n\n+", "<br>", readable).replace("\n", " "), label)
        checksum = self.placeholder()
        self._carries.append((checksum, readable, False))
        self.state.carried.append(label)
        marker = carry.begin_marker(label, checksum, self.storage_of(node))
        body = f"\n\n{readable}\n\n" if readable else "\n"
        return f"{marker}{body}{carry.END}"

    def carry_run(self, nodes: list[Any], readable: str) -> str:
        """Inline content standing loose among blocks (no paragraph around it)."""
        checksum = self.placeholder()
        self._carries.append((checksum, readable, False))
        self.state.carried.append("loose text")
        marker = carry.begin_marker("loose text", checksum, self.storage_of_run(nodes))
        return f"{marker}\n\n{readable}\n\n{carry.END}"

    def carry_inline(self, node: Tag, readable: str, label: str) -> str:
        checksum = self.placeholder()
        self._carries.append((checksum, readable, True))
        self.state.carried.append(label)
        return f"{carry.inline_open(label, checksum, self.storage_of(node))}{readable}{carry.INLINE_CLOSE}"

    def unknown_element(self, node: Tag, context: frozenset[str]) -> str:
        """An element nobody mapped: its content stays readable, the element is carried."""
        name = self.qname(node)
        if self.is_block(node) or name.startswith("ac:"):
            if "inline" in context or "run" in context:
                return self.carry_inline(node, self.inline(node, context), name)
            return self.carry_block(node, self.blocks(node, context), name)
        return self.inline(node, context)

    # -- paragraphs and headings --------------------------------------------------------------

    def tag_p(self, node: Tag, context: frozenset[str]) -> str:
        if _attributes(node):
            if "inline" in context:
                return self.carry_inline(node, self.inline_run(node.children, context), "paragraph")
            return self.carry_block(node, self.inline_run(node.children, context), "styled paragraph")
        text = self.inline_run(node.children, context)
        if "inline" in context:
            return text.replace("\n", " ") + "<br>" if text else ""
        return text

    def tag_h1(self, node: Tag, context: frozenset[str]) -> str:
        return self.heading(node, context, int(node.name[1]))

    tag_h2 = tag_h3 = tag_h4 = tag_h5 = tag_h6 = tag_h1

    def heading(self, node: Tag, context: frozenset[str], level: int) -> str:
        inner = context | {"heading"}
        text = self.inline(node, inner)
        text = _NEWLINE_SPACE.sub(" ", text).strip()
        if _attributes(node) or "\\\n" in text:
            return self.carry_block(node, f"{'#' * level} {escape_heading(text)}", "styled heading")
        if "inline" in context:
            return f"<strong>{text}</strong>"
        if not text:
            return self.carry_block(node, "", "empty heading")
        line = f"{'#' * level} {text}"
        if text.endswith("#"):
            line = line[:-1] + "\\#"
        return line

    def tag_br(self, node: Tag, context: frozenset[str]) -> str:
        if "heading" in context or "inline" in context or "cell" in context:
            return "<br>"
        return _HARD_BREAK

    def tag_blockquote(self, node: Tag, context: frozenset[str]) -> str:
        body = self.blocks(node, context | {"quote"})
        if "inline" in context:
            return self.carry_inline(node, body.replace("\n", " "), "quote")
        return _prefix_lines(body, "> ", ">")

    def tag_pre(self, node: Tag, context: frozenset[str]) -> str:
        code = node.get_text()
        fence = code_fence(code)
        return self.carry_block(node, f"{fence}\n{code}\n{fence}", "preformatted text")

    # -- marks ----------------------------------------------------------------------------------

    def mark(self, node: Tag, context: frozenset[str], symbol: str, html: str) -> str:
        nested = f"mark:{html}" in context  # the same mark inside itself: "**" would close it
        inner = self.inline(node, context | {f"mark:{html}"})
        if not inner.strip():
            return inner
        lead, core, trail = _chomp(inner)
        before, after = _neighbours(node)
        # Delimiter runs only work where CommonMark's flanking rules let them (punctuation
        # inside against a letter outside; "_" not inside words); elsewhere the HTML tag
        # says the same thing.
        if _flanking_ok(before, core, after) and not nested:
            return f"{lead}{symbol}{core}{symbol}{trail}"
        return f"{lead}<{html}>{core}</{html}>{trail}"

    def tag_strong(self, node: Tag, context: frozenset[str]) -> str:
        return self.mark(node, context, "**", "strong")

    tag_b = tag_strong

    def tag_em(self, node: Tag, context: frozenset[str]) -> str:
        return self.mark(node, context, "*", "em")

    tag_i = tag_em

    def tag_s(self, node: Tag, context: frozenset[str]) -> str:
        return self.mark(node, context, "~~", "s")

    tag_del = tag_strike = tag_s

    def html_mark(self, node: Tag, context: frozenset[str]) -> str:
        tag = _HTML_MARKS[node.name]
        if tag == "sup":
            label = self._footnote_reference(node)
            if label is not None:
                return f"[^{label}]"
        inner = self.inline(node, context)
        return f"<{tag}>{inner}</{tag}>" if inner else ""

    tag_u = tag_sub = tag_sup = tag_small = tag_big = tag_ins = html_mark

    def tag_code(self, node: Tag, context: frozenset[str]) -> str:
        if any(isinstance(child, Tag) for child in node.children):
            return self.carry_inline(node, code_span(node.get_text()), "styled code")
        code = node.get_text()
        return code_span(code) if code else ""

    tag_tt = tag_code

    def tag_span(self, node: Tag, context: frozenset[str]) -> str:
        style = " ".join(node.get("style", "").split())
        inner = self.inline(node, context)
        if not style:
            return inner
        if style.rstrip(";") == constructs.MARK_HIGHLIGHT_STYLE.rstrip(";"):
            return f"<mark>{inner}</mark>" if inner else ""
        if "line-through" in style and style.replace(" ", "").rstrip(";") == "text-decoration:line-through":
            return self.carry_inline(node, f"~~{inner}~~" if inner.strip() else inner, "struck text")
        return self.carry_inline(node, inner, "styled text")

    # -- links and images -----------------------------------------------------------------------

    def tag_a(self, node: Tag, context: frozenset[str]) -> str:
        href = node.get("href")
        inner = self.inline(node, context | {"link"})
        if href is None or "link" in context:
            return inner
        extra = _attributes(node) - {"href", "title"}
        title = node.get("title")
        if not inner and not title:
            return f"[]({link_destination(href)})"
        if href.startswith("#"):
            # Markdown's "#x" links become Confluence anchor links; a plain one is kept as it is.
            return self.carry_inline(node, f"[{inner}]({link_destination(href)})", "link")
        if inner == escape_inline(href) and not title and re.match(r"^[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*$", href):
            rendered = f"<{href}>"
        else:
            rendered = f"[{inner}]({link_destination(href)}{' ' + link_title(title) if title else ''})"
        if extra:
            return self.carry_inline(node, rendered, "link")
        return rendered

    def tag_ac_link(self, node: Tag, context: frozenset[str]) -> str:
        anchor = node.get("ac:anchor")
        page = _child(node, "page")
        attachment = _child(node, "attachment")
        body = _child(node, "plain-text-link-body")
        rich = _child(node, "link-body")
        if body is not None:
            text = escape_inline(body.get_text())
        elif rich is not None:
            text = self.inline(rich, context | {"link"})
        else:
            text = ""
        extra = _attributes(node) - {"ac:anchor"}
        if page is not None:
            title = page.get("ri:content-title", "")
            space = page.get("ri:space-key")
            self.state.links.append((title, space))
            target = self.resolve_page(title, space, anchor) if self.resolve_page else None
            shown = text or escape_inline(title)
            if target and not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", target) and not extra and text:
                return f"[{shown}]({link_destination(target)})"
            readable = f"[{shown}]({link_destination(target)})" if target else shown
            return self.carry_inline(node, readable, "page link")
        if attachment is not None:
            filename = attachment.get("ri:filename", "")
            owner = _child(attachment, "page")
            owner_title = owner.get("ri:content-title") if owner is not None else None
            href = self._attachment_href(filename, owner_title)
            shown = text or escape_inline(filename)
            if owner is None and not extra and text and not anchor:
                return f"[{shown}]({link_destination(href)})"
            return self.carry_inline(node, f"[{shown}]({link_destination(href)})", "file link")
        if anchor is not None and len(_elements(node)) <= 1 and not extra and text:
            slug = self.state.headings.get(anchor)
            if slug is None and anchor.lower() not in self.state.slugs:
                slug = anchor  # an anchor macro's name: written as it is, read back as it is
            if slug is not None:
                return f"[{text}](#{link_destination(slug)})"
            return self.carry_inline(node, f"[{text}](#{link_destination(anchor)})", "anchor link")
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
        alt = node.get("ac:alt") or ""
        title = node.get("ac:title")
        width = node.get("ac:width")
        height = node.get("ac:height")
        attachment = _child(node, "attachment")
        url = _child(node, "url")
        if attachment is not None:
            owner = _child(attachment, "page")
            src = self._attachment_href(attachment.get("ri:filename", ""),
                                        owner.get("ri:content-title") if owner is not None else None)
            exotic = owner is not None
        elif url is not None:
            src = url.get("ri:value", "")
            exotic = False
        else:
            return self.carry_inline(node, escape_inline(alt), "image")
        rendered = f"![{escape_inline(alt)}]({link_destination(src)}{' ' + link_title(title) if title else ''})"
        if width and width.isdigit():
            rendered += f"{{width={width}}}"
        known = {"ac:alt", "ac:title", "ac:width"}
        caption = _child(node, "caption")
        if caption is not None:
            # The caption is shown under the image; its text stays readable beside it.
            rendered += " " + self.inline_run(caption.children, context).replace("\n", " ")
        if exotic or _attributes(node) - known or height or caption is not None:
            return self.carry_inline(node, rendered.strip(), "image")
        return rendered

    # -- code and macros --------------------------------------------------------------------------

    def tag_ac_structured_macro(self, node: Tag, context: frozenset[str]) -> str:
        name = _macro_name(node)
        handler = getattr(self, "macro_" + re.sub(r"[^a-z0-9]", "_", name.lower()), None)
        if handler is not None:
            return handler(node, context, _parameters(node))
        return self.unknown_macro(node, context, name)

    def tag_ac_macro(self, node: Tag, context: frozenset[str]) -> str:
        return self.unknown_macro(node, context, node.get("ac:name", "macro"))

    def unknown_macro(self, node: Tag, context: frozenset[str], name: str) -> str:
        """Any macro: its body (or its plain text) stays readable; the macro is carried."""
        body = _child(node, "rich-text-body")
        plain = _child(node, "plain-text-body")
        label = f"{name} macro"
        if "inline" in context or "run" in context or not self.is_block(node):
            readable = self.inline(body, context) if body is not None else escape_inline(plain.get_text() if plain else
                                                                                        _parameter_summary(node))
            return self.carry_inline(node, readable, label)
        if body is not None:
            readable = self.blocks(body, context)
        elif plain is not None:
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
        language = constructs.markdown_language(params.get("language"))
        info = [language] if language else []
        if params.get("title"):
            info.append(f'title="{params["title"]}"')
        numbered = params.get("linenumbers", "").lower() == "true"
        first = params.get("firstline", "")
        if numbered:
            info.append(f'linenums="{first if first.isdigit() else "1"}"')
        known = {"language", "title", "linenumbers"} | ({"firstline"} if numbered and first.isdigit() else set())
        fence = code_fence(code)
        if info and not language:
            info.insert(0, "text")
        rendered = f"{fence}{' '.join(info)}\n{code}\n{fence}"
        title_ok = '"' not in params.get("title", "")
        if set(params) - known or "inline" in context or not title_ok or (language and " " in language):
            return self.carry_block(node, rendered, "code macro")
        return rendered

    def macro_noformat(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        return self.unknown_macro(node, context, "noformat")

    def panel(self, node: Tag, context: frozenset[str], params: dict[str, str], kind: str) -> str:
        body = _child(node, "rich-text-body")
        inner = self.blocks(body, context) if body is not None else ""
        title = params.get("title", "")
        extra = set(params) - {"title"}
        macro = _macro_name(node)
        if title:
            tag = constructs.MACRO_ADMONITIONS[macro]
            rendered = f'!!! {tag} "{title}"\n' + _indent(inner, "    ") if inner else f'!!! {tag} "{title}"'
            if '"' in title or "\n" in title:
                extra.add("title")
        else:
            rendered = _prefix_lines(f"[!{kind}]" + ("\n" + inner if inner else ""), "> ", ">")
        if extra or "inline" in context:
            return self.carry_block(node, rendered, f"{macro} panel")
        return rendered

    def macro_info(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        return self.panel(node, context, params, constructs.MACRO_ALERTS[_macro_name(node)])

    macro_tip = macro_note = macro_warning = macro_info

    def macro_panel(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        body = _child(node, "rich-text-body")
        inner = self.blocks(body, context) if body is not None else ""
        if params == constructs.IMPORTANT_PANEL_PARAMETERS and "inline" not in context:
            return _prefix_lines("[!IMPORTANT]" + ("\n" + inner if inner else ""), "> ", ">")
        return self.carry_block(node, inner, "panel")

    def macro_expand(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        body = _child(node, "rich-text-body")
        inner = self.blocks(body, context) if body is not None else ""
        title = params.get("title", "")
        summary = f"<summary>{_html_text(title)}</summary>\n" if title else ""
        rendered = f"<details>\n{summary}\n{inner}\n\n</details>"
        if set(params) - {"title"} or "inline" in context or not inner.strip() or _leading_space(title):
            return self.carry_block(node, rendered, "expand")
        return rendered

    def macro_toc(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        if params or "inline" in context:
            return self.carry_block(node, "[TOC]", "toc")
        return "[TOC]"

    def macro_anchor(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        return self.carry_inline(node, "", "anchor")

    def macro_status(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        title = params.get("title", "") or params.get("colour", "")
        return self.carry_inline(node, escape_inline(f"[{title.upper()}]") if title else "", "status")

    def macro_jira(self, node: Tag, context: frozenset[str], params: dict[str, str]) -> str:
        key = params.get("key")
        server = params.get("server", "Jira")
        readable = escape_inline(key) if key else escape_inline(f"[{server}: {params.get('jqlQuery', '')}]")
        if self.is_block(node) and "inline" not in context and "run" not in context and not key:
            return self.carry_block(node, readable, "jira macro")
        return self.carry_inline(node, readable, "jira issue")

    # -- lists and tasks ---------------------------------------------------------------------------

    def tag_ul(self, node: Tag, context: frozenset[str]) -> str:
        return self.listing(node, context, ordered=False)

    def tag_ol(self, node: Tag, context: frozenset[str]) -> str:
        if self._is_footnote_list(node) and "inline" not in context:
            return self.footnote_definitions(node, context)
        return self.listing(node, context, ordered=True)

    # -- footnotes: mdsync writes them as an anchored list after a rule -------------------------

    def _footnote_reference(self, sup: Tag) -> str | None:
        children = [child for child in sup.children if not (isinstance(child, str) and not child.strip())]
        if len(children) != 1 or not isinstance(children[0], Tag) or self.qname(children[0]) != "ac:link":
            return None
        link = children[0]
        anchor = link.get("ac:anchor", "")
        label = self.state.footnotes.get(anchor)
        body = _child(link, "plain-text-link-body")
        if label is None or set(link.attrs) != {"ac:anchor"} or body is None or len(_elements(link)) != 1:
            return None
        return label if re.fullmatch(r"[^\s\[\]]+", label) else None

    def _is_footnote_list(self, node: Tag) -> bool:
        previous = next((sibling for sibling in node.previous_siblings if isinstance(sibling, Tag)), None)
        items = [child for child in node.children if isinstance(child, Tag)]
        if previous is None or previous.name != "hr" or not items or _attributes(node):
            return False
        for item in items:
            first = next(iter(_elements(item)), None)
            if item.name != "li" or first is None or self.qname(first) != "ac:structured-macro" \
                    or _macro_name(first) != "anchor" or _parameters(first).get("", "") not in self.state.footnotes:
                return False
        return True

    def footnote_definitions(self, node: Tag, context: frozenset[str]) -> str:
        definitions = []
        for item in _children(node, "li"):
            anchor = _child(item, "structured-macro")
            label = self.state.footnotes[_parameters(anchor).get("", "")]
            self._skip.add(anchor)  # the anchor is how the note is found; Markdown needs none
            body = self.blocks(item, context)
            definitions.append(f"[^{label}]: " + _indent(body, "    ").lstrip(" "))
        return "\n\n".join(definitions)

    def tag_hr(self, node: Tag, context: frozenset[str]) -> str:
        following = next((sibling for sibling in node.next_siblings if isinstance(sibling, Tag)), None)
        if following is not None and following.name == "ol" and self._is_footnote_list(following):
            return ""  # the rule is part of how footnotes are shown; Markdown writes it itself
        # In a list item "- ---" would be read as a rule ending the list (and "* ***" too).
        return "***" if "list" in context and "star-bullet" not in context else "---"

    def listing(self, node: Tag, context: frozenset[str], ordered: bool) -> str:
        items = [child for child in node.children if isinstance(child, Tag)]
        if "inline" in context or any(child.name != "li" for child in items) or _attributes(node) - {"start"}:
            return self.carry_block(node, self.blocks(node, context - {"inline"}), "list")
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

    def list_item(self, node: Tag, context: frozenset[str]) -> tuple[str, bool]:
        paragraphs = sum(1 for child in node.children if isinstance(child, Tag) and child.name == "p")
        parts = self.blocks(node, context | {"list"})
        if paragraphs >= 2:
            return parts, True
        # One paragraph and nested blocks read as a tight item: no blank lines inside it.
        return re.sub(r"\n\n(?=\S)", "\n", parts) if self._tight_joinable(node) else parts, \
            "\n\n" in parts and not self._tight_joinable(node)

    def _tight_joinable(self, node: Tag) -> bool:
        blocks = [child for child in node.children if isinstance(child, Tag) and self.is_block(child)]
        return all(self.qname(child) in ("ul", "ol", "p", "ac:task-list") for child in blocks)

    def tag_li(self, node: Tag, context: frozenset[str]) -> str:
        return self.blocks(node, context)

    def tag_ac_task_list(self, node: Tag, context: frozenset[str]) -> str:
        lines: list[str] = []
        bullet = "*" if "alternate" in context else "-"
        context = context - {"alternate"}
        faithful = "inline" not in context
        for child in node.children:
            if not isinstance(child, Tag):
                if str(child).strip():
                    faithful = False
                    lines.append(escape_inline(str(child).strip()))
                continue
            name = self.qname(child)
            if name == "ac:task":
                line = self.task(child, context)
                if line:
                    lines.append(bullet + line[1:])
                else:
                    faithful = False  # an empty task has no Markdown form
            elif name == "ac:task-list" and lines:
                lines[-1] += "\n" + _indent(self.tag_ac_task_list(child, context), "  ")
            else:
                faithful = False
                lines.append(self.blocks(child, context) if self.is_block(child) else self.inline(child, context))
        if faithful:
            return "\n".join(lines)
        return self.carry_block(node, "\n".join(lines), "task list")

    def task(self, node: Tag, context: frozenset[str]) -> str:
        status = _child(node, "task-status")
        body = _child(node, "task-body")
        done = status is not None and status.get_text().strip() == "complete"
        # Legacy editors put a sub-list inside the task's text; it is written nested below.
        nested = [inner for inner in (body.find_all("task-list") if body is not None else [])
                  if inner.find_parent("task-body") is body]
        self._skip.update(nested)
        text = self.inline_run(list(body.children), context | {"task"}) if body is not None else ""
        if not text:
            return ""  # an empty task has no Markdown form; the caller carries the list
        line = _indent(f"- [{'x' if done else ' '}] {text}", "  ").lstrip(" ")
        for inner in nested:
            line += "\n" + _indent(self.tag_ac_task_list(inner, context), "  ")
        return line

    # -- tables -------------------------------------------------------------------------------------

    def tag_table(self, node: Tag, context: frozenset[str]) -> str:
        rows = _rows(node)
        simple = self._simple_table(node, rows) and "inline" not in context
        cells = [[self.cell(cell, context) for cell in _children(row, "th", "td")] for row in rows]
        if not rows:
            return self.carry_block(node, "", "table")
        width = max(len(row) for row in cells)
        aligns = [self._column_align(rows, column) for column in range(width)]
        lines = [_table_row(cells[0], width)]
        lines.append("| " + " | ".join({"left": ":--", "center": ":-:", "right": "--:"}.get(a or "", "---")
                                      for a in aligns) + " |")
        lines += [_table_row(row, width) for row in cells[1:]]
        rendered = "\n".join(lines)
        if simple and None not in aligns:
            return rendered
        return self.carry_block(node, rendered, "table")

    def cell(self, node: Tag, context: frozenset[str]) -> str:
        self._in_cell += 1  # what is carried inside a cell must be carried inline
        try:
            text = self.blocks(node, context | {"inline", "cell"})
        finally:
            self._in_cell -= 1
        text = re.sub(r"\n\n+", "<br>", text).replace("\n", " ")
        return text.replace("|", "\\|") if "\\|" not in text else text

    def _simple_table(self, node: Tag, rows: list[Tag]) -> bool:
        if _attributes(node) - {"class", "data-layout", "data-table-width"}:
            return False
        if _child(node, "colgroup") is not None or node.find("table") is not None:
            return False
        widths = set()
        for index, row in enumerate(rows):
            cells = _children(row, "th", "td")
            widths.add(len(cells))
            for cell in cells:
                if cell.get("colspan") or cell.get("rowspan") or set(cell.attrs) - {"style"}:
                    return False
                if (cell.name == "th") != (index == 0):
                    return False
                blocks = [child for child in cell.children if isinstance(child, Tag) and self.is_block(child)]
                if len(blocks) > 1 or any(child.name != "p" or child.attrs for child in blocks):
                    return False
        return len(widths) == 1 and bool(rows)

    def _column_align(self, rows: list[Tag], column: int) -> str | None:
        """A column's alignment if every cell of it agrees; '' for none; None if they differ."""
        found = set()
        for row in rows:
            cells = _children(row, "th", "td")
            if column < len(cells):
                style = cells[column].get("style", "")
                match = re.search(r"text-align:\s*(left|center|right)", style)
                found.add(match.group(1) if match else "")
                rest = re.sub(r"text-align:\s*(left|center|right);?", "", style).strip()
                if rest:
                    return None
        return found.pop() if len(found) == 1 else None

    # -- everything else has a readable form and is carried -------------------------------------------

    def tag_ac_layout(self, node: Tag, context: frozenset[str]) -> str:
        cells = [self.blocks(cell, context) for section in _children(node, "layout-section")
                 for cell in _children(section, "layout-cell")]
        return self.carry_block(node, "\n\n".join(cell for cell in cells if cell.strip()), "layout")

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
            return self.carry_block(node, "\n".join(items), "decisions")
        if content is not None:
            return self.carry_block(node, _prefix_lines(self.blocks(content, context), "> ", ">"), f"{kind} panel")
        fallback = node.find("adf-fallback")
        readable = self.blocks(fallback, context) if fallback is not None else ""
        return self.carry_block(node, readable, kind or "Confluence element")

    def tag_ac_emoticon(self, node: Tag, context: frozenset[str]) -> str:
        from mdsync.convert.view import emoticon_text  # the one emoji table, shared with the view

        text = emoticon_text(node.get("ac:name", ""), node.get("ac:emoji-fallback", ""),
                             node.get("ac:emoji-shortname", ""), node.get("ac:emoji-id", ""))
        return self.carry_inline(node, escape_inline(text), "emoticon")

    def tag_time(self, node: Tag, context: frozenset[str]) -> str:
        return self.carry_inline(node, escape_inline(node.get("datetime", "") or node.get_text()), "date")

    def tag_ac_inline_comment_marker(self, node: Tag, context: frozenset[str]) -> str:
        return self.carry_inline(node, self.inline(node, context), "comment marker")

    def tag_ac_placeholder(self, node: Tag, context: frozenset[str]) -> str:
        return self.carry_inline(node, self.inline(node, context), "placeholder")

    def tag_div(self, node: Tag, context: frozenset[str]) -> str:
        if not _attributes(node) or node.get("class") in ("content-wrapper", ["content-wrapper"]):
            return self.blocks(node, context)
        return self.carry_block(node, self.blocks(node, context), "division")

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
_SEAL_INLINE = "<mdsync-seal>"
_PLACEHOLDERS = re.compile(r'·\s*([0-9a-f]{12})\s|sum="([0-9a-f]{12})"')


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


# Attributes Confluence adds for its editor; they do not change what a page shows.
_VOLATILE_ATTRIBUTES = frozenset({"local-id", "ac:local-id", "ac:macro-id", "ac:schema-version", "data-local-id",
                                  "ri:version-at-save"})


def _attributes(node: Tag) -> set[str]:
    return {key for key in node.attrs if key not in _VOLATILE_ATTRIBUTES}


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
    return ", ".join(f"{key}={value}" if key else value for key, value in _parameters(node).items() if value)


def _identifier_text(node: Tag) -> str:
    for child in node.find_all(True):
        for key in ("ri:content-title", "ri:space-key", "ri:value", "ri:filename", "ri:content-id", "ri:key"):
            if child.get(key):
                return child.get(key)
    return ""


def _chomp(text: str) -> tuple[str, str, str]:
    stripped = text.strip(" ")
    lead = " " if text.startswith(" ") else ""
    trail = " " if text.endswith(" ") else ""
    return lead, stripped, trail


def _neighbours(node: Tag) -> tuple[str, str]:
    """The characters just outside an inline element (or '' at a block edge)."""
    before = node.previous_sibling
    after = node.next_sibling
    left = str(before.get_text() if isinstance(before, Tag) else before or "")[-1:] if before is not None else ""
    right = str(after.get_text() if isinstance(after, Tag) else after or "")[:1] if after is not None else ""
    return left, right


def _is_punct(char: str) -> bool:
    import unicodedata

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


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line if line else line for line in text.split("\n"))


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
                    resolve_user: UserResolver | None = None) -> ConvertedBack:
    """A page's storage as Markdown, with the attachments and pages it refers to.

    Raises StorageParseError (one sentence with the position) for malformed or hostile XML.
    """
    converter = StorageConverter(resolve_page=resolve_page, resolve_attachment=resolve_attachment,
                                 resolve_user=resolve_user)
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
    )


def storage_to_markdown(xhtml: str) -> str:
    """The Markdown for a storage body (no link resolution)."""
    return convert_storage(xhtml).markdown


__all__ = ["ConvertedBack", "StorageParseError", "convert_storage", "storage_to_markdown"]
