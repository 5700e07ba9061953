"""The Markdown dialect mdsync reads: GitHub's, plus footnotes, admonitions and attributes.

One parser for everything that reads Markdown (the converter, the carried regions'
fingerprints, titles and anchors), so they all see the same document.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.gfm_autolink import gfm_autolink_plugin

from mdsync.convert import linear_rules

MAX_NESTING = 100


@cache
def make_parser() -> MarkdownIt:
    """The parser, built once: a MarkdownIt instance is reusable and parsing does not change it."""
    return _build_parser()


@cache
def block_parser() -> MarkdownIt:
    """Blocks only: finding the first heading needs no inline parse of every paragraph."""
    return _build_parser().disable("inline")


def _build_parser(linear: bool = True) -> MarkdownIt:
    """mdsync's dialect; ``linear=False`` keeps the libraries' own rules (the tests compare the two)."""
    parser = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    parser.enable(["table", "strikethrough"])
    parser.options["tasklists"] = True
    parser.options["alerts"] = True
    parser.options["strikethrough_single_tilde"] = True
    parser.use(footnote_plugin).use(admon_plugin).use(attrs_plugin).use(gfm_autolink_plugin)
    parser.validateLink = _validate_link  # type: ignore[method-assign]
    if linear:
        linear_rules.install(parser)
    return parser


def _validate_link(url: str) -> bool:
    # markdown-it's own check, plus: data: URLs never become links or images in storage.
    lowered = url.strip().lower()
    return not lowered.startswith(("javascript:", "vbscript:", "file:", "data:"))


def plain_text_of(tokens: Sequence[Token]) -> str:
    """The visible text of inline tokens (for titles, anchors and link bodies)."""
    parts = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(plain_text_of(token.children or []))
    return "".join(parts)
