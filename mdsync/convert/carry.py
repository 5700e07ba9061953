"""Carrying storage that Markdown cannot say, losslessly, through a Markdown file.

A construct with no faithful Markdown form (a Jira macro, a layout, a coloured panel, a
table with merged cells, an inline comment marker...) is written as its readable Markdown
between two HTML comments. The opening comment holds the original storage, compressed, and
a fingerprint of the readable part:

    <!-- mdsync:keep jira · do not edit this line · 1a2b3c4d5e6f eJzLSM3JyVc... -->
    [PROJ-123](https://jira.example.com/browse/PROJ-123)
    <!-- /mdsync:keep -->

Renderers hide the comments, so people read the readable part. On push, if the readable
part still has the fingerprint, the original storage is put back byte for byte; if someone
edited it, the edit is pushed as ordinary Markdown and a warning says what could not be
kept. Nothing is lost silently either way.

The fingerprint is taken over markdown-it's tokens of the readable part (not its text), so
the indentation a list item or the ``>`` a quote adds does not change it, nor does a
Markdown formatter re-aligning a table. A nested region counts in its parent's fingerprint
by its label only. The writer leaves a placeholder in each marker and fills in all
fingerprints at the end of the page (``fill_sums``); a push recomputes them from its own
parse of the file.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

BEGIN = "mdsync:keep"
END = "<!-- /mdsync:keep -->"
_BEGIN = re.compile(r"^\s*<!--\s*mdsync:keep\s+(?P<label>[^·]*?)\s*·[^·]*·\s*(?P<sum>[0-9a-f]{12})\s+"
                    r"(?P<data>[A-Za-z0-9_\-]+=*)\s*-->\s*$", re.DOTALL)
_END = re.compile(r"^\s*<!--\s*/mdsync:keep\s*-->\s*$")
_LABEL_SAFE = re.compile(r"[^A-Za-z0-9 _:./+#-]")


@dataclass(frozen=True)
class Carried:
    label: str
    checksum: str
    storage: str


def encode(storage: str) -> str:
    packed = zlib.compress(storage.encode("utf-8"), 6)  # level 6: nearly level 9's size, much faster
    return base64.urlsafe_b64encode(packed).decode("ascii")


def decode(data: str) -> str | None:
    try:
        return zlib.decompress(base64.urlsafe_b64decode(data.encode("ascii"))).decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None


def begin_marker(label: str, checksum: str, storage: str) -> str:
    clean = _LABEL_SAFE.sub("", label)[:60].strip() or "content"
    return f"<!-- {BEGIN} {clean} · do not edit this line · {checksum} {encode(storage)} -->"


def parse_begin(comment: str) -> Carried | None:
    """The carried storage in an opening comment, or None if it is not one (or was damaged)."""
    match = _BEGIN.match(comment)
    if not match:
        return None
    storage = decode(match.group("data"))
    if storage is None:
        return None
    return Carried(match.group("label"), match.group("sum"), storage)


INLINE_TAG = "mdsync-keep"
_INLINE = re.compile(r'^<mdsync-keep\s+label="(?P<label>[^"]*)"\s+sum="(?P<sum>[0-9a-f]{12})"\s+'
                     r'data="(?P<data>[A-Za-z0-9_\-]+=*)"\s*>$')


def inline_open(label: str, checksum: str, storage: str) -> str:
    """The opening tag of an inline carry (a comment could start a line and become an HTML block)."""
    clean = _LABEL_SAFE.sub("", label)[:40].strip() or "content"
    return f'<{INLINE_TAG} label="{clean}" sum="{checksum}" data="{encode(storage)}">'


INLINE_CLOSE = f"</{INLINE_TAG}>"


def parse_inline_open(tag: str) -> Carried | None:
    match = _INLINE.match(tag.strip())
    if not match:
        return None
    storage = decode(match.group("data"))
    return None if storage is None else Carried(match.group("label"), match.group("sum"), storage)


def is_begin(comment: str) -> bool:
    return BEGIN in comment and comment.lstrip().startswith("<!--") and not _END.match(comment)


def is_end(comment: str) -> bool:
    return bool(_END.match(comment))


_BLOCK_SUM = re.compile(r"(·\s*)[0-9a-f]{12}(\s)")
_INLINE_SUM = re.compile(r'(sum=")[0-9a-f]{12}(")')
_BLOCK_DATA = re.compile(r"(·\s*[0-9a-f]{12}\s+)[A-Za-z0-9_\-]+=*(\s*-->)")
_INLINE_DATA = re.compile(r'(data=")[A-Za-z0-9_\-]+=*(")')


def block_region_end(tokens: Sequence[Token], index: int) -> int | None:
    """The index of the html_block closing the carried region opened at ``index``."""
    depth = 0
    level = tokens[index].level
    for position in range(index + 1, len(tokens)):
        token = tokens[position]
        if token.type != "html_block" or token.level != level:
            continue
        if is_begin(token.content):
            depth += 1
        elif is_end(token.content):
            if depth == 0:
                return position
            depth -= 1
    return None


def inline_region_end(children: Sequence[Token], index: int) -> int | None:
    depth = 0
    for position in range(index + 1, len(children)):
        token = children[position]
        if token.type != "html_inline":
            continue
        if token.content.startswith(f"<{INLINE_TAG}"):
            depth += 1
        elif token.content == INLINE_CLOSE:
            if depth == 0:
                return position
            depth -= 1
    return None


_LABEL = re.compile(r'mdsync:keep\s+([^·]*?)\s*·|label="([^"]*)"')


def _label_of(marker: str) -> str:
    match = _LABEL.search(marker)
    return (match.group(1) or match.group(2) or "") if match else ""


def without_payloads(markdown: str) -> str:
    """The document with each marker's compressed copy taken out (fingerprints ignore it)."""
    return _INLINE_DATA.sub(r"\1\2", _BLOCK_DATA.sub(r"\1\2", markdown))


