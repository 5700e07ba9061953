"""mdsync.yaml files written from the schema: the documented example and what ``mdsync init`` writes.

Regenerate the checked-in example with ``python -m mdsync.config.template > mdsync.yaml.example``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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
INIT_HEADER = "# Written by mdsync init. Every key is explained in mdsync.yaml.example."


def example_text() -> str:
    """mdsync.yaml.example: every key with its comment and an example value."""
    lines = [f"# {line}" for line in EXAMPLE_HEADER]
    for section, keys in _layout(KEYS):
        lines.append("")
        if section:
            lines.append(f"{section}:")
        for position, key in enumerate(keys):
            indent = "  " if section else ""
            if position:
                lines.append("")
            lines += [f"{indent}# {line}".rstrip() for line in key.doc]
            example = key.example if key.example is not None else yaml_text(key.kind.show(key.default))
            lines.append(f"{indent}{key.leaf}: {example}")
    return "\n".join(lines) + "\n"


def init_text(auth: AuthMode, answers: Mapping[str, str | None]) -> str:
    """The mdsync.yaml ``mdsync init`` writes from its answers (keyed by dotted name).

    The token is written as a ${VAR} reference, never as itself.
    """
    lines = [INIT_HEADER]
    written = [key for key in KEYS if key.init is not None and (not key.modes or auth in key.modes)]
    for section, keys in _layout(written):
        if section:
            lines.append(f"{section}:")
        for key in keys:
            indent = "  " if section else ""
            comment = f"   # {key.init_comment}" if key.init_comment else ""
            lines.append(f"{indent}{key.leaf}: {_init_value(key, auth, answers.get(key.name))}{comment}")
    return "\n".join(lines) + "\n"


def _init_value(key: Key, auth: AuthMode, answer: str | None) -> str:
    reference = "${" + str(key.env_for(auth)) + "}"
    if key.init is Written.ENV:
        return reference
    if key.init is Written.ANSWER_OR_ENV:
        return answer if answer else reference
    if key.init is Written.QUOTED:
        return _quoted(answer) if answer else "null"
    if key.init is Written.DEFAULT:
        return yaml_text(key.kind.show(key.default))
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
