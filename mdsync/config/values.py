"""The kinds of value mdsync.yaml holds: one small parser per kind.

A parser takes a :class:`Scalar` (the value after ``${VAR}`` interpolation, or the number
or boolean YAML read) and returns what the configuration keeps, or raises :class:`Invalid`
whose text continues a sentence that starts with the key's name ("must be ..., got ...").
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mdsync import strict_yaml

MASK = "********"

_SPACE_KEY = re.compile(r"[A-Za-z0-9_]+")
# Personal space keys are "~" plus a user name or account id, which may hold ":" or "-".
_PERSONAL_SPACE_KEY = re.compile(r"~[A-Za-z0-9_:\-]+")
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
_DIGITS = re.compile(r"\s*\d+\s*")


class Invalid(Exception):
    """One bad value. ``text`` follows the key's name; ``hint`` follows the line ("did you mean")."""

    def __init__(self, text: str, hint: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.hint = hint


@dataclass(frozen=True)
class Scalar:
    """One value as a parser sees it."""

    value: str | int | float | bool  # text after interpolation, or the number or boolean YAML read
    written: str  # the text as typed: YAML reads "0123" as the octal 83, a page id is "0123"
    described: str  # how a message quotes the value as typed (see describe)
    from_env: bool = False  # the text came from the environment (a ${VAR}, or a fallback variable)


@dataclass(frozen=True)
class Kind:
    """What a key may hold and how it is read, kept and shown."""

    expected: str  # what the value must be: "must be {expected}, got ..."
    parse: Callable[[Scalar], Any]
    show: Callable[[Any], Any] = lambda value: value  # the model's value as Config.redacted() shows it
    place: Callable[[Any, Path], Any] = lambda value, root: value  # what the model keeps, given the config's folder
    choices: tuple[str, ...] = ()
    item: Kind | None = None  # for a list: the kind of each item
    noun: str = ""  # for a list: what one item is called
    at_least_one: bool = False  # for a list: an empty one is refused
    secret: bool = False  # never quoted in a message; masked by show


def describe(node: yaml.Node) -> str:
    """How a wrong value is quoted in a message: as the user typed it."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag
    if tag == strict_yaml.NULL:
        return "null"
    if tag == strict_yaml.BOOL:
        return f"the boolean {node.value}"
    if tag in (strict_yaml.INT, strict_yaml.FLOAT):
        return str(node.value)
    return repr(node.value)


# --------------------------------------------------------------------------- kinds


def text(expected: str) -> Kind:
    """Any text (cloud_id, connection, email)."""

    def parse(scalar: Scalar) -> str:
        if isinstance(scalar.value, str):
            return scalar.value
        raise Invalid(f"must be {expected}, got {scalar.described}")

    return Kind(expected, parse)


def choice(vocabulary: type[StrEnum]) -> Kind:
    """One word of a vocabulary; a near miss gets a suggestion."""
    choices = tuple(str(member) for member in vocabulary)
    expected = "one of " + ", ".join(choices)

    def parse(scalar: Scalar) -> StrEnum:
        value = scalar.value
        if not isinstance(value, str):
            raise Invalid(f"must be {expected}, got {scalar.described}")
        if value in choices:
            return vocabulary(value)
        close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
        raise Invalid(f"must be {expected}, got {value!r}", f"did you mean '{close[0]}'?" if close else "")

    return Kind(expected, parse, choices=choices)


def bounded_integer(low: int, high: int) -> Kind:
    """A whole number from low to high. Text is refused, even '8', unless a ${VAR} supplied it:
    the environment only ever holds text."""
    expected = "a positive integer" if low >= 1 else "a whole number"

    def parse(scalar: Scalar) -> int:
        value = scalar.value
        if isinstance(value, str):
            if not (scalar.from_env and _DIGITS.fullmatch(value)):
                raise Invalid(f"must be {expected}, got {value!r}")
            value = int(value)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be {expected}, got {scalar.described}")
        if not low <= value <= high:
            raise Invalid(f"must be between {low} and {high}, got {value}")
        return value

    return Kind(expected, parse)


def positive_number(expected: str) -> Kind:
    """A finite number above zero; from a ${VAR}, the text of one."""

    def parse(scalar: Scalar) -> float:
        value = scalar.value
        if isinstance(value, str):
            number = _float(value) if scalar.from_env else None
            if number is None:
                raise Invalid(f"must be {expected}, got {value!r}")
            value = number
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"must be {expected}, got {scalar.described}")
        if not math.isfinite(value) or value <= 0:
            raise Invalid(f"must be {expected}, got {scalar.described}")
        return float(value)

    return Kind(expected, parse)


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _share_or_count(scalar: Scalar) -> tuple[float | None, int | None]:
    """(share, count): "20%" is a share of the pages, a whole number a count of them."""
    expected = SHARE_OR_COUNT.expected
    value = scalar.value
    if isinstance(value, str):
        percent = _PERCENT.fullmatch(value)
        if percent:
            share = float(percent.group(1))
            if share > 100:
                raise Invalid(f"must be a share from 0% to 100%, got {value!r}")
            return share / 100, None
        if _DIGITS.fullmatch(value):
            return None, int(value)
        raise Invalid(f"must be {expected}, got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise Invalid(f"must not be negative, got {value}")
        return None, value
    raise Invalid(f"must be {expected}, got {scalar.described}")


def _show_share_or_count(value: tuple[float | None, int | None]) -> int | str | None:
    share, count = value
    if count is not None:
        return count
    return f"{share * 100:g}%" if share is not None else None


def _as_text(scalar: Scalar, expected: str) -> str:
    """Text, or a whole number as it was typed."""
    if isinstance(scalar.value, str):
        return scalar.value
    if isinstance(scalar.value, int) and not isinstance(scalar.value, bool):
        return scalar.written
    raise Invalid(f"must be {expected}, got {scalar.described}")


def _space_key(scalar: Scalar) -> str:
    key = _as_text(scalar, SPACE_KEY.expected).strip()
    if not (_SPACE_KEY.fullmatch(key) or _PERSONAL_SPACE_KEY.fullmatch(key)):
        raise Invalid(f"must be a space key (letters, digits and _, or ~name for a personal space), got {key!r}")
    return key


def _page(scalar: Scalar) -> str | None:
    return _as_text(scalar, PAGE.expected).strip() or None


def _secret(scalar: Scalar) -> str:
    # A token YAML happens to read as a number or a boolean is still the text typed.
    return scalar.value if isinstance(scalar.value, str) else scalar.written


def _url(scalar: Scalar) -> str:
    if not isinstance(scalar.value, str):
        raise Invalid(f"must be {URL.expected}, got {scalar.described}")
    return normalize_url(scalar.value)


def _folder(value: str, root: Path) -> Path:
    # normpath, not resolve(): keep symlinks as the user wrote them.
    return Path(os.path.normpath(root / value))


def _with_scheme(url: str) -> str:
    """"did you mean" for a URL typed without its scheme (``127.0.0.1:8090``, ``x.atlassian.net``)."""
    if "://" in url or not url:
        return ""
    host = urlsplit("//" + url).hostname or ""
    scheme = "http" if is_loopback(host) else "https"
    return f"did you mean {scheme}://{url}?"


URL = Kind("an https:// URL", _url)
SPACE_KEY = Kind("a space key such as DOCS", _space_key)
PAGE = Kind("a page id or page title", _page)
FOLDER = Kind("a folder path", text("a folder path").parse, show=str, place=_folder)
# A list of paths (files or folders), each placed as FOLDER is: include_outside.
FOLDERS = Kind("a list of paths", text("a path").parse, show=lambda paths: [str(path) for path in paths],
               place=lambda paths, root: tuple(_folder(path, root) for path in paths), item=text("a path"),
               noun="path")
SECRET = Kind("a string", _secret, show=lambda value: MASK if value else None, secret=True)
SHARE_OR_COUNT = Kind("a share like '20%' or a whole number of pages", _share_or_count, show=_show_share_or_count)
GLOB = text("a glob pattern string")


def glob_patterns(*, at_least_one: bool) -> Kind:
    """A list of glob patterns (one pattern alone may be written without the list)."""
    return Kind("a list of glob patterns", GLOB.parse, show=list, item=GLOB, noun="glob pattern",
                at_least_one=at_least_one)


# --------------------------------------------------------------------------- URLs


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: the only hosts plain http may carry credentials to."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_url(value: str) -> str:
    """Check a site URL and drop a trailing '/' or '/wiki' (the client adds the API paths)."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Invalid(f"must be an https:// URL, got {url!r}") from None
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        # Do not quote it: the user part may be a credential.
        raise Invalid("must not hold a user name or password; put credentials in confluence.email / confluence.token")
    if scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"must be an https:// URL with a host name, got {url!r}", _with_scheme(url))
    if any(ch.isspace() for ch in url):
        raise Invalid(f"must not contain spaces, got {url!r}")
    if parts.query or parts.fragment:
        raise Invalid(f"must not have a query or fragment, got {url!r}")
    if scheme == "http" and not is_loopback(parts.hostname):
        raise Invalid(
            f"uses plain http for {parts.hostname}; use https:// so credentials never travel "
            f"unencrypted (http is allowed only for localhost, 127.0.0.0/8 and ::1), got {url!r}"
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith("/wiki"):
        path = path[: -len("/wiki")].rstrip("/")
    return f"{scheme}://{parts.netloc}{path}"
