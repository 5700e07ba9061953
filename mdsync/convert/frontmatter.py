"""YAML front matter: split it from a Markdown file, validate the keys mdsync knows, and
write it back unchanged.

A block opens with ``---`` on the very first line (a UTF-8 BOM may come before it) and
closes with ``---`` or ``...`` on a line of its own. The exact text of both fences and of
the YAML between them is kept, so ``join_front_matter(*split_front_matter(x)) == x`` for
every file that splits: a sync must never rewrite a file just because it read it.

The YAML is read through :mod:`mdsync.strict_yaml`, the reader mdsync.yaml uses too: every
problem names its file line, duplicate keys are refused, only plain values are built (any
other tag is refused, timestamps stay text) and aliases are bounded before anything is
built. This module words those refusals for front matter and validates the known keys.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from mdsync import strict_yaml
from mdsync.errors import MdsyncError
from mdsync.strict_yaml import StrictYamlError, short_tag

__all__ = [
    "FrontMatter",
    "FrontMatterError",
    "join_front_matter",
    "split_front_matter",
    "with_updates",
]

PAGE_TYPES = ("page", "blogpost")
MAX_TITLE_LENGTH = 255  # Confluence refuses longer titles
MAX_LABEL_LENGTH = 255  # ... and longer labels

_BOM = "\ufeff"
_OPENING = re.compile(r"---[ \t]*(\r?\n|\Z)")
_CLOSING = re.compile(r"(?:---|\.\.\.)[ \t]*\r?\n?")
# Characters Confluence refuses in a label (besides whitespace).
_LABEL_FORBIDDEN = frozenset("!#&()*,.:;<>?@[]^")
_TRAILING_COMMENT = re.compile(r"[ \t]+#[^\r\n]*")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a UTF-16 pair: not a character UTF-8 can encode

_STR = strict_yaml.STR
_NULL = strict_yaml.NULL
_BOOL = strict_yaml.BOOL
_INT = strict_yaml.INT
_FLOAT = strict_yaml.FLOAT
_TIMESTAMP = strict_yaml.TIMESTAMP
_TEXTUAL = strict_yaml.AS_TEXT | {_INT, _FLOAT}  # scalars whose written text can serve as a title or label


class FrontMatterError(MdsyncError):
    """A front matter block is opened but cannot be read; ``line`` is the 1-based file line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class FrontMatter:
    """The front matter of one Markdown file. ``FrontMatter()`` means "none"."""

    data: dict[str, Any] = field(default_factory=dict)
    raw: str = ""
    line_count: int = 0
    title: str | None = None
    labels: tuple[str, ...] = ()
    page_id: str | None = None
    parent: str | None = None
    type: str = "page"
    order: int | None = None  # the page's place among its siblings
    problems: tuple[str, ...] = ()
    # The fences exactly as written (BOM and line ending included), so join can restore
    # them byte for byte; a block made from scratch gets plain "---" lines.
    opening_fence: str = "---\n"
    closing_fence: str = "---\n"

    @property
    def present(self) -> bool:
        """True when the file has (or join will write) a front matter block."""
        return self.line_count > 0 or bool(self.raw)


# --------------------------------------------------------------------------- public API


def split_front_matter(text: str) -> tuple[FrontMatter, str]:
    """Split ``text`` into its front matter and the Markdown body after it.

    Without front matter the body is ``text`` itself. Raises :class:`FrontMatterError`
    when the first line opens a block that is unclosed or does not hold a YAML mapping of
    plain values.
    """
    bom = _BOM if text.startswith(_BOM) else ""
    opening = _OPENING.match(text, len(bom))
    if opening is None:
        return FrontMatter(), text
    start = position = opening.end()
    if opening.group(1):  # "---" with nothing after it cannot be closed
        while position < len(text):
            newline = text.find("\n", position)
            end = len(text) if newline == -1 else newline + 1
            if _CLOSING.fullmatch(text, position, end):
                front = _build(text[start:position], text[: opening.end()], text[position:end])
                return front, text[end:]
            position = end
    raise FrontMatterError(
        "front matter line 1: the '---' that opens the front matter is never closed; add a "
        "line with only '---' after the YAML (or write a thematic break at the top as '***').",
        1,
    )


