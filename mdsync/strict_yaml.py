"""The one strict YAML reader: mdsync.yaml and front matter are both read through it.

It works on PyYAML's node tree (SafeLoader's composer) rather than ``yaml.safe_load``,
because that is where a reader can:

* name the line of every problem (a mark's offset mapped through the text's ``\\n``);
* see duplicate keys, which PyYAML would silently collapse to the last one;
* build only plain values: text, numbers, booleans, null, lists and mappings. Any other
  tag (``!!python/object``, ``!!binary``, local ``!tags``) is refused, and timestamps stay
  as the text they were written as;
* measure what anchors and aliases expand to *before* anything reads them, so a
  "billion laughs" text fails in microseconds instead of eating memory.

Every refusal is a :class:`StrictYamlError` holding facts (lines, texts, nodes), never a
sentence: the callers word their own messages. None of them carries PyYAML's exception,
whose text quotes the offending line (which may hold a token).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from mdsync.errors import MdsyncError

__all__ = [
    "MAX_ALIAS_CHARS",
    "MAX_ALIAS_NODES",
    "AliasExpansion",
    "BadMerge",
    "Document",
    "DuplicateKey",
    "Entry",
    "ForbiddenCharacter",
    "KeyNotPlain",
    "RecursiveAlias",
    "ScalarUnreadable",
    "StrictYamlError",
    "TagRefused",
    "TooDeep",
    "UnreadableYaml",
    "YamlSyntaxError",
    "compose",
    "short_tag",
]

# What aliases may add on top of the nodes actually written. Real files use a handful of
# aliases at most; these bounds keep an expanded document small enough for any consumer
# (JSON dumps, comparisons) while refusing exponential alias trees at once.
MAX_ALIAS_NODES = 10_000
MAX_ALIAS_CHARS = 1_000_000

_YAML = "tag:yaml.org,2002:"
STR = _YAML + "str"
NULL = _YAML + "null"
BOOL = _YAML + "bool"
INT = _YAML + "int"
FLOAT = _YAML + "float"
TIMESTAMP = _YAML + "timestamp"
VALUE = _YAML + "value"  # a lone "=": SafeLoader resolves it but cannot construct it
MERGE = _YAML + "merge"
SEQ = _YAML + "seq"
MAP = _YAML + "map"
AS_TEXT = frozenset({STR, TIMESTAMP, VALUE, MERGE})  # scalars kept as the text written
PLAIN_SCALARS = AS_TEXT | {NULL, BOOL, INT, FLOAT}


def short_tag(tag: str) -> str:
    """A tag as a user would write it: ``!!int``, ``!!python/object:os.system``, ``!local``."""
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


# --------------------------------------------------------------------------- refusals


class StrictYamlError(MdsyncError):
    """Something the strict reader refuses; ``line`` is the 1-based line it concerns."""

    def __init__(self, line: int, summary: str) -> None:
        super().__init__(f"line {line}: {summary}")
        self.line = line


class YamlSyntaxError(StrictYamlError):
    """PyYAML could not parse the text. A problem found only at the end (an unclosed quote)
    usually has its cause at ``context_line``, where the construct started."""

    def __init__(self, line: int, problem: str | None, context: str | None, problem_line: int | None,
                 context_line: int | None, at_end: bool) -> None:
        super().__init__(line, problem or context or "invalid YAML")
        self.problem = problem
        self.context = context
        self.problem_line = problem_line
        self.context_line = context_line
        self.at_end = at_end


class ForbiddenCharacter(StrictYamlError):
    """The text holds a character YAML does not allow (``character`` is its code point)."""

    def __init__(self, line: int, character: int | str | None) -> None:
        super().__init__(line, "a character YAML does not allow")
        self.character = character


class UnreadableYaml(StrictYamlError):
    """Any other failure of PyYAML; ``detail`` is its own description."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(line, "the YAML cannot be read")
        self.detail = detail


class TooDeep(StrictYamlError):
    """Lists or mappings nest deeper than Python's recursion allows."""

    def __init__(self, line: int) -> None:
        super().__init__(line, "the YAML nests too deeply")


class RecursiveAlias(StrictYamlError):
    def __init__(self, line: int) -> None:
        super().__init__(line, "an alias refers to the node that contains it")


class AliasExpansion(StrictYamlError):
    def __init__(self, line: int) -> None:
        super().__init__(line, "anchors and aliases expand into far more data than is written")


class DuplicateKey(StrictYamlError):
    def __init__(self, line: int, key: Any, first_line: int) -> None:
        super().__init__(line, f"the key {key!r} is already set on line {first_line}")
        self.key = key
        self.first_line = first_line


