"""Carrying storage that Markdown cannot say, losslessly, through a Markdown file.

Two kinds of region, both between HTML comments that renderers hide:

* **keep**: a construct with no faithful Markdown form (a Jira macro, a status lozenge, a
  table with merged cells, a mention...) is written as its readable Markdown; the storage is
  kept aside. On push, if the readable part still has the fingerprint it had when pulled, the
  original storage is put back exactly; if someone edited it, the edit is pushed as ordinary
  Markdown and a warning says what could not be kept. Inline, the markers are a
  ``<mdsync-keep ref="…">`` tag pair, since a comment could start a line and become a block::

      <!-- mdsync:keep jira macro · 1a2b3c4d5e6f -->
      [PROJ-123](https://jira.example.com/browse/PROJ-123)
      <!-- /mdsync:keep -->

* **wrap**: a container with no Markdown form (a layout, a coloured panel, a macro with rich
  bodies, a ``<div>`` with attributes) keeps its own markup aside while its content stays
  ordinary, editable Markdown, one slot after another (``<!-- mdsync:next -->`` between
  them). On push the content of each slot is converted and put back into the container::

      <!-- mdsync:wrap layout · 9f8e7d6c5b4a -->
      ## Left column
      <!-- mdsync:next -->
      ## Right column
      <!-- /mdsync:wrap -->

Where the kept storage lives: a marker holds a short ``ref`` into the page's kept payloads,
which the sync keeps under ``.mdsync/`` (``Payloads``); a file converted on its own, with
nowhere to keep them, carries each payload in its marker instead, compressed (``data``).
Refs are digests of what the storage shows (its canonical form) and of the readable part, so
the Cloud editor re-saving a page (new local ids, split marks) does not change them.

The fingerprint is taken over markdown-it's tokens of the readable part (not its text), so
the indentation a list item or the ``>`` a quote adds does not change it, nor does a
Markdown formatter re-aligning a table. A nested region counts in its parent's fingerprint
by its kind and label only.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from markdown_it.token import Token

KEEP = "mdsync:keep"
WRAP = "mdsync:wrap"
END = "<!-- /mdsync:keep -->"
WRAP_END = "<!-- /mdsync:wrap -->"
NEXT = "<!-- mdsync:next -->"
INLINE_TAG = "mdsync-keep"
INLINE_CLOSE = f"</{INLINE_TAG}>"

Kind = Literal["keep", "wrap"]

# The opening comment: kind, label, then after a "·" either a ref (12 hex), or the older
# self-contained form: a fingerprint and the compressed storage ("· do not edit this line ·"
# was written by earlier versions and is still read).
_OPEN = re.compile(r"^\s*<!--\s*mdsync:(?P<kind>keep|wrap)\s+(?P<label>[^·]*?)\s*·(?:[^·]*·)?\s*"
                   r"(?P<hex>[0-9a-f]{12})(?:\s+(?P<data>[A-Za-z0-9_\-]+=*))?\s*-->\s*$", re.DOTALL)
_CLOSE = re.compile(r"^\s*<!--\s*/mdsync:(?P<kind>keep|wrap)\s*-->\s*$")
_NEXT = re.compile(r"^\s*<!--\s*mdsync:next\s*-->\s*$")
_INLINE_OPEN = re.compile(r'^<mdsync-keep\s+(?:label="(?P<label>[^"]*)"\s+)?(?:ref="(?P<ref>[0-9a-f]{12})"|'
                          r'sum="(?P<sum>[0-9a-f]{12})"\s+data="(?P<data>[A-Za-z0-9_\-]+=*)")\s*>$')
_LABEL_SAFE = re.compile(r"[^A-Za-z0-9 _:./+#-]")


@dataclass(frozen=True)
class Carried:
    """What a region keeps: its storage and, for a keep, the fingerprint of its readable part."""

    kind: Kind
    label: str
    storage: str
    checksum: str | None = None

    def to_json(self) -> dict[str, str]:
        data = {"kind": self.kind, "label": self.label, "storage": self.storage}
        if self.checksum:
            data["sum"] = self.checksum
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Carried:
        kind = data.get("kind", "keep")
        if kind not in ("keep", "wrap") or not isinstance(data.get("storage"), str):
            raise ValueError("not a kept payload")
        return cls(kind, str(data.get("label", "")), data["storage"], data.get("sum"))  # type: ignore[arg-type]


# ref -> payload: what a page's markers point at (kept by the sync under .mdsync/).
Payloads = Mapping[str, Carried]


@dataclass(frozen=True)
class Marker:
    """An opening marker as read from a file."""

    kind: Kind
    label: str
    ref: str | None = None       # into the page's payloads
    checksum: str | None = None  # with data: the self-contained form
    data: str | None = None

    def resolve(self, payloads: Payloads | None) -> Carried | None:
        """What the marker keeps, or None if it cannot be found (or was damaged)."""
        if self.data is not None:
            storage = decode(self.data)
            return None if storage is None else Carried(self.kind, self.label, storage, self.checksum)
        found = payloads.get(self.ref or "") if payloads is not None else None
        return found if found is not None and found.kind == self.kind else None


def encode(storage: str) -> str:
    packed = zlib.compress(storage.encode("utf-8"), 6)  # level 6: nearly level 9's size, much faster
    return base64.urlsafe_b64encode(packed).decode("ascii")


def decode(data: str) -> str | None:
    try:
        return zlib.decompress(base64.urlsafe_b64decode(data.encode("ascii"))).decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None


def clean_label(label: str, limit: int = 60) -> str:
    return _LABEL_SAFE.sub("", label)[:limit].strip() or "content"


def payload_ref(kind: Kind, label: str, canonical: str, checksum: str | None) -> str:
    """The ref of a payload: what it shows and what its readable part says, not its bytes."""
    key = f"{kind}\x1f{label}\x1f{canonical}\x1f{checksum or ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


# -- writing markers (the writer puts a 12-hex placeholder where the ref or fingerprint goes) --


def open_marker(kind: Kind, label: str, placeholder: str, storage: str | None = None) -> str:
    """An opening comment; with ``storage`` the self-contained form (fingerprint and data)."""
    data = f" {encode(storage)}" if storage is not None else ""
    return f"<!-- mdsync:{kind} {clean_label(label)} · {placeholder}{data} -->"


def inline_open(placeholder: str, storage: str | None = None) -> str:
    if storage is not None:
        return f'<{INLINE_TAG} sum="{placeholder}" data="{encode(storage)}">'
    return f'<{INLINE_TAG} ref="{placeholder}">'


# -- reading markers -------------------------------------------------------------------------


def parse_open(comment: str) -> Marker | None:
    """The opening marker in an HTML block, or None if it is not one (or was damaged)."""
    match = _OPEN.match(comment)
    if not match:
        return None
    kind: Kind = "keep" if match.group("kind") == "keep" else "wrap"
    data = match.group("data")
    if data is not None:
        return Marker(kind, match.group("label"), checksum=match.group("hex"), data=data)
    return Marker(kind, match.group("label"), ref=match.group("hex"))


def parse_inline_open(tag: str) -> Marker | None:
    match = _INLINE_OPEN.match(tag.strip())
    if not match:
        return None
    if match.group("data") is not None:
        return Marker("keep", match.group("label") or "", checksum=match.group("sum"), data=match.group("data"))
    return Marker("keep", match.group("label") or "", ref=match.group("ref"))


def opening_kind(comment: str) -> Kind | None:
    """keep or wrap if the comment opens a region (damaged or not), else None."""
    stripped = comment.lstrip()
    if not stripped.startswith("<!--"):
        return None
    body = stripped[4:].lstrip()
    if body.startswith(KEEP):
        return "keep"
    if body.startswith(WRAP):
        return "wrap"
    return None


def is_begin(comment: str) -> bool:
    return opening_kind(comment) == "keep"


def is_end(comment: str) -> bool:
    match = _CLOSE.match(comment)
    return bool(match) and match.group("kind") == "keep"


def is_wrap_end(comment: str) -> bool:
    match = _CLOSE.match(comment)
    return bool(match) and match.group("kind") == "wrap"


def is_next(comment: str) -> bool:
    return bool(_NEXT.match(comment))


def is_marker(comment: str) -> bool:
    """Any of mdsync's block markers: they are never content of their own."""
    return opening_kind(comment) is not None or bool(_CLOSE.match(comment)) or is_next(comment)


