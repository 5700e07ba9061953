"""Inline rules of markdown-it-py and its plugins, redone so that no input costs more than linear time.

The library's rules give the right tokens but, on some inputs, redo work at every character:
a link label is re-walked from every ``[`` (a file of ``[`` took 2 minutes a megabyte), a
footnote reference is scanned to the end of the paragraph from every ``[^``, a bare URL
rule copies the rest of the paragraph at every ``:``, ``@`` and ``www.``, and an attribute
block copies it at every ``{`` after a code span. Each replacement here makes the same
tokens from the same input (``tests/unit/test_pathological_inputs.py`` compares them with
the library's on random text) and only does less work: it remembers what it already found,
stops at the first whitespace the library would stop at, or rejects early what the
library would reject later.

Facts about one paragraph (where its spaces are, which labels were already walked) live
in a ``_Facts`` kept with markdown-it's inline state, so they go when the paragraph does.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from functools import partial
from types import SimpleNamespace
from typing import Any, NamedTuple

from markdown_it import MarkdownIt, helpers
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.attrs import index as attrs_index
from mdit_py_plugins.attrs.parse import HANDLERS, ParseError, State, TokenState

_FACTS = "_mdsync_facts"


class _Label(NamedTuple):
    """How a walk over a link label ended: at its closing ``]`` (end), or not (end -1).

    A NamedTuple: a frozen dataclass costs more to make than the walk it describes.
    """

    end: int
    nested: bool   # the walk stepped over a ``[`` that opens a token (a link inside)
    aborted: bool  # the walk gave up at that ``[`` (asked not to allow links inside)


class _Facts:
    """What the rules learnt about one inline source, so they never learn it twice."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.labels: dict[tuple[int, int], _Label] = {}
        self._positions: dict[str, list[int]] = {}
        self.last_percent: int | None = None

    def next_of(self, pattern: str, pos: int) -> int:
        """The first position >= ``pos`` of a character in ``pattern`` (a regex class), or len(src)."""
        positions = self._positions.get(pattern)
        if positions is None:
            positions = self._positions[pattern] = [match.start() for match in re.finditer(pattern, self.src)]
        index = bisect_left(positions, pos)
        return positions[index] if index < len(positions) else len(self.src)


def _facts(state: StateInline) -> _Facts:
    # Kept in markdown-it's cache (positions -> positions; a text key meets none of them), not
    # as an attribute: a new attribute makes CPython read every attribute of that state more
    # slowly, and the inline parser reads them all the time (ten percent on ordinary text).
    cache: dict[Any, Any] = state.cache
    facts = cache.get(_FACTS)
    if facts is None or facts.src is not state.src:
        facts = cache[_FACTS] = _Facts(state.src)
    return facts


def install(parser: MarkdownIt) -> None:
    """Swap the parser's quadratic rules for these; call once the plugins are in."""
    parser.helpers = SimpleNamespace(  # type: ignore[assignment]
        parseLinkLabel=parse_link_label,
        parseLinkDestination=helpers.parseLinkDestination,
        parseLinkTitle=helpers.parseLinkTitle,
    )
    ruler = parser.inline.ruler
    ruler.at("footnote_inline", partial(footnote_inline, library=_rule(ruler, "footnote_inline")))
    references = _rule(ruler, "footnote_ref")
    always = bool(getattr(references, "keywords", {}).get("always_match"))  # even labels nothing defines
    ruler.at("footnote_ref", partial(footnote_ref, library=references, always=always))
    attr = _rule(ruler, "attr")
    ruler.at("attr", partial(attributes, after=tuple(attr.keywords["after"]), allowed=attr.keywords["allowed"]))
    ruler.at("gfm_autolink_www", www_autolink)
    ruler.at("gfm_autolink_protocol", protocol_autolink)
    ruler.at("gfm_autolink_email", email_autolink)
    if [rule.name for rule in ruler.__rules__ if rule.enabled] == _RULES and not always:
        ruler.after("text", "mdsync_inert_bracket", inert_bracket)


# The inline rules inert_bracket knows: of them, only link and footnote_ref match at "[", only image
# at "!" and only footnote_inline at "^". Another plugin could match there too, so with any other
# set of rules (or with footnote references matched whatever their label) inert_bracket is left out.
_RULES = ["text", "newline", "escape", "backticks", "strikethrough", "emphasis", "link", "image",
          "footnote_inline", "footnote_ref", "autolink", "html_inline", "entity", "attr", "gfm_autolink_www",
          "gfm_autolink_protocol", "gfm_autolink_email"]


def _rule(ruler: Any, name: str) -> Any:
    return ruler.__rules__[ruler.__find__(name)].fn


# -- link labels ----------------------------------------------------------------------------