class BadMerge(StrictYamlError):
    """A ``<<`` merge key whose value is not a mapping or a list of mappings."""

    def __init__(self, line: int, node: yaml.Node) -> None:
        super().__init__(line, "a '<<' merge key needs a mapping or a list of mappings")
        self.node = node


class KeyNotPlain(StrictYamlError):
    """A key that is a list or a mapping; ``as_name`` when keys must be names (the top level)."""

    def __init__(self, line: int, node: yaml.Node, as_name: bool) -> None:
        super().__init__(line, "a key is not a plain value")
        self.node = node
        self.as_name = as_name


class TagRefused(StrictYamlError):
    def __init__(self, line: int, node: yaml.Node) -> None:
        super().__init__(line, f"the YAML tag '{short_tag(node.tag)}' is not allowed")
        self.node = node
        self.tag = node.tag


class ScalarUnreadable(StrictYamlError):
    """A scalar its tag cannot build, e.g. ``!!int abc`` or an integer of 5000 digits."""

    def __init__(self, line: int, node: yaml.ScalarNode) -> None:
        super().__init__(line, f"a value cannot be read as {short_tag(node.tag)}")
        self.node = node
        self.tag = node.tag


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Entry:
    """One effective key of a mapping."""

    key: Any  # what key_of made of the key node
    line: int  # the key's line
    key_node: yaml.Node
    node: yaml.Node  # the value


def compose(text: str, *, first_line: int = 1) -> Document:
    """Compose one YAML document and bound its aliases; ``first_line`` is the number of the
    text's first line (front matter starts on line 2 of its file).

    Raises a :class:`StrictYamlError` raised outside PyYAML's except blocks, so PyYAML's
    exception (which quotes the line) never rides along as its context.
    """
    document = Document(text, None, first_line)
    failure: StrictYamlError | None = None
    try:
        document.root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        failure = document.syntax_error(exc)
    except yaml.reader.ReaderError as exc:
        failure = ForbiddenCharacter(document.line(exc.position), exc.character)
    except yaml.YAMLError as exc:
        failure = UnreadableYaml(first_line, str(exc))
    except RecursionError:
        failure = TooDeep(first_line)
    if failure is not None:
        raise failure
    if document.root is not None:
        document.check_expansion(document.root)
    return document