def is_inline_open(content: str) -> bool:
    return content.startswith(f"<{INLINE_TAG}") and not content.startswith(INLINE_CLOSE)


def block_region_end(tokens: Sequence[Token], index: int) -> int | None:
    """The index of the html_block closing the keep region opened at ``index`` (None: damaged)."""
    level = tokens[index].level
    depth = 0
    for position in range(index + 1, len(tokens)):
        token = tokens[position]
        if token.type != "html_block" or token.level != level:
            continue
        if opening_kind(token.content) is not None:
            depth += 1
        elif _CLOSE.match(token.content):
            if depth == 0:
                return position if is_end(token.content) else None  # closed by a wrap's end: damaged
            depth -= 1
    return None


def inline_region_end(children: Sequence[Token], index: int) -> int | None:
    depth = 0
    for position in range(index + 1, len(children)):
        token = children[position]
        if token.type != "html_inline":
            continue
        if is_inline_open(token.content):
            depth += 1
        elif token.content == INLINE_CLOSE:
            if depth == 0:
                return position
            depth -= 1
    return None


# -- fingerprints ----------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r'·\s*([0-9a-f]{12})[\s]|(?:sum|ref)="([0-9a-f]{12})"')
_BLOCK_DATA = re.compile(r"(·\s*[0-9a-f]{12}\s+)[A-Za-z0-9_\-]+=*(\s*-->)")
_INLINE_DATA = re.compile(r'(data=")[A-Za-z0-9_\-]+=*(")')
_LABEL = re.compile(r"mdsync:(?:keep|wrap)\s+([^·]*?)\s*·")