def parse_link_label(state: StateInline, start: int, disableNested: bool = False) -> int:  # noqa: N803
    """markdown-it's parseLinkLabel: where the label opened at ``start`` closes, or -1.

    The library walks the label token by token from every ``[``; in ``[[[[…`` each walk
    re-crosses the brackets the walks inside it crossed. A walk's path depends only on
    markdown-it's per-position cache, which never changes once written, so a finished walk
    is remembered and, met again (or met as the label of a ``[`` inside a later walk), jumped.
    """
    facts = _facts(state)
    known = facts.labels.get((start, state.posMax))
    if known is not None:
        reused = _reuse(known, disableNested)
        if reused is not None:
            return reused
    label = _walk(state, start, disableNested, facts)
    if known is None or known.aborted:
        facts.labels[(start, state.posMax)] = label
    return label.end


def _reuse(known: _Label, disable_nested: bool) -> int | None:
    """The answer a walk in this mode would give, from a walk over the same path; None if unknown."""
    if disable_nested:
        return -1 if known.nested or known.aborted else known.end
    return None if known.aborted else known.end


def _walk(state: StateInline, start: int, disable_nested: bool, facts: _Facts) -> _Label:
    src, cache, skip = state.src, state.cache, state.md.inline.skipToken
    limit = state.posMax
    old_pos = state.pos
    pos, level, nested = start + 1, 1, False
    end, aborted = -1, False
    while pos < limit:
        marker = src[pos]
        if marker == "]":
            level -= 1
            if level == 0:
                end = pos
                break
        after = cache.get(pos)
        if after is None:  # what skipToken does when the position is not cached yet
            state.pos = pos
            skip(state)
            after = state.pos
        if marker == "[":
            if after != pos + 1:  # the bracket opens a token (a link) of its own
                nested = True
                if disable_nested:
                    aborted = True
                    break
            else:
                level += 1
                inner = facts.labels.get((pos, limit))
                if inner is not None and not (inner.aborted and not disable_nested):
                    # The walk from this bracket already crossed what comes next, on the same path.
                    if disable_nested and (inner.nested or inner.aborted):
                        nested = aborted = True
                        break
                    nested = nested or inner.nested
                    if inner.end < 0:
                        break
                    pos = inner.end  # its closing bracket, crossed here at one level deeper
                    continue
        pos = after
    state.pos = old_pos
    return _Label(end, nested, aborted)


def inert_bracket(state: StateInline, silent: bool) -> bool:
    """A ``[`` (``![``, ``^[``) whose label never closes is text: say so before 15 more rules are asked.

    What markdown-it does with it anyway, once every rule has declined: keep it as text and go on.
    Placed after ``text``, which declines at every ``[``, ``!`` and ``^`` and takes the plain runs.
    """
    pos, src = state.pos, state.src
    marker = src[pos]
    if marker == "[":
        if src.startswith("[^", pos) and state.env.get("footnotes", {}).get("refs"):
            return False  # it may be a footnote reference
        if parse_link_label(state, pos, True) >= 0:
            return False
    elif marker in "!^":
        if pos + 1 >= state.posMax or src[pos + 1] != "[" or parse_link_label(state, pos + 1) >= 0:
            return False
    else:
        return False
    if not silent:
        state.append_pending(marker)
    state.pos += 1
    return True


# -- footnotes --------------------------------------------------------------------------------


def footnote_inline(state: StateInline, silent: bool, library: Any) -> bool:
    """``^[note]``: the plugin's rule, once the label is known to close (the plugin walks it again)."""
    start = state.pos
    if start + 2 >= state.posMax or not state.src.startswith("^[", start):
        return False
    if parse_link_label(state, start + 1) < 0:
        return False
    return bool(library(state, silent))


def footnote_ref(state: StateInline, silent: bool, library: Any, always: bool) -> bool:
    """``[^label]``: the plugin scans to the next space, newline or ``]`` from every ``[^``; look it up."""
    start, maximum = state.pos, state.posMax
    if start + 3 > maximum or not state.src.startswith("[^", start):
        return False
    refs = state.env.get("footnotes", {}).get("refs")
    if not refs and not always:
        return False
    stop = _facts(state).next_of(r"[ \n\]]", start + 2)
    if stop >= maximum or state.src[stop] != "]":
        return False  # the plugin's scan would end on a space, a newline or the end: no label
    if not always and stop - start - 2 > _longest_label(state.env, refs):
        return False  # a label no definition has
    return bool(library(state, silent))


def _longest_label(env: dict[str, Any], refs: dict[str, int]) -> int:
    known = env.get("_mdsync_longest_footnote")
    if known is None or known[0] != len(refs):
        known = env["_mdsync_longest_footnote"] = (len(refs), max(len(key) for key in refs) - 1)
    return int(known[1])