class Document:
    """A composed YAML text: its root node, and plain values read from its nodes."""

    def __init__(self, text: str, root: yaml.Node | None, first_line: int) -> None:
        self.text = text
        self.root = root
        self.first_line = first_line
        # Count "\n" only: YAML also breaks lines at "\r", NEL and U+2028, editors may not,
        # and callers that map lines onward (front matter's body) count "\n" too.
        self._breaks = [match.start() for match in re.finditer("\n", text)]
        self._constructor = SafeConstructor()

    def line(self, index: int) -> int:
        """The line of the character at offset ``index``."""
        return self.first_line + bisect.bisect_left(self._breaks, index)

    def node_line(self, node: yaml.Node) -> int:
        return self.line(node.start_mark.index)

    def syntax_error(self, exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
        problem, context = exc.problem_mark, exc.context_mark
        problem_line = self.line(problem.index) if problem is not None else None
        context_line = self.line(context.index) if context is not None else None
        at_end = problem is None or problem.index >= len(self.text.rstrip())
        line = problem_line or context_line or self.first_line
        return YamlSyntaxError(line, exc.problem, exc.context, problem_line, context_line, at_end)

    # ----------------------------------------------------------------- aliases

    def check_expansion(self, root: yaml.Node) -> None:
        """Refuse recursive aliases and aliases that expand far beyond the text written."""
        expanded: dict[int, tuple[int, int]] = {}
        on_path: set[int] = set()
        distinct_nodes, distinct_chars = _distinct(root)
        limit_nodes = distinct_nodes + MAX_ALIAS_NODES
        limit_chars = distinct_chars + MAX_ALIAS_CHARS

        def size(node: yaml.Node) -> tuple[int, int]:
            known = expanded.get(id(node))
            if known is not None:
                return known
            if id(node) in on_path:
                raise RecursiveAlias(self.node_line(node))
            if isinstance(node, yaml.ScalarNode):
                result = (1, len(node.value))
            else:
                on_path.add(id(node))
                nodes, chars = 1, 0
                for child in _children(node):
                    child_nodes, child_chars = size(child)
                    # Capped so exponential trees stay small numbers while we count.
                    nodes = min(nodes + child_nodes, limit_nodes + 1)
                    chars = min(chars + child_chars, limit_chars + 1)
                on_path.discard(id(node))
                result = (nodes, chars)
            expanded[id(node)] = result
            if result[0] > limit_nodes or result[1] > limit_chars:
                raise AliasExpansion(self.node_line(node))
            return result

        try:
            size(root)
        except RecursionError:
            raise TooDeep(self.first_line) from None

    # ----------------------------------------------------------------- mappings

    def entries(self, node: yaml.MappingNode, key_of: Callable[[yaml.Node], Any] | None = None,
                on_problem: Callable[[StrictYamlError], None] | None = None) -> list[Entry]:
        """A mapping's effective entries: merge keys (``<<``) applied, explicit keys winning.

        ``key_of`` turns a key node into the key (default :meth:`key_text`). A duplicate key,
        a bad merge value or a key ``key_of`` refuses is raised, or, given ``on_problem``,
        handed to it and left out (the first of two duplicates is kept).
        """
        key_of = key_of or self.key_text

        def refuse(problem: StrictYamlError) -> None:
            if on_problem is None:
                raise problem
            on_problem(problem)

        sources: list[yaml.MappingNode] = []  # merged mappings, highest precedence first
        written: list[tuple[Any, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE and isinstance(key_node, yaml.ScalarNode):
                items = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for item in items:
                    if isinstance(item, yaml.MappingNode) and item.tag == MAP:
                        sources.append(item)
                    else:
                        refuse(BadMerge(self.node_line(item), item))
                continue
            try:
                key = key_of(key_node)
            except StrictYamlError as problem:
                if on_problem is None:
                    raise
                on_problem(problem)
                continue
            written.append((key, key_node, value_node))

        result: dict[Any, Entry] = {}
        for source in reversed(sources):  # later sources first, so earlier ones override them
            for entry in self.entries(source, key_of, on_problem):
                result[_hashable(entry.key)] = entry
        first_line: dict[Any, int] = {}
        for key, key_node, value_node in written:
            marker = _hashable(key)
            line = self.node_line(key_node)
            if marker in first_line:
                refuse(DuplicateKey(line, key, first_line[marker]))
                continue
            first_line[marker] = line
            result[marker] = Entry(key, line, key_node, value_node)
        return list(result.values())

    def key_text(self, node: yaml.Node) -> str:
        """A key as the name written: "yes:" or "2024:" is a name here, not a boolean or a number."""
        if not isinstance(node, yaml.ScalarNode):
            raise KeyNotPlain(self.node_line(node), node, as_name=True)
        self.scalar(node)  # refuses tags such as !!python/name on the key itself
        return str(node.value)

    def key_value(self, node: yaml.Node) -> Any:
        """A key as the plain value YAML reads (1 and "1" are different keys)."""
        if not isinstance(node, yaml.ScalarNode):
            raise KeyNotPlain(self.node_line(node), node, as_name=False)
        return self.scalar(node)

    # ----------------------------------------------------------------- values

    def value(self, node: yaml.Node) -> Any:
        """A fresh plain value for a node (aliases were bounded by compose)."""
        try:
            return self._value(node)
        except RecursionError:  # the composer coped, building the values did not
            raise TooDeep(self.first_line) from None

    def _value(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != SEQ:
                raise TagRefused(self.node_line(node), node)
            return [self._value(item) for item in node.value]
        if node.tag != MAP:
            raise TagRefused(self.node_line(node), node)
        return {entry.key: self._value(entry.node) for entry in self.entries(node, self.key_value)}

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """The plain value of a scalar: text, int, float, bool or None."""
        tag = node.tag
        if tag in AS_TEXT:
            return node.value  # timestamps stay as written: "2024-01-15", not a date
        if tag not in PLAIN_SCALARS:
            raise TagRefused(self.node_line(node), node)
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, LookupError, yaml.YAMLError):
            pass  # e.g. an integer longer than Python will convert, "!!int abc", "!!bool maybe"
        raise ScalarUnreadable(self.node_line(node), node)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return [child for pair in node.value for child in pair]


def _distinct(root: yaml.Node) -> tuple[int, int]:
    """How many nodes and characters are written, each shared node counted once."""
    seen: set[int] = set()
    stack = [root]
    nodes = chars = 0
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes += 1
        if isinstance(node, yaml.ScalarNode):
            chars += len(node.value)
        else:
            stack.extend(_children(node))
    return nodes, chars


def _hashable(key: Any) -> Any:
    # 1 and True (and 1.0) are equal in Python but different YAML keys.
    return (type(key), key)
