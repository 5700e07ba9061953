"""The one table of Markdown ⇄ Confluence storage constructs.

Both converter directions read their mappings from here (``to_storage.py`` writes what
this table says; ``to_markdown.py`` reads it back), so a construct can only change in one
place. ``CONSTRUCTS`` is the human-readable table the README shows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Construct:
    name: str
    markdown: str
    storage: str
    notes: str = ""


# -- inline marks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """An inline mark: the storage element mdsync writes, what else means the same, how Markdown says it."""

    tag: str                          # the storage element mdsync writes
    spellings: tuple[str, ...] = ()   # other storage elements that show the same (<b> for <strong>)
    delimiter: str | None = None      # the Markdown delimiter; None: Markdown writes the HTML tag
    html: tuple[str, ...] = ()        # inline HTML tags in a Markdown file that mean this mark
    link_body_style: str | None = None  # inside ac:link-body only some marks may stand: a styled span


MARK_SPECS: tuple[Mark, ...] = (
    Mark("strong", ("b",), "**", ("strong", "b")),
    Mark("em", ("i",), "*", ("em", "i")),
    Mark("s", ("del", "strike"), "~~", ("s", "del", "strike"), "text-decoration: line-through;"),
    Mark("u", ("ins",), None, ("u", "ins"), "text-decoration: underline;"),
    Mark("sub", (), None, ("sub",)),
    Mark("sup", (), None, ("sup",)),
    Mark("small", (), None, ("small",)),
    Mark("big", (), None, ("big",)),
    # ``kbd`` has no storage element; monospace ``code`` is what Confluence shows closest.
    Mark("code", ("tt",), None, ("code", "kbd")),
)

# markdown-it token type (without _open/_close) -> storage tag.
MARKS: dict[str, str] = {"strong": "strong", "em": "em", "s": "s"}
# Inline HTML a README may use -> the storage tag that means the same.
INLINE_HTML: dict[str, str] = {html: mark.tag for mark in MARK_SPECS for html in mark.html}
# Any storage spelling of a mark -> its spec.
MARK_BY_TAG: dict[str, Mark] = {tag: mark for mark in MARK_SPECS for tag in (mark.tag, *mark.spellings)}
# Storage spelling -> the tag mdsync writes (<b> -> strong).
SAME_MARK: dict[str, str] = {spelling: mark.tag for mark in MARK_SPECS for spelling in mark.spellings}

# <mark> has no storage element: Confluence's highlight is a span with this background.
MARK_HIGHLIGHT_STYLE = "background-color: rgb(255,250,230);"

# Link bodies (ac:link-body) may hold only these (Atlassian's storage format reference).
LINK_BODY_TAGS = frozenset({"b", "strong", "em", "i", "code", "tt", "sub", "sup", "br", "span"})


# -- what storage carries besides content -------------------------------------------------

# Attributes that identify things for the editor or change on every save: never shown.
VOLATILE_ATTRIBUTES = frozenset({
    "local-id", "data-local-id", "ac:local-id", "ac:macro-id", "ac:schema-version", "ri:version-at-save",
    "ri:local-id", "ac:task-list-id", "ac:original-width", "ac:original-height",
})
# Elements of the same kind: task ids number tasks for the editor, not for the reader.
VOLATILE_ELEMENTS = frozenset({"ac:task-id", "ac:task-uuid"})
# What the Cloud editor writes when nobody chose anything (real-confluence.md E2-E4, E9, E11):
# the page shows the same with or without them.
EDITOR_DEFAULTS: dict[str, dict[str, str]] = {
    "table": {"data-layout": "default", "data-table-width": "760"},
    "ac:structured-macro": {"data-layout": "default"},
    "ac:layout-section": {"ac:breakout-mode": "default"},
    # (and HTML's own: a cell spans one column and one row unless told otherwise)
    "td": {"colspan": "1", "rowspan": "1"},
    "th": {"colspan": "1", "rowspan": "1"},
}
@dataclass(frozen=True)
class Image:
    """``ac:image``: the attributes Markdown says (``![alt](src "title"){width=… height=…}``).

    The others (layout, alignment, border, thumbnail...) have no Markdown form and are kept
    with the state.
    """

    alt: str = "ac:alt"
    title: str = "ac:title"
    width: str = "ac:width"
    height: str = "ac:height"

    @property
    def markdown_attributes(self) -> tuple[str, ...]:
        return (self.alt, self.title, self.width, self.height)


IMAGE = Image()
# A block image (alone in its paragraph, or bare at block level) is centred unless set otherwise.
BLOCK_IMAGE_DEFAULTS: dict[str, str] = {"ac:align": "center", "ac:layout": "center"}


@dataclass(frozen=True)
class Task:
    """``ac:task``: a checkbox item; Markdown says its state (``- [x]``) and its text."""

    done: str = "complete"
    open: str = "incomplete"

    def is_done(self, status: str) -> bool:
        return status.strip().lower() == self.done


TASK = Task()

# Macros that stand inside a line of text (the rest are blocks).
INLINE_MACROS = frozenset({"status", "anchor", "jira", "emoticon", "mention"})


# -- blocks -------------------------------------------------------------------------------

# GitHub alert kind -> Confluence panel macro. Confluence's "note" macro is yellow (GitHub's
# WARNING) and its "warning" macro is red (GitHub's CAUTION).
ALERT_MACROS: dict[str, str] = {
    "NOTE": "info",
    "TIP": "tip",
    "WARNING": "note",
    "CAUTION": "warning",
}
# IMPORTANT has no panel of its own; a purple custom panel with this icon stands for it,
# and only that exact combination is read back as IMPORTANT.
IMPORTANT_PANEL_PARAMETERS: dict[str, str] = {
    "panelIcon": ":exclamation:",
    "panelIconId": "2757",
    "panelIconText": "\u2757",
    "bgColor": "#EAE6FF",
}
MACRO_ALERTS: dict[str, str] = {macro: kind for kind, macro in ALERT_MACROS.items()}
# How the preview shows each of those panels (the colour Confluence gives it).
PANEL_CLASSES: dict[str, str] = {macro: f"panel-{macro}" for macro in ALERT_MACROS.values()}

# mkdocs admonition type -> panel macro (``!!! note "Title"``); a titled panel comes back
# as an admonition, an untitled one as a GitHub alert.
ADMONITION_MACROS: dict[str, str] = {
    "note": "info",
    "info": "info",
    "abstract": "info",
    "summary": "info",
    "question": "info",
    "example": "info",
    "quote": "info",
    "tip": "tip",
    "hint": "tip",
    "success": "tip",
    "check": "tip",
    "done": "tip",
    "warning": "note",
    "caution": "note",
    "attention": "note",
    "important": "note",
    "danger": "warning",
    "error": "warning",
    "failure": "warning",
    "fail": "warning",
    "bug": "warning",
}
MACRO_ADMONITIONS: dict[str, str] = {"info": "note", "tip": "tip", "note": "warning", "warning": "danger"}

# Macros written in a Markdown form, and the parameters that form says; the others (an info
# panel's icon, a toc's levels...) have none and are kept with the state (reapply.py).
MARKDOWN_MACRO_PARAMETERS: dict[str, tuple[str, ...]] = {
    **{name: ("title",) for name in ("info", "tip", "note", "warning", "expand")},
    "toc": (),
    "panel": tuple(IMPORTANT_PANEL_PARAMETERS),
}

# A paragraph holding only one of these becomes the toc macro.
TOC_MARKERS = frozenset({"[TOC]", "[[_TOC_]]", "[toc]"})

# Footnotes: references link to an anchor macro at the start of each note.
FOOTNOTE_ANCHOR = "fn-{label}"
FOOTNOTE_REF_ANCHOR = "fnref-{label}"


# -- code ---------------------------------------------------------------------------------

# Language ids Confluence Cloud's code macro knows.
CONFLUENCE_LANGUAGES = frozenset("""
abap actionscript3 ada applescript arduino autoit bash c c# clojure coffeescript coldfusion
cpp css cuda d dart delphi diff dockerfile elixir erl fortran foxpro gherkin go graphql
groovy handlebars haskell haxe hcl html java javafx js json jsx julia kotlin livescript lua
mathematica matlab objectivec objectivej ocaml octave pascal perl php powershell prolog
protobuf puppet py qml r racket rst ruby rust sass scala scheme shell smalltalk splunk sql
standardml swift tcl tex toml tsx typescript vala vb verilog vhdl xml xquery yaml
""".split())

# Names a Markdown fence commonly uses -> Confluence's id. Names not listed here and not
# Confluence ids are kept as written, so they come back unchanged on pull.
LANGUAGE_ALIASES: dict[str, str] = {
    "python": "py", "python3": "py", "py3": "py",
    "javascript": "js", "node": "js", "nodejs": "js", "mjs": "js", "cjs": "js",
    "ts": "typescript",
    "csharp": "c#", "cs": "c#",
    "c++": "cpp", "cxx": "cpp", "hpp": "cpp",
    "erlang": "erl",
    "sh": "bash", "zsh": "bash", "ksh": "bash",
    "console": "shell", "shellsession": "shell",
    "yml": "yaml",
    "golang": "go",
    "rb": "ruby",
    "rs": "rust",
    "kt": "kotlin", "kts": "kotlin",
    "ps1": "powershell", "pwsh": "powershell", "ps": "powershell",
    "docker": "dockerfile", "containerfile": "dockerfile",
    "terraform": "hcl", "tf": "hcl",
    "proto": "protobuf",
    "objc": "objectivec", "objective-c": "objectivec",
    "htm": "html", "xhtml": "html", "svg": "xml",
    "patch": "diff",
    "latex": "tex",
    "pl": "perl",
    "vbnet": "vb", "vb.net": "vb",
    "scss": "sass",
    "cucumber": "gherkin",
    "clj": "clojure",
    "coffee": "coffeescript",
    "hs": "haskell",
    "ml": "ocaml",
}

# Confluence id -> the name mdsync writes in a fence on pull (GitHub's usual name).
MARKDOWN_LANGUAGES: dict[str, str] = {
    "py": "python",
    "js": "javascript",
    "c#": "csharp",
    "erl": "erlang",
}

# Fence names for plain text: the code macro calls that language "none".
PLAIN_LANGUAGES = frozenset({"text", "plain", "plaintext", "txt", "none"})

@dataclass(frozen=True)
class CodeMacro:
    """The code macro, a fenced block: its parameters, as every reader and writer names them."""

    name: str = "code"
    language: str = "language"
    title: str = "title"
    line_numbers: str = "linenumbers"
    first_line: str = "firstline"
    collapse: str = "collapse"

    @property
    def fence_parameters(self) -> tuple[str, ...]:
        """What a fence's info string says (```py title="x" linenums="3"); the others (theme,
        collapse, breakoutMode...) have no Markdown form and are kept with the state."""
        return (self.language, self.title, self.line_numbers, self.first_line)


CODE = CodeMacro()
MARKDOWN_MACRO_PARAMETERS[CODE.name] = CODE.fence_parameters
# What the Cloud editor adds to every code macro (real-confluence.md E4).
CODE_EDITOR_DEFAULTS: dict[str, str] = {"breakoutMode": "wide", "breakoutWidth": "760"}
# Values that mean what leaving the parameter out means.
CODE_PARAMETER_DEFAULTS: dict[str, str] = {**CODE_EDITOR_DEFAULTS, "linenumbers": "false", "collapse": "false",
                                           "firstline": "1"}


def confluence_language(name: str) -> str | None:
    """The code macro's language for a fence's language name (None: send no language).

    Names Confluence does not know (``text``, ``mermaid``...) are sent as written: the macro
    shows them as plain text, and they come back unchanged on pull.
    """
    lowered = name.strip().lower()
    if not lowered:
        return None
    if lowered in PLAIN_LANGUAGES:
        return "none"
    if lowered in CONFLUENCE_LANGUAGES:
        return lowered
    return LANGUAGE_ALIASES.get(lowered, name.strip())


def markdown_language(confluence_id: str | None) -> str:
    """The fence language mdsync writes for a code macro's language ('' for none given).

    ``none`` (plain text) is written ``text``, which comes back as ``none``.
    """
    if not confluence_id or not confluence_id.strip():
        return ""
    if confluence_id.strip().lower() in PLAIN_LANGUAGES:
        return "text"
    return MARKDOWN_LANGUAGES.get(confluence_id.lower(), confluence_id)


def same_language(confluence_id: str) -> str:
    """One name for every spelling of a language (py, python, Python): what the macro highlights."""
    return (confluence_language(confluence_id) or "").lower()


# -- the table the README shows -----------------------------------------------------------

CONSTRUCTS: tuple[Construct, ...] = (
    Construct("Headings 1–6", "`# H1` … `###### H6`, setext `===`/`---`", "`<h1>` … `<h6>`",
              "The first H1 becomes the page title (and leaves the body) unless front matter sets one."),
    Construct("Paragraphs, line breaks", "blank-line paragraphs; two spaces or `\\` at line end",
              "`<p>`; `<br />`", "Soft line breaks stay line breaks in the text."),
    Construct("Emphasis, strong, strikethrough", "`*em*`, `**strong**`, `~~strike~~`, `~strike~`",
              "`<em>`, `<strong>`, `<s>`"),
    Construct("Inline code", "`` `code` ``", "`<code>`", "Backticks and pipes inside are kept literally."),
    Construct("Inline HTML marks", "`<sub> <sup> <u> <kbd> <mark> <br>`",
              "`<sub> <sup> <u> <code> <span style=background> <br />`", "`<kbd>` shows as monospace."),
    Construct("External links, autolinks, bare URLs", "`[t](https://…)`, `<https://…>`, `https://…`, `www.…`",
              "`<a href>`", "Bare URLs are linked as GitHub links them."),
    Construct("Links to other Markdown files", "`[t](other.md)`, `[t](other.md#section)`",
              "`<ac:link ac:anchor><ri:page ri:content-title/>…</ac:link>`",
              "The target's title comes from the sync; anchors become Confluence's heading anchors."),
    Construct("Links within the page", "`[t](#section)`", "`<ac:link ac:anchor=\"Heading-text\">`"),
    Construct("Links to local files", "`[t](files/report.pdf)`",
              "`<ac:link><ri:attachment ri:filename/>…</ac:link>`", "The file is uploaded as an attachment."),
    Construct("Images", "`![alt](img.png \"title\"){width=300}`, `<img src width>`",
              "`<ac:image ac:alt ac:title ac:width><ri:attachment/>` or `<ri:url/>`",
              "Local images are uploaded as attachments; names with spaces and non-ASCII work."),
    Construct("Fenced and indented code", "```` ```python title=\"x.py\" linenums=\"1\" ````",
              "code macro with `language`, `title`, `linenumbers`, `firstline`",
              "Languages are mapped to the code macro's names (`text` is its `none`); unknown names (e.g. "
              "mermaid) are kept, and a page's own spelling (`python` or `py`) stays."),
    Construct("Block quotes", "`> quote` (nested)", "`<blockquote>`"),
    Construct("GitHub alerts", "`> [!NOTE]` `[!TIP]` `[!IMPORTANT]` `[!WARNING]` `[!CAUTION]`",
              "info, tip, purple panel, note (yellow), warning (red) macros",
              "All five come back as the same alert."),
    Construct("Admonitions", "`!!! note \"Title\"` (mkdocs)", "info/tip/note/warning macro with `title`"),
    Construct("Collapsible sections", "`<details><summary>Title</summary>…</details>`", "expand macro"),
    Construct("Lists", "`-`, `1.` (any start), nested, loose", "`<ul>`, `<ol start>`, `<li>`"),
    Construct("Task lists", "`- [ ] todo`, `- [x] done`", "`<ac:task-list>` with `incomplete`/`complete`"),
    Construct("Tables", "GFM pipe tables with alignment", "`<table><tbody><tr><th>`/`<td>`",
              "Alignment is kept as `text-align` on the cells."),
    Construct("Footnotes", "`text[^1]` and `[^1]: note`", "superscript anchor links and a closing list"),
    Construct("Thematic break", "`---`", "`<hr />`"),
    Construct("Table of contents", "a `[TOC]` line", "toc macro"),
    Construct("Front matter", "`---` YAML block", "not in the body",
              "`title`, `labels`, `type: blogpost` and more; returned to the sync."),
    Construct("Raw HTML", "`<p align>`, `<img>`, `<a><img></a>`, `<picture>`, `<br>`, comments",
              "storage equivalents", "Comments are dropped; other tags are shown as visible text."),
    Construct("What Markdown cannot say about what it writes", "nothing: the construct's plain Markdown",
              "taken back on push from the page as last synced",
              "A table's width, layout, column widths, header column, cell colours and `<thead>`; a code "
              "block's theme and breakout; an image's layout and alignment; a panel's icon; a toc's levels; "
              "task ids; smart-link cards; heading ids; the editor's local ids. Kept when the construct is "
              "edited too."),
    Construct("Confluence containers", "their content, as Markdown, between `mdsync:wrap` markers",
              "the container as it was, around the pushed content",
              "Layouts (cells separated by `mdsync:next`), coloured panels, macros with rich bodies, "
              "`<div>`s with attributes. The content is edited as ordinary Markdown."),
    Construct("Confluence-only content", "its readable text between `mdsync:keep` markers",
              "the original storage, put back exactly",
              "Jira and other macros, status lozenges, tables with merged cells, comment markers, mentions, "
              "dates, emoticons, draw.io and Gliffy diagrams (their picture shown), the HTML macro (its HTML "
              "shown). The markers hold a short ref; what they keep is under `.mdsync/`. Editing the text "
              "pushes the edit."),
)


def constructs_table() -> str:
    """CONSTRUCTS as the Markdown table the README shows (a test keeps the README current)."""
    rows = ["| Construct | Markdown | Confluence storage | Notes |", "|---|---|---|---|"]
    for construct in CONSTRUCTS:
        cells = (construct.name, construct.markdown, construct.storage, construct.notes)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)
