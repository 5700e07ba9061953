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
the indentation a list item or the ``>`` a quote adds does not change it.
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
    packed = zlib.compress(storage.encode("utf-8"), 9)
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
    attrs = sorted((str(key), str(value)) for key, value in (token.attrs or {}).items())
    meta = sorted((key, str(value)) for key, value in (token.meta or {}).items() if key in ("checked", "kind", "tag"))
    content = token.content if token.type != "inline" else ""
    if token.type == "html_block":
        content = content.rstrip("\n")  # the block's last line ends the file or not: same HTML
    digest.update(repr((token.type, token.tag, token.info, content, token.markup, attrs, meta)).encode("utf-8"))
    for child in token.children or []:
        _feed(digest, child)