def join_front_matter(front: FrontMatter | None, body: str) -> str:
    """Put a front matter block back in front of ``body``; exact inverse of the split."""
    if front is None or not front.present:
        return body
    newline = "\r\n" if front.opening_fence.endswith("\r\n") else "\n"
    raw = front.raw
    if raw and not raw.endswith("\n"):  # a hand-made raw: keep the closing fence on its own line
        raw += newline
    closing = front.closing_fence
    if body and not closing.endswith("\n"):  # split only leaves this when the body was empty
        closing += newline
    return front.opening_fence + raw + closing + body


def with_updates(front: FrontMatter, **changes: Any) -> FrontMatter:
    """Return ``front`` with keys set, or removed where the value is ``None``.

    Only the lines of changed keys are rewritten: other keys, comments and the key order
    stay as written, and new keys go at the end. When the text cannot be edited in place
    (a flow mapping, anchors used elsewhere, merge keys), the whole block is rewritten from
    the data. Either way the result splits back into exactly the updated data.
    Raises ``TypeError`` for values that are not plain YAML data.
    """
    expected = dict(front.data)
    effective: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            if key in expected:
                del expected[key]
                effective[key] = None
            continue
        value = _plain(value, key)
        if key in expected and _same(expected[key], value):
            continue  # unchanged: leave its text exactly as written
        expected[key] = value
        effective[key] = value
    if not effective:
        return front
    if not front.present and not expected:
        return FrontMatter()

    crlf = front.opening_fence.endswith("\r\n") or front.raw.endswith("\r\n")
    newline = "\r\n" if crlf else "\n"
    opening = front.opening_fence
    closing = front.closing_fence if front.present else "---" + newline
    if not front.present and crlf:
        opening = "---\r\n"

    candidates = [_edit_raw(front.raw, effective, newline), _dump(expected, newline)]
    for raw in candidates:
        if raw is None or any(_CLOSING.fullmatch(line) for line in _lines(raw)):
            continue  # (a line that reads as a fence would end the block early)
        try:
            result = _build(raw, opening, closing)
        except FrontMatterError:
            continue
        if _same(result.data, expected):
            return result
    raise ValueError(f"the updated front matter cannot be written as YAML that reads back the same: {sorted(effective)}")


# --------------------------------------------------------------------------- reading


def _build(raw: str, opening: str, closing: str) -> FrontMatter:
    """Read the YAML between the fences into a FrontMatter (raw starts on file line 2)."""
    failure: StrictYamlError | None = None
    try:
        document = strict_yaml.compose(raw, first_line=2)
        entries = _top_entries(document)
        data = {entry.key: document.value(entry.node) for entry in entries}
    except StrictYamlError as exc:
        failure = exc
    if failure is not None:
        raise _refusal(failure)
    _refuse_lone_surrogates(document, entries)
    views = _Views(document, entries)
    return FrontMatter(
        data=data,
        raw=raw,
        line_count=2 + raw.count("\n"),
        title=views.title,
        labels=views.labels,
        page_id=views.page_id,
        parent=views.parent,
        type=views.type,
        order=views.order,
        problems=tuple(message for _, message in sorted(views.problems, key=lambda p: p[0])),
        opening_fence=opening,
        closing_fence=closing,
    )


