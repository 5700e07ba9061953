"""Syntax highlighting for the preview's code blocks, as Confluence colours its code macro.

Pygments splits the code into tokens; each token becomes a ``<span>`` with Pygments' short
class name (``k`` keyword, ``s2`` string, ``c1`` comment ...), which ``view.css`` colours.
The spans are built as elements, so the serialiser escapes their text like all other text.
"""

from __future__ import annotations

from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

__all__ = ["Span", "highlight_lines"]

Span = tuple[str, str]
"""(Pygments class name, or "" for plain text; the token's text)."""

# Confluence's code macro ids that Pygments spells another way (the rest are Pygments aliases).
_PYGMENTS_NAMES = {
    "actionscript3": "as3",
    "coldfusion": "cfm",
    "erl": "erlang",
    "javafx": "java",
    "objectivej": "objective-j",
    "standardml": "sml",
    "vb": "vbnet",
    "html/xml": "html",
}
# Past this size a block shows as plain text: highlighting is for reading, and a huge
# generated block would only slow the preview down.
_MAX_HIGHLIGHTED = 200_000


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    name = language.strip().lower()
    try:
        # Kept exactly as written: no newline stripped at either end, none added.
        return get_lexer_by_name(_PYGMENTS_NAMES.get(name, name), stripnl=False, ensurenl=False, startinline=True)
    except ClassNotFound:
        return None


def _class(kind: _TokenType) -> str:
    while kind not in STANDARD_TYPES:
        kind = kind.parent
    name = STANDARD_TYPES[kind]
    return "" if name == "w" else name  # whitespace needs no span


def _tokens(text: str, language: str) -> list[Span] | None:
    lexer = _lexer(language) if language and len(text) <= _MAX_HIGHLIGHTED else None
    if lexer is None:
        return None
    spans: list[Span] = []
    for kind, value in lexer.get_tokens(text):
        name = _class(kind)
        if spans and spans[-1][0] == name:  # one span for a run of one kind ("a" not ", a, ")
            spans[-1] = (name, spans[-1][1] + value)
        else:
            spans.append((name, value))
    # A lexer that changed the text (tabs, line ends) would show other code: plain text instead.
    return spans if "".join(value for _, value in spans) == text else None


def highlight_lines(text: str, language: str) -> list[list[Span]]:
    """The code's lines, each a list of spans; one plain span per line for an unknown language.

    The lines do not hold their ``\\n``; joining them with ``\\n`` gives ``text`` back.
    """
    spans = _tokens(text, language) or [("", text)]
    lines: list[list[Span]] = [[]]
    for name, value in spans:
        first, *rest = value.split("\n")
        if first:
            lines[-1].append((name, first))
        for piece in rest:
            lines.append([(name, piece)] if piece else [])
    return lines
