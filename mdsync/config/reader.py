"""The text of mdsync.yaml -> Config: the document read through mdsync.strict_yaml and
walked against the schema, every problem collected with its key and line.

Strings may refer to the environment with ``${VAR}`` or ``${VAR:-default}``; ``$${`` is a
literal ``${``. Credentials are scrubbed from every message this module builds, in case
one was pasted into the wrong key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from mdsync import strict_yaml
from mdsync.config import schema
from mdsync.config.model import (
    Config,
    ConfluenceConfig,
    PullConfig,
    SyncConfig,
    ValueOrigin,
    model_fields,
)
from mdsync.config.schema import ENV_MATON_KEY, ENV_TOKEN, IfUnset, Key
from mdsync.config.values import MASK, Invalid, Kind, Scalar, describe
from mdsync.errors import ConfigError
from mdsync.strict_yaml import StrictYamlError, short_tag
from mdsync.vocabulary import AuthMode

# Alternatives are tried left to right: the escape first, then a well-formed reference,
# then any other "${" (which is malformed).
_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\{")
_PLAIN_ONLY = "only plain text, numbers, true/false, lists and mappings are allowed, so remove the tag"
_FAILED = object()  # a value whose problem was reported


@dataclass(frozen=True)
class _Text:
    """A string value after ${VAR} interpolation."""

    value: str | None  # None when empty, or undefined by an unset ${VAR}
    unresolved: tuple[str, ...] = ()
    interpolated: bool = False


@dataclass(frozen=True)
class _Read:
    """One scalar as the file gives it, before its kind parses it."""

    scalar: Scalar | None = None  # None when null, empty, or undefined by an unset ${VAR}
    null: bool = False
    unresolved: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    key: str  # dotted name, e.g. "sync.concurrency"
    line: int  # 1-based line of the key
    node: yaml.Node


class Reader:
    """Turns one document into a Config, collecting every problem on the way."""

    def __init__(self, source: str, environ: Mapping[str, str], flags: Mapping[str, str] | None = None) -> None:
        self.source = source
        self.environ = environ
        self.flags = flags or {}
        self.problems: list[tuple[int, str]] = []
        self.secrets: set[str] = {environ[name] for name in (ENV_TOKEN, ENV_MATON_KEY) if environ.get(name)}
        self.document = strict_yaml.Document("", None, 1)
        self.auth = AuthMode(schema.AUTH.default)
        self.origins: dict[str, ValueOrigin] = {}

    def read(self, text: str, root: Path) -> Config:
        self.document = self.compose(text)
        entries = self.walk()
        # The auth mode decides other keys' defaults and environment variables.
        self.auth = self.value(schema.AUTH, entries.get(schema.AUTH.name))
        found = {key.name: self.value(key, entries.get(key.name)) for key in schema.KEYS if key is not schema.AUTH}
        found[schema.AUTH.name] = self.auth
        self.fail_if_problems()
        return self.build(found, root)

    # ----------------------------------------------------------------- reporting

    def problem(self, message: str, line: int | None = None) -> None:
        # Problems without a line sort last; the rest read top to bottom like the file.
        self.problems.append((line if line is not None else 1 << 30, message))

    def invalid(self, key: str, exc: Invalid, line: int | None, where: str | None = None) -> None:
        """Record a bad value; ``where`` replaces "line N" for values from the environment."""
        hint = f"; {exc.hint}" if exc.hint else ""
        if key in self.flags and where is None:
            self.problem(f"{self.flags[key]} {exc.text}{hint}", line)
            return
        place = where if where is not None else f"line {line}"
        self.problem(f"{key} {exc.text} ({place}){hint}", line)

    def fail_if_problems(self) -> None:
        if not self.problems:
            return
        messages = [self.scrub(m) for _, m in sorted(self.problems, key=lambda p: p[0])]
        if len(messages) == 1:
            raise ConfigError(f"{self.source}: {messages[0]}")
        listed = "\n".join(f"  - {m}" for m in messages)
        raise ConfigError(f"{self.source} has {len(messages)} problems:\n{listed}")

    def scrub(self, message: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= 4:  # masking a 1-3 character "token" would garble the text
                message = message.replace(secret, MASK)
        return message

    # ----------------------------------------------------------------- the document

    def compose(self, text: str) -> strict_yaml.Document:
        # Raised outside the except block: nothing of the YAML error rides along as __context__.
        try:
            return strict_yaml.compose(text)
        except StrictYamlError as exc:
            message = self.yaml_message(exc)
        raise ConfigError(self.scrub(message))

    def yaml_message(self, error: StrictYamlError) -> str:
        source = self.source
        if isinstance(error, strict_yaml.YamlSyntaxError):
            at = error.problem_line or error.context_line
            what = error.problem or error.context or "invalid YAML"
            if error.problem and error.context and error.context_line is not None:
                # e.g. an unclosed quote: the problem is at the end, the cause further up.
                what = f"{error.context} (line {error.context_line}), {error.problem}"
            return f"{source}: YAML syntax error{f' on line {at}' if at else ''}: {what}."
        if isinstance(error, strict_yaml.ForbiddenCharacter):
            if isinstance(error.character, int):
                return (f"{source}: line {error.line} holds a character YAML does not allow "
                        f"(#x{error.character:04x}); remove it.")
            return f"{source}: line {error.line} cannot be read as YAML text."
        if isinstance(error, strict_yaml.TooDeep):
            return f"{source}: the YAML nests lists or mappings too deeply; flatten it."
        if isinstance(error, strict_yaml.RecursiveAlias):
            return (f"{source}: an alias refers to the list or mapping that contains it (line {error.line}); "
                    "remove the alias.")
        if isinstance(error, strict_yaml.AliasExpansion):
            return (f"{source}: anchors and aliases expand into far more data than is written "
                    f"(line {error.line}); use fewer aliases.")
        return f"{source}: cannot be read as YAML."

    def walk(self) -> dict[str, _Entry]:
        """Every known key the file sets, by dotted name; unknown keys and bad sections are reported."""
        root = self.document.root
        if root is None:
            raise ConfigError(f"{self.source} is empty: it needs at least a 'space:' key "
                              "(run 'mdsync init' to write a complete one).")
        line = self.document.node_line(root)
        if not isinstance(root, yaml.MappingNode):
            raise ConfigError(self.scrub(f"{self.source}: the top level must be a mapping of keys such as 'space:' "
                                         f"and 'confluence:', got {describe(root)} (line {line})"))
        if root.tag != strict_yaml.MAP:
            raise ConfigError(f"{self.source}: the top level has the YAML tag '{short_tag(root.tag)}'; "
                              f"{_PLAIN_ONLY} (line {line})")
        found: dict[str, _Entry] = {}
        for entry in self.mapping(root, ""):
            if entry.key in schema.SECTIONS:
                found.update(self.section(entry))
            else:
                found[entry.key] = entry
        return found

    def section(self, entry: _Entry) -> dict[str, _Entry]:
        node = entry.node
        if isinstance(node, yaml.ScalarNode) and node.tag == strict_yaml.NULL:
            return {}  # "sync:" with nothing under it means "all defaults"
        if not isinstance(node, yaml.MappingNode):
            self.problem(f"{entry.key} must be a mapping of keys, got {describe(node)} (line {entry.line})", entry.line)
            return {}
        if node.tag != strict_yaml.MAP:
            self.invalid(entry.key, _tag_refused(node.tag), entry.line)
            return {}
        return {found.key: found for found in self.mapping(node, entry.key)}

    def mapping(self, node: yaml.MappingNode, section: str) -> list[_Entry]:
        """The known keys of one mapping, after reporting duplicate, malformed and unknown ones."""

        def report(error: StrictYamlError) -> None:
            self.problem(_entry_problem(error, section), error.line)

        known: list[_Entry] = []
        for entry in self.document.entries(node, self.document.key_text, on_problem=report):
            dotted = f"{section}.{entry.key}" if section else entry.key
            if entry.key not in schema.NAMES[section]:
                hint = _suggest(section, entry.key)
                suggestion = f"; did you mean '{hint}'?" if hint else ""
                self.problem(f"unknown key '{dotted}' (line {entry.line}){suggestion}", entry.line)
                continue
            known.append(_Entry(dotted, entry.line, entry.node))
        return known

    # ----------------------------------------------------------------- one key

    def value(self, key: Key, entry: _Entry | None) -> Any:
        if key.kind.item is not None:
            return self.items(key, entry)
        value, origin = self.find(key, entry, ValueOrigin(self.source, entry.line if entry else None))
        if key.if_unset is IfUnset.REMEMBER:
            self.origins[key.leaf] = origin
        if key.kind.secret and isinstance(value, str) and value:
            self.secrets.add(value)
        return value

    def find(self, key: Key, entry: _Entry | None, origin: ValueOrigin) -> tuple[Any, ValueOrigin]:
        """The value of a key from the file, else from its fallbacks; and where it came from."""
        if entry is None:
            if key.required:
                self.problem(f"{key.name} is missing: {key.required}, e.g. '{key.name}: {key.example}'")
                return None, origin
            return self.fallback(key, origin)
        try:
            read = self.read_scalar(key.kind, entry.node)
        except Invalid as exc:
            self.invalid(key.name, exc, entry.line)
            return key.default, origin
        if read.unresolved:
            if key.if_unset is IfUnset.ERROR:
                self.problem(_unset_message(key.name, entry.line, read.unresolved), entry.line)
                return key.default, origin
            if key.if_unset is IfUnset.REMEMBER:
                # The file said where the value comes from; a fallback must not stand in for it.
                return None, replace(origin, unresolved=read.unresolved)
            return self.fallback(key, origin)
        if read.null and key.null is not ...:
            return key.null, origin
        if read.scalar is None:
            if key.required:
                self.problem(f"{key.name} is empty (line {entry.line}): {key.required}, e.g. {key.example}", entry.line)
                return None, origin
            return self.fallback(key, origin)
        value = self.parse(key.kind, read.scalar, key.name, entry.line)
        return (key.default if value is _FAILED else value), origin

    def fallback(self, key: Key, origin: ValueOrigin) -> tuple[Any, ValueOrigin]:
        """The value of a key the file leaves out: the auth mode's default, the environment's, or the schema's."""
        if self.auth == AuthMode.MATON and key.maton is not None:
            return key.maton, origin
        variable = key.env_for(self.auth)
        text = self.environ.get(variable) if variable else None
        if not text:
            return key.default, origin
        value = self.parse(key.kind, Scalar(text, text, repr(text), from_env=True), key.name, None, f"from {variable}")
        return (None if value is _FAILED else value), replace(origin, env=variable)

    def items(self, key: Key, entry: _Entry | None) -> tuple[Any, ...]:
        """A list key; one item may be written without the list."""
        if entry is None:
            return tuple(key.default)
        kind, node = key.kind, entry.node
        assert kind.item is not None
        if isinstance(node, yaml.ScalarNode):
            if node.tag == strict_yaml.NULL:
                return tuple(key.default)
            items = [(node, key.name)]
        elif isinstance(node, yaml.SequenceNode) and node.tag == strict_yaml.SEQ:
            items = [(item, f"{key.name}[{i}]") for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.SequenceNode):
            self.invalid(key.name, _tag_refused(node.tag), entry.line)
            return tuple(key.default)
        else:
            self.problem(f"{key.name} must be {kind.expected}, got {describe(node)} (line {entry.line})", entry.line)
            return tuple(key.default)
        result: list[Any] = []
        for item, label in items:
            line = self.document.node_line(item)
            try:
                read = self.read_scalar(kind.item, item)
            except Invalid as exc:
                self.invalid(label, exc, line)
                continue
            if read.scalar is None:
                if read.unresolved:
                    self.problem(_unset_message(label, line, read.unresolved), line)
                else:
                    self.problem(f"{label} must be a non-empty {kind.noun} (line {line})", line)
                continue
            value = self.parse(kind.item, read.scalar, label, line)
            if value is not _FAILED:
                result.append(value)
        if not items and kind.at_least_one:
            # An empty include would silently sync nothing; say so instead.
            self.problem(f"{key.name} must list at least one {kind.noun}, e.g. '{key.default[0]}' (line {entry.line})",
                         entry.line)
            return tuple(key.default)
        return tuple(result)

    def parse(self, kind: Kind, scalar: Scalar, label: str, line: int | None, where: str | None = None) -> Any:
        try:
            return kind.parse(scalar)
        except Invalid as exc:
            self.invalid(label, exc, line, where)
            return _FAILED

    # ----------------------------------------------------------------- scalars

    def read_scalar(self, kind: Kind, node: yaml.Node) -> _Read:
        if not isinstance(node, yaml.ScalarNode):
            raise Invalid("must be a string" if kind.secret else f"must be {kind.expected}, got {describe(node)}")
        value: Any
        if kind.secret:
            # Read as typed, never built, never quoted: a token YAML reads as a number is still text.
            if node.tag not in strict_yaml.PLAIN_SCALARS:
                raise Invalid("must be plain text, without a YAML tag")
            value = None if node.tag == strict_yaml.NULL else node.value
            interpolate = node.tag == strict_yaml.STR
        else:
            value = self.plain(node)
            interpolate = isinstance(value, str)
        if value is None:
            return _Read(null=True)
        if not interpolate:
            return _Read(Scalar(value, node.value, describe(node)))
        text = self.interpolate(value)
        if text.value is None:
            return _Read(unresolved=text.unresolved)
        return _Read(Scalar(text.value, node.value, describe(node), from_env=text.interpolated))

    def plain(self, node: yaml.ScalarNode) -> Any:
        """The plain value YAML reads (text, number, boolean or None); tags are refused."""
        failure: Invalid
        try:
            return self.document.scalar(node)
        except strict_yaml.TagRefused as exc:
            failure = _tag_refused(exc.tag)
        except strict_yaml.ScalarUnreadable as exc:
            failure = Invalid(f"has a value YAML cannot read as {short_tag(exc.tag)}; quote it to keep it as text")
        raise failure

    def interpolate(self, raw: str) -> _Text:
        unresolved: list[str] = []
        undefined = False
        interpolated = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal undefined, interpolated
            whole = match.group(0)
            if whole == "$${":
                return "${"
            name = match.group("name")
            if name is None:
                raise Invalid("holds a '${' that is not a ${NAME} reference; write $${ for a literal ${")
            interpolated = True
            default = match.group("default")
            value = self.environ.get(name)
            if default is not None:
                if "${" in default:
                    raise Invalid(f"nests a reference inside the default of ${{{name}:-...}}; that is not supported")
                return value if value else default  # like the shell: unset or empty -> default
            if value is None:
                undefined = True
                unresolved.append(name)
                return ""
            if not value:
                unresolved.append(name)
            return value

        result = _REFERENCE.sub(substitute, raw)
        names = tuple(dict.fromkeys(unresolved))
        if undefined or result == "":
            return _Text(None, names, interpolated)
        return _Text(result, (), interpolated)

    # ----------------------------------------------------------------- the model

    def build(self, found: dict[str, Any], root: Path) -> Config:
        fields: dict[str, dict[str, Any]] = {"": {}, **{section: {} for section in schema.SECTIONS}}
        for key in schema.KEYS:
            value = found[key.name]
            if value is not None:
                value = key.kind.place(value, root)
            fields[key.section].update(model_fields(key, value))
        return Config(
            path=None,
            root=root,
            confluence=ConfluenceConfig(**fields["confluence"], origins=self.origins),
            sync=SyncConfig(**fields["sync"]),
            pull=PullConfig(**fields["pull"]),
            **fields[""],
        )