def _top_entries(document: strict_yaml.Document) -> list[strict_yaml.Entry]:
    """The top-level entries, in order; their keys are the text written."""
    root = document.root
    if root is None:
        return []  # empty, or only comments
    if isinstance(root, yaml.MappingNode) and root.tag != strict_yaml.MAP:
        raise strict_yaml.TagRefused(document.node_line(root), root)
    if not isinstance(root, yaml.MappingNode):
        raise _fail(
            document.node_line(root),
            f"the block must be a mapping of keys such as 'title: ...', got {_describe(root)}.",
        )
    return document.entries(root, document.key_text)


def _refuse_lone_surrogates(document: strict_yaml.Document, entries: list[strict_yaml.Entry]) -> None:
    """A YAML escape such as "\\uD800" makes half a UTF-16 pair, which no UTF-8 request (nor
    file) can hold: the file is refused by name, not left to fail the whole run."""
    for entry in entries:
        found = _lone_surrogate(entry.key_node) or _lone_surrogate(entry.node)
        if found is not None:
            node, character = found
            key = str(entry.key)
            what = "a key" if _LONE_SURROGATE.search(key) else f"{key!r}"
            raise _fail(document.node_line(node), f"{what} has a character that cannot be sent: a lone surrogate "
                                                  f"U+{ord(character):04X}; fix the front matter (write the character "
                                                  "itself, not an escape of half of it).")


def _lone_surrogate(node: yaml.Node) -> tuple[yaml.Node, str] | None:
    """The first scalar under ``node`` holding a lone surrogate, and that character."""
    pending, seen = [node], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue  # an alias met again
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            if (match := _LONE_SURROGATE.search(current.value)) is not None:
                return current, match.group()
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            pending.extend(item for pair in reversed(current.value) for item in reversed(pair))
    return None


def _fail(line: int, message: str) -> FrontMatterError:
    return FrontMatterError(f"front matter line {line}: {message}", line)


def _refusal(error: StrictYamlError) -> FrontMatterError:
    """Front matter's wording of what the strict reader refused."""
    line = error.line
    if isinstance(error, strict_yaml.YamlSyntaxError):
        return _syntax_error(error)
    if isinstance(error, strict_yaml.ForbiddenCharacter):
        what = f"#x{error.character:04x}" if isinstance(error.character, int) else repr(error.character)
        return _fail(line, f"the line holds a character YAML does not allow ({what}); remove it.")
    if isinstance(error, strict_yaml.UnreadableYaml):
        return _fail(line, f"the YAML is not valid ({error.detail}); fix it.")
    if isinstance(error, strict_yaml.TooDeep):
        return _fail(line, "the YAML nests lists or mappings too deeply; flatten it.")
    if isinstance(error, strict_yaml.RecursiveAlias):
        return _fail(line, "an alias refers to the list or mapping that contains it; front matter cannot be recursive.")
    if isinstance(error, strict_yaml.AliasExpansion):
        return _fail(line, "anchors and aliases expand into far more data than is written; use fewer aliases.")
    if isinstance(error, strict_yaml.DuplicateKey):
        return _fail(line, f"the key {error.key!r} is already set on line {error.first_line} of the same mapping; "
                           "keep only one.")
    if isinstance(error, strict_yaml.BadMerge):
        return _fail(line, f"a '<<' merge key needs a mapping or a list of mappings, got {_describe(error.node)}.")
    if isinstance(error, strict_yaml.KeyNotPlain):
        what = "names" if error.as_name else "values"
        return _fail(line, f"keys must be plain {what}, got {_describe(error.node)}.")
    if isinstance(error, strict_yaml.TagRefused):
        return _fail(line, f"the YAML tag '{short_tag(error.tag)}' is not allowed; front matter holds only text, "
                           "numbers, true/false, lists and mappings, so remove the tag.")
    if isinstance(error, strict_yaml.ScalarUnreadable):
        return _fail(line, f"{error.node.value[:40]!r} cannot be read as {short_tag(error.tag)}; quote it to keep "
                           "it as text.")
    return _fail(line, f"the YAML cannot be read ({error}); fix it.")


