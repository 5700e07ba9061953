"""Writing text into Markdown so that it stays text.

Storage text can contain anything: ``*stars*``, ``# not a heading``, ``1. not a list``,
``[brackets](x)``, ``| pipes |``, URLs that are not links. Each is escaped just enough
that mdsync's own Markdown reader (markdown-it with GitHub's extensions) reads back the
same characters, and no more, so files stay pleasant to read and diff.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from markdown_it.common.normalize_url import normalizeLinkText

# Inline syntax anywhere in a text run.
_ALWAYS = re.compile(r"([`*~|\[\]{}])")
_ALWAYS_BUT_PIPES = re.compile(r"([`*~\[\]{}])")
_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ANGLE = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# GitHub's autolinks: a scheme, www., or an e-mail address would turn text into a link.
_SCHEME_COLON = re.compile(r"\b(https?|mailto|xmpp|ftp):", re.IGNORECASE)
_WWW_DOT = re.compile(r"\b(www)\.", re.IGNORECASE)
_EMAIL_AT = re.compile(r"(?<=[A-Za-z0-9._+\-])@(?=[A-Za-z0-9\-]+\.)")



_ANY_SYNTAX = re.compile(r"[\\`*~|\[\]{}_<&]|://|www\.|@|mailto:|xmpp:", re.IGNORECASE)


def escape_inline(text: str, *, pipes: bool = True) -> str:
    """Escape what Markdown would read as inline syntax (emphasis, code, links, HTML...).

    ``pipes=False`` leaves ``|`` alone, for a table cell, which escapes every pipe itself.
    """
    if not _ANY_SYNTAX.search(text):
        return text  # most text needs nothing: one search instead of eight substitutions
    text = _BACKSLASH.sub(r"\\\\", text)
    text = (_ALWAYS if pipes else _ALWAYS_BUT_PIPES).sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _ANGLE.sub(r"\\<", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _SCHEME_COLON.sub(r"\1\\:", text)
    text = _WWW_DOT.sub(r"\1\\.", text)
    text = _EMAIL_AT.sub(r"\\@", text)
    return text


_LINE_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
_BLOCK_START = re.compile(r"^(?:([#>+\-=]|!!!)|(\d{1,9})(?=[.)](?:[ \t]|$)))", re.MULTILINE)


def escape_line_starts(text: str) -> str:
    """Escape what would start a block (heading, quote, list, rule...) at any line's start.

    Leading spaces go too: they mean nothing in a paragraph, and four would make code.
    """
    if " " in text or "\t" in text:
        text = _LINE_INDENT.sub("", text)
    # "1. text" and "1) text" would start an ordered list: the escape goes after the number.
    return _BLOCK_START.sub(lambda found: f"\\{found.group(1)}" if found.group(1) else f"{found.group(2)}\\", text)


def escape_heading(text: str) -> str:
    """Heading text: inline escapes, and a trailing '#' run would be read as closing marks."""
    text = escape_inline(text).replace("\n", " ").strip()
    if text.endswith("#"):
        text = text[:-1] + "\\#"
    return text


def escape_table_cell(text: str) -> str:
    return text.replace("\n", " ")


def code_span(code: str) -> str:
    """Inline code that shows exactly ``code``, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * (longest + 1)
    # CommonMark strips one space on each side when both are there; pad to keep edges intact.
    if code.strip() and (code[0] in "` " or code[-1] in "` "):
        code = f" {code} "
    return f"{fence}{code}{fence}"


def code_fence(code: str) -> str:
    """A fence longer than any run of backticks inside the code."""
    longest = max((len(run) for run in re.findall(r"^[ \t]*(`{3,})", code, re.MULTILINE)), default=0)
    return "`" * max(3, longest + 1)


def link_destination(url: str) -> str:
    """A link destination markdown-it reads back as ``url``.

    Written as a reader would type it (percent-escapes decoded, as markdown-it shows link
    text), so that Markdown read back and written again comes out the same.
    """
    url = normalizeLinkText(url)
    url = url.replace("\r", "%0D").replace("\n", "%0A").replace("\t", "%09")
    if not url or re.search(r"[\s<>()\\]", url):
        return "<" + url.replace("\\", "\\\\").replace("<", "\\<").replace(">", "\\>") + ">"
    return url


# What a bare link destination cannot hold (CommonMark ends it at a space or control
# character, reads a backslash as an escape): percent-encoded, not put in <...>.
_NOT_BARE = re.compile(r"[\s<>\\\x00-\x1f\x7f]")


def href_destination(href: str) -> str:
    """A relative link destination (``href`` in URL form: its ``%``, ``#`` and ``?`` mean what
    they do in a URL) as GitHub writes one: spaces and what else a bare destination cannot hold
    percent-encoded (``a b.md`` -> ``a%20b.md``), parentheses too where they do not pair. The
    reader decodes it back, as it does ``<a b.md>``. Non-Latin letters stay as they are."""
    encoded = _NOT_BARE.sub(lambda found: quote(found.group(), safe=""), href)
    if not _paired(encoded):
        encoded = encoded.replace("(", "%28").replace(")", "%29")
    return encoded or "<>"


def path_destination(path: str) -> str:
    """A link destination that reads back as this file path (its ``%``, ``#`` and ``?`` are
    part of its name, not a URL's)."""
    return href_destination(path_href(path))


def path_href(path: str) -> str:
    """A file path as the path of a relative URL: ``%``, ``#`` and ``?`` escaped."""
    return path.replace("%", "%25").replace("#", "%23").replace("?", "%3F")


def _paired(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if depth < 0:
            return False
    return depth == 0


def link_title(title: str) -> str:
    return '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
