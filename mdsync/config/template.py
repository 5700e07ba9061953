"""mdsync.yaml files written from the schema: the documented example and what ``mdsync init`` writes.

Regenerate the checked-in example with ``python -m mdsync.config.template > mdsync.yaml.example``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

import yaml

from mdsync.config.schema import KEYS, Key, Written
from mdsync.vocabulary import AuthMode

EXAMPLE_HEADER = (
    "mdsync.yaml: how mdsync connects a folder of Markdown files to a Confluence page tree.",
    "Copy this file to mdsync.yaml next to your docs folder and adjust it.",
    "Strings may use ${VAR} (an environment variable) or ${VAR:-default}; write $${ for a",
    'literal "${". Keep credentials in the environment, never in this file.',
)
INIT_HEADER = (
    "Written by mdsync init. Every key is here with what it does; a key commented out is",
    "left at its default, shown: remove its # (and its section's) to set it.",
)


def example_text() -> str:
    """mdsync.yaml.example: every key with its comment and an example value."""
    return _document(EXAMPLE_HEADER, KEYS, lambda key: key.example if key.example is not None else _default(key))


def init_text(auth: AuthMode, answers: Mapping[str, str | None]) -> str:
    """The mdsync.yaml ``mdsync init`` writes from its answers (keyed by dotted name): every key
    of this auth mode with its comment, those init does not answer commented out at their
    defaults, so that the file explains itself wherever mdsync was installed from.

    The token is written as a ${VAR} reference, never as itself.
    """
    def value(key: Key) -> str | None:
        if key.init is None:
            return None
        comment = f"   # {key.init_comment}" if key.init_comment else ""
        return _init_value(key, auth, answers.get(key.name)) + comment

    return _document(INIT_HEADER, [key for key in KEYS if not key.modes or auth in key.modes], value)


def _document(header: Iterable[str], keys: Iterable[Key], value: Callable[[Key], str | None]) -> str:
    """A commented mdsync.yaml: the header, then each key under its comment with ``value(key)``,
    or commented out at its default where that is None (a section all commented out, too)."""
    lines = [f"# {line}" for line in header]
    for section, members in _layout(keys):
        values = [value(key) for key in members]
        lines.append("")
        if section:
            lines.append(f"{section}:" if any(text is not None for text in values) else f"# {section}:")
        for position, (key, text) in enumerate(zip(members, values)):
            indent = "  " if section else ""
            if position:
                lines.append("")
            lines += [f"{indent}# {line}".rstrip() for line in key.doc]
            lines.append(f"{indent}{key.leaf}: {text}" if text is not None
                         else f"{indent}# {key.leaf}: {_default(key)}")
    return "\n".join(lines) + "\n"


def _default(key: Key) -> str:
    return yaml_text(key.kind.show(key.default))


def _init_value(key: Key, auth: AuthMode, answer: str | None) -> str:
    reference = "${" + str(key.env_for(auth)) + "}"
    if key.init is Written.ENV:
        return reference
    if key.init is Written.ANSWER_OR_ENV:
        return answer if answer else reference
    if key.init is Written.QUOTED:
        return _quoted(answer) if answer else "null"
    if key.init is Written.DEFAULT:
        return _default(key)
    return str(answer)


def _layout(keys: Iterable[Key]) -> list[tuple[str, list[Key]]]:
    """Top-level items in the schema's order: a section with its keys, or a key alone ("")."""
    items: dict[str, tuple[str, list[Key]]] = {}
    for key in keys:
        item = key.section or key.name
        items.setdefault(item, (key.section, []))[1].append(key)
    return list(items.values())


def yaml_text(value: Any) -> str:
    """A default as YAML text: plain where YAML reads it back the same, else quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    text = str(value)
    return text if isinstance(value, (int, float)) or yaml.safe_load(text) == value else _quoted(text)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


if __name__ == "__main__":
    print(example_text(), end="")