def _syntax_error(error: strict_yaml.YamlSyntaxError) -> FrontMatterError:
    # An unclosed quote, bracket or key is only noticed further down (often at the end
    # of the block); the line that needs fixing is where that construct started.
    # "while parsing a block mapping" is different: its start says nothing useful.
    starts_there = bool(error.context) and error.context.startswith(("while scanning", "while parsing a flow"))
    at_context = error.context_line is not None and (starts_there or error.at_end)
    line = error.context_line if at_context else error.problem_line or error.context_line
    line = line if line is not None else error.line
    what = error.problem or error.context or "invalid YAML"
    if error.problem and not error.at_end and at_context and error.problem_line != line:
        what = f"{error.problem} on line {error.problem_line}"
    if error.problem and error.context:
        what = f"{what} ({error.context})"
    return _fail(line, f"invalid YAML: {what}; fix the YAML syntax there.")


def _describe(node: yaml.Node) -> str:
    """How a value of the wrong kind is named in a message."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag
    if tag == _NULL:
        return "nothing (null)"
    if tag == _BOOL:
        return f"the boolean {node.value}"
    if tag in (_INT, _FLOAT):
        return f"the number {node.value}"
    if tag == _TIMESTAMP:
        return f"the date {node.value}"
    if tag == _STR:
        return repr(node.value)
    return f"a value tagged '{short_tag(tag)}'"


class _Views:
    """Validates the keys mdsync knows; problems are kept, never raised."""

    def __init__(self, document: strict_yaml.Document, entries: list[strict_yaml.Entry]) -> None:
        self.document = document
        self.problems: list[tuple[int, str]] = []
        self.title: str | None = None
        self.labels: tuple[str, ...] = ()
        self.page_id: str | None = None
        self.parent: str | None = None
        self.type = "page"
        self.order: int | None = None
        keys = {entry.key for entry in entries}
        label_key = "labels" if "labels" in keys else "tags"
        for entry in entries:
            key, line, node = entry.key, entry.line, entry.node
            if key == "title":
                self.title = self._title(line, node)
            elif key == label_key:
                self.labels = self._labels(key, line, node)
            elif key == "page_id":
                self.page_id = self._page_id(line, node)
            elif key == "parent":
                self.parent = self._text(key, line, node, "a page title")
            elif key == "type":
                self.type = self._type(line, node)
            elif key == "order":
                self.order = self._order(line, node)

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, f"front matter line {line}: {message}"))

    def _text(self, key: str, line: int, node: yaml.Node, expected: str) -> str | None:
        """Text, or a number as it was written (a title "2024" or "1.10" is still a title)."""
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _NULL:
                return None
            if node.tag in _TEXTUAL:
                return node.value.strip() or None
        self.problem(line, f"{key} must be {expected}, got {_describe(node)}.")
        return None

    def _order(self, line: int, node: yaml.Node) -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return None
        value = self.document.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
            return value
        self.problem(line, f"order must be a whole number (0 or more) that places the page among its siblings, "
                           f"got {_describe(node)}.")
        return None

    def _title(self, line: int, node: yaml.Node) -> str | None:
        wrong_kind = len(self.problems)
        title = self._text("title", line, node, "text")
        if title is None and len(self.problems) == wrong_kind:
            self.problem(line, "title is empty; write the page title after 'title:' or remove the key.")
        elif title is not None and len(title) > MAX_TITLE_LENGTH:
            self.problem(line, f"title is {len(title)} characters long; Confluence allows at most {MAX_TITLE_LENGTH}.")
            return None
        return title

    def _labels(self, key: str, line: int, node: yaml.Node) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return ()
        items: list[tuple[int, str]] = []
        if isinstance(node, yaml.ScalarNode) and node.tag in _TEXTUAL:
            items = [(line, piece) for piece in node.value.split(",") if piece.strip()]
        elif isinstance(node, yaml.SequenceNode):
            for number, item in enumerate(node.value, start=1):
                item_line = self.document.node_line(item)
                if isinstance(item, yaml.ScalarNode) and item.tag in _TEXTUAL:
                    if not item.value.strip():
                        self.problem(item_line, f"{key} item {number} is empty; remove it.")
                    else:
                        items.append((item_line, item.value))
                else:
                    self.problem(item_line, f"{key} item {number} must be a word, got {_describe(item)}.")
        else:
            self.problem(line, f"{key} must be a list of words, got {_describe(node)}.")
            return ()

        labels: dict[str, None] = {}
        refused: set[str] = set()
        for item_line, text in items:
            label = text.strip().lower()  # Confluence stores labels lower-cased
            if label in labels or label in refused:
                continue
            reason = _label_problem(label)
            if reason is not None:
                refused.add(label)
                self.problem(item_line, f"{key} entry {label!r} {reason}, which Confluence does not allow in a label.")
                continue
            labels[label] = None
        return tuple(labels)

    def _page_id(self, line: int, node: yaml.Node) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag in (_STR, _INT):
            text = node.value.strip()
            if not text:
                return None
            if text.isascii() and text.isdigit():
                return text
            self.problem(line, f"page_id must be a Confluence page id made of digits, got {text!r}.")
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return None
        self.problem(line, f"page_id must be a Confluence page id such as \"12345\", got {_describe(node)}.")
        return None

    def _type(self, line: int, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return "page"
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value.strip().lower() in PAGE_TYPES:
            return node.value.strip().lower()
        self.problem(line, f"type must be 'page' or 'blogpost', got {_describe(node)}; using 'page'.")
        return "page"


def _label_problem(label: str) -> str | None:
    if len(label) > MAX_LABEL_LENGTH:
        return f"is {len(label)} characters long (at most {MAX_LABEL_LENGTH})"
    if any(ch.isspace() for ch in label):
        return "contains a space"
    bad = sorted({ch for ch in label if ch in _LABEL_FORBIDDEN})
    if bad:
        return "contains " + " ".join(repr(ch) for ch in bad)
    return None


# --------------------------------------------------------------------------- writing


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain YAML data (tuples become lists, dates their ISO text)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()  # front matter keeps dates as text
    if isinstance(value, (list, tuple)):
        return [_plain(item, where) for item in value]
    if isinstance(value, Mapping):
        result: dict[Any, Any] = {}
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, bool, int, float))):
                raise TypeError(f"front matter key {where!r}: mapping keys must be text or numbers, got {type(key).__name__}")
            result[key] = _plain(item, where)
        return result
    raise TypeError(f"front matter key {where!r}: {type(value).__name__} cannot be written as YAML")


def _same(a: Any, b: Any) -> bool:
    """Equal as front matter: same types (True is not 1), same key order, NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice, never as &anchor/*alias

    def represent_str(self, data: str) -> yaml.ScalarNode:
        # Multi-line text reads best as a "|" block; the emitter falls back to quotes
        # when the text cannot be a block (trailing spaces, control characters).
        # PyYAML writes NEL and the Unicode line/paragraph separators raw inside plain or
        # single-quoted text, where they read back as line breaks; double quotes escape them.
        if any(ch in data for ch in "\x85\u2028\u2029\ufeff"):
            return self.represent_scalar(_STR, data, style='"')
        # Text ending in blank lines would need "|+", after which PyYAML ends the document
        # with a "..." line, and that line would close our block early.
        literal = "\n" in data and data.strip() != "" and not data.endswith("\n\n")
        return self.represent_scalar(_STR, data, style="|" if literal else None)


_Dumper.add_representer(str, _Dumper.represent_str)


def _to_yaml(data: dict[Any, Any], newline: str) -> str:
    """Block style at the top, flow style for lists and mappings of plain values
    (``labels: [setup, linux]``), no line wrapping."""
    stream = io.StringIO()
    dumper = _Dumper(stream, default_flow_style=None, allow_unicode=True, width=math.inf, sort_keys=False)
    try:
        dumper.open()
        node = dumper.represent_data(data)
        node.flow_style = False  # default_flow_style=None would write {title: x} for a flat mapping
        dumper.serialize(node)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue().replace("\n", newline)


def _render(key: str, value: Any, newline: str) -> list[str]:
    return re.findall(r"[^\n]*\n", _to_yaml({key: value}, newline))


def _dump(data: dict[str, Any], newline: str) -> str:
    return _to_yaml(data, newline) if data else ""


def _edit_raw(raw: str, changes: dict[str, Any], newline: str) -> str | None:
    """Rewrite only the lines of the changed top-level keys; None when that is not safe."""
    try:
        composed = strict_yaml.compose(raw, first_line=0)  # lines numbered from 0, as indexes into _lines(raw)
    except StrictYamlError:
        return None
    document, line_of = composed.root, composed.line
    lines = _lines(raw)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    spans: dict[str, tuple[int, int, yaml.Node]] = {}  # key -> (first line, end line, value)
    order: list[tuple[int, int]] = []
    column = 0
    if document is not None:
        if not isinstance(document, yaml.MappingNode) or document.flow_style:
            return None
        keys: list[tuple[str, int, yaml.Node]] = []
        for position, (key_node, value_node) in enumerate(document.value):
            if not isinstance(key_node, yaml.ScalarNode):
                return None
            first = line_of(key_node.start_mark.index)
            col = key_node.start_mark.index - starts[first]
            if position == 0:
                column = col
            # Each key must begin its own line at the mapping's column (no "? " keys).
            if col != column or lines[first][:col].strip() or key_node.value in spans:
                return None
            if keys and first <= keys[-1][1]:
                return None
            keys.append((key_node.value, first, value_node))
            spans[key_node.value] = (first, first, value_node)
        for position, (key, first, value_node) in enumerate(keys):
            end = keys[position + 1][1] if position + 1 < len(keys) else len(lines)
            # Blank lines and comments at the key's indentation before the next key belong
            # to what follows, not to this value.
            while end - 1 > first and _is_gap(lines[end - 1], column):
                end -= 1
            spans[key] = (first, end, value_node)
            order.append((first, end))

    replaced: dict[int, list[str]] = {}  # first line of a span -> its new lines
    for key, value in changes.items():
        if key not in spans:
            continue
        first, end, value_node = spans[key]
        new = [] if value is None else _indent(_render(key, value, newline), column)
        if len(new) == 1 and end - first == 1:
            new[0] = new[0][: -len(newline)] + _comment_after(lines[first], value_node, starts[first]) + newline
        replaced[first] = new

    out: list[str] = []
    index = 0
    span_end = {first: end for first, end in order}
    while index < len(lines):
        if index in replaced:
            out.extend(replaced[index])
            index = span_end[index]
        else:
            out.append(lines[index])
            index += 1
    if out and not out[-1].endswith("\n"):
        out[-1] += newline
    for key, value in changes.items():
        if key not in spans and value is not None:
            out.extend(_indent(_render(key, value, newline), column))
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines with their endings; only "\n" ends a line, as in the fence scan."""
    return re.findall(r"[^\n]*\n|[^\n]+", text)


def _is_gap(line: str, column: int) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    return stripped.startswith("#") and len(line) - len(line.lstrip(" ")) <= column


def _indent(lines: list[str], column: int) -> list[str]:
    return [" " * column + line for line in lines] if column else lines


def _comment_after(line: str, value_node: yaml.Node, line_start: int) -> str:
    """The ``  # comment`` after a one-line value, so changing the value keeps it."""
    rest = line[value_node.end_mark.index - line_start :].rstrip("\r\n")
    return rest if _TRAILING_COMMENT.fullmatch(rest) else ""