# -- attributes after code spans, links and images ----------------------------------------------


def attributes(state: StateInline, silent: bool, after: tuple[str, ...], allowed: set[str] | None) -> bool:
    """``{#id .class}`` after a span: mdit-py-plugins' attrs rule, without copying the rest of the text."""
    if state.pending or not state.tokens or state.tokens[-1].type not in after:
        return False
    if state.src[state.pos] != "{":
        return False  # the attributes parser would refuse at once
    facts = _facts(state)
    if facts.last_percent is None:
        facts.last_percent = state.src.rfind("%")
    try:
        length, attrs = _parse_attributes(state.src, state.pos, facts.last_percent)
    except ParseError:
        return False
    token_index = attrs_index._find_opening(state.tokens, len(state.tokens) - 1)
    if token_index is None:
        return False
    state.pos += length + 1
    if not silent:
        token = state.tokens[token_index]
        if "class" in attrs and "class" in token.attrs:
            attrs["class"] = f"{token.attrs['class']} {attrs['class']}"
        attrs_index._add_attrs(state.md, token, attrs, allowed)
    return True


def _parse_attributes(src: str, start: int, last_percent: int) -> tuple[int, dict[str, str]]:
    """mdit_py_plugins.attrs.parse.parse(src[start:]), reading src in place."""
    pos, scanning, tokens = start, State.START, TokenState()
    while pos < len(src):
        if scanning == State.SCANNING_COMMENT and src[pos] == "}" and pos > last_percent:
            scanning = State.DONE
        else:
            scanning = HANDLERS[scanning](src[pos], pos, tokens)
        if scanning == State.DONE:
            return pos - start, tokens.compile(src)
        pos += 1
    raise ParseError("Attributes not terminated", pos)


# -- bare URLs and e-mail addresses (GitHub's autolinks extension) ---------------------------------
#
# mdit-py-plugins' gfm_autolink, matching the same text. The plugin copies the rest of the
# paragraph at every candidate and trims a URL's closing parentheses by recounting them all
# for each one; here the text is read in place and only what becomes a link is copied. No
# rule matches in silent mode (the plugin's choice, see its issue #160).

_VALID_PREV = frozenset(" \t\r\n*_~(")
_LINK_END_ASSORTMENT = frozenset("?!.,:*_~'\"[]")
_EMAIL_OK = frozenset(".+-_")


def _preceding_ok(state: StateInline, back: int) -> bool:
    start = state.pos - back
    return start <= 0 or state.src[start - 1] in _VALID_PREV


def _is_hostchar(ch: str) -> bool:
    return not ch.isspace() and not unicodedata.category(ch).startswith("P")


def _domain_end(src: str, pos: int, end: int, allow_short: bool) -> int | None:
    """Where a valid domain starting at ``pos`` ends (the plugin's _check_domain), or None."""
    if pos >= end:
        return None
    dots = underscores_before = underscores = 0
    for index in range(pos, end):
        ch = src[index]
        if ch == "_":
            underscores += 1
        elif ch == ".":
            underscores_before, underscores = underscores, 0
            dots += 1
        elif ch != "-" and not _is_hostchar(ch):
            if underscores_before == 0 and underscores == 0 and (allow_short or dots > 0):
                return index
            return None
    if (underscores_before > 0 or underscores > 0) and dots <= 10:
        return None
    return end if allow_short or dots > 0 else None


def _url_end(state: StateInline, domain_end: int) -> int:
    """The end of a URL whose domain ends at ``domain_end``: up to the next space, before any ``<``."""
    facts = _facts(state)
    space = facts.next_of(r"[ \t\r\n\x00\x0b\x0c]", domain_end)
    return min(space, state.posMax, facts.next_of("<", state.pos))


def _trim_end(text: str, end: int) -> int:
    """The plugin's _autolink_delim (``text`` already cut at the first ``<``), counting parentheses once.

    Only ``)`` changes the counts as the end moves back; the other trimmed characters are no parentheses.
    """
    opening = closing = None
    while end > 0:
        last = text[end - 1]
        if last in _LINK_END_ASSORTMENT:
            end -= 1
        elif last == ";":
            back = end - 2
            while back > 0 and text[back].isalpha():
                back -= 1
            end = back if back < end - 2 and text[back] == "&" else end - 1
        elif last == ")":
            if opening is None or closing is None:
                opening, closing = text.count("(", 0, end), text.count(")", 0, end)
            if closing <= opening:
                break
            end -= 1
            closing -= 1
        else:
            break
    return end