_PLACEHOLDER = re.compile(r'·\s*([0-9a-f]{12})\s|sum="([0-9a-f]{12})"')


def nested_sums(tokens: Sequence[Token], sums: dict[str, str]) -> None:
    """Fingerprints of the carried regions found in ``tokens``, by their placeholder."""
    for index, token in enumerate(tokens):
        if token.type == "html_block" and is_begin(token.content):
            end = block_region_end(tokens, index)
            match = _BLOCK_SUM.search(token.content)
            if end is not None and match and _placeholder(match.group(0)) not in sums:
                sums[_placeholder(match.group(0))] = fingerprint(tokens[index + 1 : end])
        children = token.children or []
        for position, child in enumerate(children):
            if child.type == "html_inline" and (child.content.startswith(f"<{INLINE_TAG}") or is_begin(child.content)):
                end = inline_region_end(children, position) if child.content.startswith("<") and \
                    not child.content.startswith("<!--") else None
                match = _INLINE_SUM.search(child.content)
                if end is not None and match and _placeholder(match.group(0)) not in sums:
                    sums[_placeholder(match.group(0))] = fingerprint(children[position + 1 : end])


def _placeholder(found: str) -> str:
    match = _PLACEHOLDER.search(found)
    assert match is not None
    return match.group(1) or match.group(2)


def fill_sums(markdown: str, sums: dict[str, str]) -> str:
    """Replace each marker's placeholder by its region's fingerprint."""
    def replace(found: re.Match[str]) -> str:
        placeholder = found.group(1) or found.group(2)
        value = sums.get(placeholder, placeholder)
        return found.group(0).replace(placeholder, value)

    return _PLACEHOLDER.sub(replace, markdown)


def fingerprint(tokens: Sequence[Token]) -> str:
    """A digest of what tokens say, blind to where they sit (level, indentation, lines)."""
    digest = hashlib.sha256()
    for token in tokens:
        _feed(digest, token)
    return digest.hexdigest()[:12]


def _feed(digest: "hashlib._Hash", token: Token) -> None:
    # Tight-list paragraphs are "hidden"; that depends on the surrounding list, not on the
    # carried content, so it is left out like the nesting level.
    # A task's box state lives in meta: leaving it out would let a ticked box be undone.
    attrs = sorted((str(key), str(value)) for key, value in token.attrs.items()) if token.attrs else ""
    meta = [(key, str(token.meta[key])) for key in ("checked", "kind", "tag") if key in token.meta] \
        if token.meta else ""
    content = token.content if token.type != "inline" else ""
    if token.type == "html_block":
        content = content.rstrip("\n")  # the block's last line ends the file or not: same HTML
        # A nested region counts by its label only: its own fingerprint and compressed copy
        # are not part of what its parent says (the parent keeps its own copy of all inside).
        if is_begin(content):
            content = "keep " + _label_of(content)
    elif token.type == "html_inline" and (content.startswith(f"<{INLINE_TAG}") or is_begin(content)):
        content = "keep " + _label_of(content)
    digest.update(f"{token.type}\x1f{token.tag}\x1f{token.info}\x1f{content}\x1f{token.markup}\x1f{attrs}\x1f{meta}\x1e"
                  .encode("utf-8"))
    for child in token.children or []:
        _feed(digest, child)