def _tag_refused(tag: str) -> Invalid:
    return Invalid(f"has the YAML tag '{short_tag(tag)}'; {_PLAIN_ONLY}")


def _entry_problem(error: StrictYamlError, section: str) -> str:
    """Config's wording of what the strict reader refused inside a mapping."""
    line = error.line
    if isinstance(error, strict_yaml.DuplicateKey):
        dotted = f"{section}.{error.key}" if section else error.key
        return f"duplicate key '{dotted}' on lines {error.first_line} and {line}; keep only one"
    if isinstance(error, strict_yaml.KeyNotPlain):
        return f"keys must be plain names, got {describe(error.node)} (line {line})"
    if isinstance(error, strict_yaml.TagRefused):
        return f"keys must be plain names, got one with the YAML tag '{short_tag(error.tag)}' (line {line})"
    if isinstance(error, strict_yaml.BadMerge):
        return (f"'<<' in {section or 'the top level'} must merge a mapping or a list of mappings, "
                f"got {describe(error.node)} (line {line})")
    return f"keys must be plain names, got one YAML cannot read (line {line})"


def _suggest(section: str, name: str) -> str | None:
    """The known key a misspelt or misplaced one most likely meant."""
    close = difflib.get_close_matches(name, schema.NAMES[section], n=1, cutoff=0.6)
    if close:
        return f"{section}.{close[0]}" if section else close[0]
    # A key in the wrong section, e.g. "token" at the top level.
    everywhere = {
        (f"{sec}.{key}" if sec else key): key for sec, keys in schema.NAMES.items() for key in keys if sec != section
    }
    close = difflib.get_close_matches(name, list(everywhere.values()), n=1, cutoff=0.8)
    if close:
        return next(dotted for dotted, key in everywhere.items() if key == close[0])
    return None


def _unset_message(key: str, line: int, unresolved: tuple[str, ...]) -> str:
    names = " and ".join(unresolved)
    refs = ", ".join("${" + n + "}" for n in unresolved)
    return f"{key} is empty: export {names} (line {line} refers to {refs})"