def _label_of(marker: str) -> str:
    match = _LABEL.search(marker)
    return match.group(1) if match else ""


_REF = re.compile(r'<!--\s*mdsync:(?:keep|wrap)\s[^·>]*·(?:[^·>]*·)?\s*([0-9a-f]{12})\s*-->|ref="([0-9a-f]{12})"')


def refs_in(text: str) -> set[str]:
    """The refs a file's markers hold (the self-contained markers need none)."""
    return {first or second for first, second in _REF.findall(text)}


def placeholders_in(text: str) -> list[str]:
    """The placeholders (or refs) of the markers in ``text``, in order."""
    return [first or second for first, second in _PLACEHOLDER.findall(text)]


def without_payloads(markdown: str) -> str:
    """The document with each marker's compressed copy taken out (fingerprints ignore it)."""
    return _INLINE_DATA.sub(r"\1\2", _BLOCK_DATA.sub(r"\1\2", markdown))


def nested_sums(tokens: Sequence[Token], sums: dict[str, str]) -> None:
    """Fingerprints of the keep regions found in ``tokens``, by their placeholder."""
    for index, token in enumerate(tokens):
        if token.type == "html_block" and is_begin(token.content):
            end = block_region_end(tokens, index)
            found = placeholders_in(token.content)
            if end is not None and found and found[0] not in sums:
                sums[found[0]] = fingerprint(tokens[index + 1 : end])
        children = token.children or []
        for position, child in enumerate(children):
            if child.type == "html_inline" and is_inline_open(child.content):
                end = inline_region_end(children, position)
                found = placeholders_in(child.content)
                if end is not None and found and found[0] not in sums:
                    sums[found[0]] = fingerprint(children[position + 1 : end])


def fill_placeholders(markdown: str, values: Mapping[str, str]) -> str:
    """Replace each marker's placeholder by its value (a fingerprint or a ref)."""
    def replace(found: re.Match[str]) -> str:
        placeholder = found.group(1) or found.group(2)
        return found.group(0).replace(placeholder, values.get(placeholder, placeholder))

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
        # A nested region counts by its kind and label only: what it keeps is not part of what
        # its parent says (the parent keeps its own copy of all inside).
        kind = opening_kind(content)
        if kind is not None:
            content = f"{kind} {_label_of(content)}"
    elif token.type == "html_inline" and is_inline_open(content):
        content = "keep"
    digest.update(f"{token.type}\x1f{token.tag}\x1f{token.info}\x1f{content}\x1f{token.markup}\x1f{attrs}\x1f{meta}\x1e"
                  .encode("utf-8"))
    for child in token.children or []:
        _feed(digest, child)
