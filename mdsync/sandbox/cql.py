"""The user-specific CQL of v1's ``/search/user``, enough to search the sandbox's users.

Fields ``type``, ``user``, ``user.accountid``, ``user.userkey`` and ``user.fullname``;
operators ``=``, ``!=``, ``~``, ``!~``, ``IN`` and ``NOT IN``; ``AND``, ``OR``, ``NOT`` and
parentheses. As Cloud does, a field this route cannot answer (``title~x``) matches nobody
rather than being an error, and ``~`` on a name is an ordered word-prefix match:
``user.fullname~"sand us"`` finds "Sandbox User", ``~"box"`` does not (markfluence
users.md, 2026-09). A query that does not parse raises :class:`CqlError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

User = Mapping[str, str]  # accountId, displayName
Predicate = Callable[[User], bool]

_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>!=|!~|=|~|\(|\)|,)|(?P<word>[^\s=!~(),"]+))')


class CqlError(ValueError):
    """The query is not CQL this route understands."""


@dataclass
class _Tokens:
    items: list[str]
    at: int = 0

    def peek(self) -> str | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise CqlError("the query ends too early")
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.lower() == word:
            self.at += 1
            return True
        return False


def _tokenize(cql: str) -> list[str]:
    tokens, position = [], 0
    while position < len(cql.rstrip()):
        match = _TOKEN.match(cql, position)
        if match is None or match.end() == position:
            raise CqlError(f"unexpected text at {position}")
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


def _value(token: str) -> str:
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _words_match(name: str, query: str) -> bool:
    """Ordered word prefixes: every query word starts a name word, the words in a row."""
    wanted = query.lower().replace("*", " ").split()
    if not wanted:
        return True
    words = name.lower().split()
    return any(all(words[start + offset].startswith(part) for offset, part in enumerate(wanted))
               for start in range(len(words) - len(wanted) + 1))


def _field_value(field: str, user: User) -> str | None:
    return {"user": user["accountId"], "user.accountid": user["accountId"], "user.userkey": user["accountId"],
            "user.fullname": user["displayName"], "type": "user"}.get(field.lower())


def _compare(field: str, op: str, values: list[str]) -> Predicate:
    def test(user: User) -> bool:
        actual = _field_value(field, user)
        if actual is None:
            return False  # a field this route does not know matches nobody
        if op == "~":
            return any(_words_match(actual, value) for value in values)
        if op == "!~":
            return not any(_words_match(actual, value) for value in values)
        equal = any(actual.lower() == value.lower() for value in values)
        return equal if op in ("=", "in") else not equal

    return test


def _clause(tokens: _Tokens) -> Predicate:
    if tokens.keyword("not"):
        inner = _clause(tokens)
        return lambda user: not inner(user)
    if tokens.peek() == "(":
        tokens.take()
        inner = _or(tokens)
        if tokens.take() != ")":
            raise CqlError("a parenthesis is not closed")
        return inner
    field = tokens.take()
    if tokens.keyword("not"):
        if not tokens.keyword("in"):
            raise CqlError("NOT must be followed by IN here")
        return _compare(field, "not in", _list(tokens))
    if tokens.keyword("in"):
        return _compare(field, "in", _list(tokens))
    op = tokens.take()
    if op not in ("=", "!=", "~", "!~"):
        raise CqlError(f"'{op}' is not an operator")
    return _compare(field, op, [_value(tokens.take())])


def _list(tokens: _Tokens) -> list[str]:
    if tokens.take() != "(":
        raise CqlError("IN takes a list in parentheses")
    values = [_value(tokens.take())]
    while tokens.peek() == ",":
        tokens.take()
        values.append(_value(tokens.take()))
    if tokens.take() != ")":
        raise CqlError("a list is not closed")
    return values


def _and(tokens: _Tokens) -> Predicate:
    parts = [_clause(tokens)]
    while tokens.keyword("and"):
        parts.append(_clause(tokens))
    return lambda user: all(part(user) for part in parts)


def _or(tokens: _Tokens) -> Predicate:
    parts = [_and(tokens)]
    while tokens.keyword("or"):
        parts.append(_and(tokens))
    return lambda user: any(part(user) for part in parts)


def user_filter(cql: str) -> Predicate:
    """The users a query selects, as a test on one user."""
    tokens = _Tokens(_tokenize(cql))
    if tokens.peek() is None:
        raise CqlError("the query is empty")
    predicate = _or(tokens)
    if tokens.peek() is not None:
        raise CqlError(f"unexpected '{tokens.peek()}'")
    return predicate