def _push_autolink(state: StateInline, back: int, total: int, url: str, text: str) -> bool:
    """The plugin's _create_autolink."""
    if back:
        state.pending = state.pending[:-back]
    full_url = state.md.normalizeLink(url)
    if not state.md.validateLink(full_url):
        return False
    token = state.push("link_open", "a", 1)
    token.attrs = {"href": full_url}
    token.markup, token.info = "autolink", "auto"
    token = state.push("text", "", 0)
    token.content = state.md.normalizeLinkText(text)
    token = state.push("link_close", "a", -1)
    token.markup, token.info = "autolink", "auto"
    state.pos += total - back
    return True


def www_autolink(state: StateInline, silent: bool) -> bool:
    pos, src = state.pos, state.src
    if silent or state.linkLevel > 0 or pos + 4 > state.posMax or not src.startswith("www.", pos):
        return False
    pending = state.pending
    previous = pending[-1] if pending else (src[pos - 1] if pos > 0 else " ")
    if previous not in _VALID_PREV:
        return False
    domain_end = _domain_end(src, pos + 4, state.posMax, False)
    if domain_end is None:
        return False
    text = src[pos:_url_end(state, domain_end)]
    length = _trim_end(text, len(text))
    label = text[:length]
    return _push_autolink(state, 0, length, "http://" + label, label)


def protocol_autolink(state: StateInline, silent: bool) -> bool:
    pos, src = state.pos, state.src
    if silent or state.linkLevel > 0 or state.posMax - pos < 4 or src[pos] != ":":
        return False
    pending = state.pending
    # The plugin's regex ends in "$", which also matches before a final newline.
    tail = len(pending) - 1 if pending.endswith("\n") else len(pending)
    protocol = next((name for name in ("https", "http", "mailto", "xmpp")
                     if pending.endswith(name) or pending.endswith(name, 0, tail)), None)
    if protocol is None or not _preceding_ok(state, len(protocol)):
        return False
    back = len(protocol)
    if protocol in ("mailto", "xmpp"):
        found = _email_end(src, pos + 1, state.posMax, protocol)
        if found is None:
            return False
        url = protocol + src[pos:found]
        return _push_autolink(state, back, len(url), url, url)
    if not src.startswith("//", pos + 1):
        return False
    domain_end = _domain_end(src, pos + 3, state.posMax, True)
    if domain_end is None:
        return False
    text = protocol + src[pos:_url_end(state, domain_end)]
    url = text[:_trim_end(text, len(text))]
    return _push_autolink(state, back, len(url), url, url)


def _email_end(src: str, pos: int, end: int, protocol: str) -> int | None:
    """The plugin's match_any_email after ``mailto:`` / ``xmpp:``: where the address ends, or None."""
    start = pos
    while pos < end and src[pos] != "@":
        ch = src[pos]
        if not (ch.isascii() and (ch.isalnum() or ch in _EMAIL_OK)):
            return None
        pos += 1
    if pos == start:
        return None
    link_end, dots, slashes = pos + 1, 0, 0
    while link_end < end:
        ch = src[link_end]
        if ch.isascii() and ch.isalnum():
            pass
        elif ch == "@":
            if protocol != "xmpp":
                return None
        elif ch == "." and link_end < end - 1 and src[link_end + 1].isascii() and src[link_end + 1].isalnum():
            dots += 1
        elif ch == "/" and protocol == "xmpp" and slashes == 0:
            slashes += 1
        elif ch not in "-_":
            break
        link_end += 1
    if dots == 0:
        return None
    last = src[link_end - 1]
    return link_end if (last.isascii() and last.isalpha()) or last == "." else None


def email_autolink(state: StateInline, silent: bool) -> bool:
    pos, src, maximum = state.pos, state.src, state.posMax
    if silent or state.linkLevel > 0 or pos + 1 >= maximum or src[pos] != "@":
        return False
    pending = state.pending
    local = 0
    while local < len(pending) and pending[-1 - local].isascii() and (
            pending[-1 - local].isalnum() or pending[-1 - local] in _EMAIL_OK):
        local += 1
    if not local or not _preceding_ok(state, local):
        return False
    domain, dots = 0, 0
    for index in range(pos + 1, maximum):
        ch = src[index]
        if ch.isascii() and ch.isalnum():
            pass
        elif ch == "@":
            return False
        elif ch == "." and index + 1 < maximum and src[index + 1].isascii() and src[index + 1].isalnum():
            dots += 1
        elif ch not in "-_":
            break
        domain += 1
    if domain == 0 or dots == 0:
        return False
    last = src[pos + domain]
    if not (last.isascii() and last.isalnum()) and last != ".":
        return False
    text = pending[-local:] + src[pos : pos + 1 + domain]
    return _push_autolink(state, local, local + 1 + domain, "mailto:" + text, text)
