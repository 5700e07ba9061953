"""mdsync.yaml -> Config: typed, frozen, validated.

The file is read through PyYAML's node tree rather than ``yaml.safe_load`` so that every
problem can name its key and line, duplicate keys are caught (PyYAML would silently keep
the last one) and plain values are built under our control. Strings may refer to the
environment with ``${VAR}`` or ``${VAR:-default}``; ``$${`` is a literal ``${``.

Credentials are wrapped in :class:`Secret` the moment they are read, and no message this
module builds ever contains one.
"""

from __future__ import annotations

import difflib
import hmac
import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from yaml.constructor import SafeConstructor

from mdsync.vocabulary import ConflictPolicy, DeletePolicy
from mdsync.errors import ConfigError

__all__ = [
    "CONFIG_FILENAME",
    "Config",
    "ConfluenceConfig",
    "Secret",
    "SyncConfig",
    "ValueOrigin",
    "load_config",
    "parse_config",
]

CONFIG_FILENAME = "mdsync.yaml"

AUTH_MODES = ("token", "bearer", "maton")
CONFLICT_POLICIES = tuple(ConflictPolicy)
DELETE_POLICIES = tuple(DeletePolicy)
MAX_CONCURRENCY = 64

MATON_URL = "https://api.maton.ai"
ATLASSIAN_GATEWAY = "https://api.atlassian.com"
# Maton refuses more than 10 requests/second per account; 8 leaves room for retries.
MATON_RATE_LIMIT = 8.0

ENV_URL = "CONFLUENCE_URL"
ENV_EMAIL = "CONFLUENCE_EMAIL"
ENV_TOKEN = "CONFLUENCE_API_TOKEN"
ENV_MATON_KEY = "MATON_API_KEY"

_MASK = "********"

# Every key the file may hold, by section ("" is the top level).
_SCHEMA: Mapping[str, tuple[str, ...]] = {
    "": ("confluence", "space", "parent", "docs", "include", "exclude", "sync"),
    "confluence": ("url", "auth", "email", "token", "cloud_id", "connection", "rate_limit", "gateway"),
    "sync": ("on_conflict", "delete", "max_delete", "concurrency"),
}

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"

# Alternatives are tried left to right: the escape first, then a well-formed reference,
# then any other "${" (which is malformed).
_REFERENCE = re.compile(
    r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\{"
)
_SPACE_KEY = re.compile(r"[A-Za-z0-9_]+")
# Personal space keys are "~" plus a user name or account id, which may hold ":" or "-".
_PERSONAL_SPACE_KEY = re.compile(r"~[A-Za-z0-9_:\-]+")
_PERCENT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")
_DIGITS = re.compile(r"\s*\d+\s*")


# --------------------------------------------------------------------------- public types


class Secret:
    """A credential that never shows itself: ``repr`` and ``str`` print a mask.

    Call :meth:`reveal` at the one place that needs the real value (the auth header).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant-time, so a comparison cannot be timed to guess the value.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))


@dataclass(frozen=True)
class ValueOrigin:
    """Where a credential came from, so that a missing one can be explained."""

    source: str = CONFIG_FILENAME
    line: int | None = None  # line of the key in the file; None when the file leaves it out
    env: str | None = None  # environment variable that filled it in
    unresolved: tuple[str, ...] = ()  # ${VAR}s in the file's value that were unset or empty


@dataclass(frozen=True)
class ConfluenceConfig:
    url: str | None = None
    auth: str = "token"
    email: str | None = None
    token: Secret | None = None
    cloud_id: str | None = None
    connection: str | None = None
    rate_limit: float | None = None
    # Where auth: bearer sends requests (Atlassian's API gateway); the sandbox serves it too.
    gateway: str = ATLASSIAN_GATEWAY
    # Keyed by "url", "email", "token"; only used to word require_credentials() errors.
    origins: Mapping[str, ValueOrigin] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept a plain str for convenience, but never keep one.
        if isinstance(self.token, str):
            object.__setattr__(self, "token", Secret(self.token) if self.token else None)

    @property
    def token_env_var(self) -> str:
        """The environment variable that supplies the token for this auth mode."""
        return ENV_MATON_KEY if self.auth == "maton" else ENV_TOKEN

    def require_credentials(self) -> None:
        """Raise ConfigError, in one sentence, when something needed to connect is missing."""
        missing: list[str] = []
        if not self.url:
            missing.append(
                self._missing("url", ENV_URL, "set confluence.url (e.g. https://your-site.atlassian.net)")
            )
        if self.auth == "token" and not self.email:
            missing.append(self._missing("email", ENV_EMAIL, "set confluence.email"))
        if not self.token:
            missing.append(self._missing("token", self.token_env_var, "set confluence.token"))
        if missing:
            raise ConfigError("; ".join(missing) + ".")

    def _missing(self, name: str, env_var: str, alternative: str) -> str:
        origin = self.origins.get(name, ValueOrigin())
        key = f"confluence.{name}"
        if origin.unresolved:
            names = " and ".join(origin.unresolved)
            refs = ", ".join("${" + n + "}" for n in origin.unresolved)
            return f"{key} is empty: export {names} ({origin.source} line {origin.line} refers to {refs})"
        if origin.line is not None:
            return f"{key} is empty in {origin.source} (line {origin.line}): {alternative} or export {env_var}"
        return f"{key} is missing: export {env_var} or {alternative} in {origin.source}"


@dataclass(frozen=True)
class SyncConfig:
    on_conflict: ConflictPolicy = ConflictPolicy.STOP
    delete: DeletePolicy = DeletePolicy.KEEP
    max_delete_share: float | None = 0.2
    max_delete_count: int | None = None
    concurrency: int = 8


@dataclass(frozen=True)
class Config:
    path: Path | None
    root: Path
    confluence: ConfluenceConfig
    space: str
    parent: str | None
    docs: Path
    include: tuple[str, ...] = ("**/*.md",)
    exclude: tuple[str, ...] = ()
    sync: SyncConfig = field(default_factory=SyncConfig)

    @property
    def state_dir(self) -> Path:
        return self.root / ".mdsync"

    def redacted(self) -> dict[str, Any]:
        """A plain dict for display (``mdsync config``, ``--json``); the token is masked."""
        c = self.confluence
        s = self.sync
        if s.max_delete_count is not None:
            max_delete: int | str | None = s.max_delete_count
        elif s.max_delete_share is not None:
            max_delete = f"{s.max_delete_share * 100:g}%"
        else:
            max_delete = None
        return {
            "path": str(self.path) if self.path else None,
            "root": str(self.root),
            "confluence": {
                "url": c.url,
                "auth": c.auth,
                "email": c.email,
                "token": _MASK if c.token else None,
                "cloud_id": c.cloud_id,
                "connection": c.connection,
                "rate_limit": c.rate_limit,
                "gateway": c.gateway,
            },
            "space": self.space,
            "parent": self.parent,
            "docs": str(self.docs),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "sync": {
                "on_conflict": s.on_conflict,
                "delete": s.delete,
                "max_delete": max_delete,
                "concurrency": s.concurrency,
            },
        }


# --------------------------------------------------------------------------- entry points


def load_config(path: str | Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file (default ``./mdsync.yaml``; a folder means its mdsync.yaml)."""
    target = Path(path) if path is not None else Path(CONFIG_FILENAME)
    if target.is_dir():
        target = target / CONFIG_FILENAME
    target = target.absolute()
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"No {target.name} found in {target.parent}: run 'mdsync init' or pass --config PATH."
        ) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {target}: {exc.strerror or exc}.") from None
    try:
        text = data.decode("utf-8-sig")  # tolerate a BOM left by some Windows editors
    except UnicodeDecodeError as exc:
        # Only the line is named: quoting the bytes could show part of a token.
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{target.name} is not UTF-8 text (line {line} holds bytes that are not UTF-8); "
            "save it with UTF-8 encoding."
        ) from None
    config = parse_config(text, root=target.parent, source=target.name, environ=environ)
    return replace(config, path=target)


def parse_config(
    text: str,
    *,
    root: Path,
    source: str = CONFIG_FILENAME,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate the text of a config file; relative paths resolve from ``root``."""
    reader = _Reader(source, os.environ if environ is None else environ)
    document = reader.compose(text)
    return reader.build(document, Path(os.path.abspath(root)))


# --------------------------------------------------------------------------- internals


class _Invalid(Exception):
    """One bad value; the text continues a sentence that starts with the key's name."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class _Text:
    """A string value after ${VAR} interpolation."""

    value: str | None  # None when null, empty, or undefined by an unset ${VAR}
    unresolved: tuple[str, ...] = ()
    interpolated: bool = False


@dataclass(frozen=True)
class _Entry:
    key: str  # dotted name, e.g. "sync.concurrency"
    line: int  # 1-based line of the key
    node: yaml.Node


class _Reader:
    """Turns one document's node tree into a Config, collecting every problem on the way."""

    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self.environ = environ
        self.problems: list[tuple[int, str]] = []
        # Credential values seen so far; scrubbed from every message in case one was
        # pasted into the wrong key.
        self.secrets: set[str] = {environ[name] for name in (ENV_TOKEN, ENV_MATON_KEY) if environ.get(name)}
        self._constructor = SafeConstructor()

    # ----------------------------------------------------------------- reporting

    def problem(self, message: str, line: int | None = None) -> None:
        # Problems without a line sort last; the rest read top to bottom like the file.
        self.problems.append((line if line is not None else 1 << 30, message))

    def invalid(self, key: str, exc: _Invalid, line: int | None, where: str | None = None) -> None:
        """Record a bad value; ``where`` replaces "line N" for values from the environment."""
        place = where if where is not None else f"line {line}"
        self.problem(f"{key} {exc.text} ({place})", line)

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
                message = message.replace(secret, _MASK)
        return message

    # ----------------------------------------------------------------- YAML

    def compose(self, text: str) -> yaml.Node:
        # The ConfigError is raised outside the except blocks: PyYAML's exception quotes the
        # offending line, which may hold a token, and must not ride along as __context__.
        failure: str | None = None
        node: yaml.Node | None = None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f" on line {mark.line + 1}" if mark is not None else ""
            what = exc.problem or exc.context or "invalid YAML"
            if exc.problem and exc.context and exc.context_mark is not None:
                # e.g. an unclosed quote: the problem is at the end, the cause further up.
                what = f"{exc.context} (line {exc.context_mark.line + 1}), {exc.problem}"
            failure = f"{self.source}: YAML syntax error{line}: {what}."
        except yaml.reader.ReaderError as exc:
            line_no = text[: exc.position].count("\n") + 1
            failure = (
                f"{self.source}: line {line_no} holds a character YAML does not allow "
                f"(#x{exc.character:04x}); remove it."
                if isinstance(exc.character, int)
                else f"{self.source}: line {line_no} cannot be read as YAML text."
            )
        except yaml.YAMLError:
            failure = f"{self.source}: cannot be read as YAML."
        if failure is not None:
            raise ConfigError(failure)
        if node is None:
            raise ConfigError(
                f"{self.source} is empty: it needs at least a 'space:' key "
                "(run 'mdsync init' to write a complete one)."
            )
        return node

    def entries(self, node: yaml.Node, section: str, line: int) -> dict[str, _Entry]:
        """The keys of a mapping node, after rejecting duplicates and unknown keys."""
        if isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG:
            return {}  # "sync:" with nothing under it means "all defaults"
        if not isinstance(node, yaml.MappingNode):
            self.problem(f"{section} must be a mapping of keys, got {_describe(node)} (line {line})", line)
            return {}
        allowed = _SCHEMA[section]
        found: dict[str, _Entry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(f"keys must be plain names, got {_describe(key_node)} (line {key_line})", key_line)
                continue
            name = key_node.value
            dotted = f"{section}.{name}" if section else name
            if dotted in found:
                first = found[dotted].line
                self.problem(
                    f"duplicate key '{dotted}' on lines {first} and {key_line}; keep only one",
                    key_line,
                )
                continue
            if name not in allowed:
                hint = _suggest(section, name)
                self.problem(
                    f"unknown key '{dotted}' (line {key_line})" + (f"; did you mean '{hint}'?" if hint else ""),
                    key_line,
                )
                continue
            found[dotted] = _Entry(dotted, key_line, value_node)
        return found

    def scalar(self, node: yaml.Node) -> Any:
        """The plain Python value of a scalar node (str, int, float, bool, None, ...)."""
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise _Invalid(f"has a value YAML cannot read ({node.tag})") from None

    def text(self, node: yaml.Node, expected: str, *, numbers_as_text: bool = False) -> _Text:
        if not isinstance(node, yaml.ScalarNode):
            raise _Invalid(f"must be {expected}, got {_describe(node)}")
        value = self.scalar(node)
        if value is None:
            return _Text(None)
        if isinstance(value, str):
            return self.interpolate(value)
        if numbers_as_text and isinstance(value, int) and not isinstance(value, bool):
            # Keep what was typed: YAML reads "0123" as the octal number 83.
            return _Text(node.value)
        raise _Invalid(f"must be {expected}, got {_describe(node)}")

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
                raise _Invalid("holds a '${' that is not a ${NAME} reference; write $${ for a literal ${")
            interpolated = True
            default = match.group("default")
            value = self.environ.get(name)
            if default is not None:
                if "${" in default:
                    raise _Invalid(f"nests a reference inside the default of ${{{name}:-...}}; that is not supported")
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

    # ----------------------------------------------------------------- the document

    def build(self, document: yaml.Node, root: Path) -> Config:
        if not isinstance(document, yaml.MappingNode):
            line = document.start_mark.line + 1
            raise ConfigError(
                f"{self.source}: the top level must be a mapping of keys such as 'space:' and "
                f"'confluence:', got {_describe(document)} (line {line})"
            )
        top = self.entries(document, "", 1)

        confluence = self.confluence(top.get("confluence"))
        space = self.space(top.get("space"))
        parent = self.parent(top.get("parent"))
        docs = self.docs(top.get("docs"), root)
        include = self.patterns(top.get("include"), ("**/*.md",), allow_empty=False)
        exclude = self.patterns(top.get("exclude"), (), allow_empty=True)
        sync = self.sync(top.get("sync"))

        self.fail_if_problems()
        assert space is not None and docs is not None  # otherwise a problem was recorded
        return Config(
            path=None,
            root=root,
            confluence=confluence,
            space=space,
            parent=parent,
            docs=docs,
            include=include,
            exclude=exclude,
            sync=sync,
        )

    def section(self, entry: _Entry | None, name: str) -> dict[str, _Entry]:
        if entry is None:
            return {}
        return self.entries(entry.node, name, entry.line)

    # confluence: ------------------------------------------------------

    def confluence(self, entry: _Entry | None) -> ConfluenceConfig:
        keys = self.section(entry, "confluence")
        auth = self.choice(keys.get("confluence.auth"), AUTH_MODES, "token")

        url_text, url_origin = self.credential_text(keys.get("confluence.url"), "an https:// URL")
        url: str | None = None
        if url_text.value is not None:
            url = self.checked_url(url_text.value, url_origin.line)
        elif not url_text.unresolved:
            if auth == "maton":
                url = MATON_URL
            elif self.environ.get(ENV_URL):
                url_origin = replace(url_origin, env=ENV_URL)
                url = self.checked_url(self.environ[ENV_URL], None, f"from {ENV_URL}")

        email_text, email_origin = self.credential_text(keys.get("confluence.email"), "an email address")
        email = email_text.value
        if email is None and not email_text.unresolved and self.environ.get(ENV_EMAIL):
            email, email_origin = self.environ[ENV_EMAIL], replace(email_origin, env=ENV_EMAIL)

        token_text, token_origin = self.credential_text(keys.get("confluence.token"), "a string", secret=True)
        token_value = token_text.value
        if token_value:
            self.secrets.add(token_value)
        token_var = ENV_MATON_KEY if auth == "maton" else ENV_TOKEN
        if token_value is None and not token_text.unresolved and self.environ.get(token_var):
            token_value, token_origin = self.environ[token_var], replace(token_origin, env=token_var)

        rate_limit = self.rate_limit(keys.get("confluence.rate_limit"))
        if rate_limit is None and auth == "maton":
            rate_limit = MATON_RATE_LIMIT

        return ConfluenceConfig(
            url=url,
            auth=auth,
            email=email,
            token=Secret(token_value) if token_value else None,
            cloud_id=self.optional_text(keys.get("confluence.cloud_id")),
            connection=self.optional_text(keys.get("confluence.connection")),
            rate_limit=rate_limit,
            gateway=self.gateway(keys.get("confluence.gateway")),
            origins={"url": url_origin, "email": email_origin, "token": token_origin},
        )

    def credential_text(
        self, entry: _Entry | None, expected: str, *, secret: bool = False
    ) -> tuple[_Text, ValueOrigin]:
        if entry is None:
            return _Text(None), ValueOrigin(self.source)
        origin = ValueOrigin(self.source, entry.line)
        try:
            if secret:
                text = self.secret_text(entry.node)
            else:
                text = self.text(entry.node, expected)
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return _Text(None), origin
        return text, replace(origin, unresolved=text.unresolved)

    def secret_text(self, node: yaml.Node) -> _Text:
        # Messages here must not quote the value.
        if not isinstance(node, yaml.ScalarNode):
            raise _Invalid("must be a string")
        if node.tag == _STR_TAG:
            return self.interpolate(node.value)
        if node.tag == _NULL_TAG:
            return _Text(None)
        return _Text(node.value)  # a token YAML happens to read as a number is still text

    def checked_url(self, value: str, line: int | None, where: str | None = None) -> str | None:
        try:
            return _normalize_url(value)
        except _Invalid as exc:
            self.invalid("confluence.url", exc, line, where)
            return None

    def gateway(self, entry: _Entry | None) -> str:
        if entry is None:
            return ATLASSIAN_GATEWAY
        try:
            text = self.text(entry.node, "an https:// URL")
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return ATLASSIAN_GATEWAY
        if text.value is None:
            return ATLASSIAN_GATEWAY
        try:
            return _normalize_url(text.value)
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return ATLASSIAN_GATEWAY

    def rate_limit(self, entry: _Entry | None) -> float | None:
        if entry is None:
            return None
        try:
            number = self.number(entry.node, "a positive number of requests per second")
            if number is None:
                return None
            if not math.isfinite(number) or number <= 0:
                raise _Invalid(f"must be a positive number of requests per second, got {_describe(entry.node)}")
            return float(number)
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return None

    def number(self, node: yaml.Node, expected: str) -> float | int | None:
        if not isinstance(node, yaml.ScalarNode):
            raise _Invalid(f"must be {expected}, got {_describe(node)}")
        value = self.scalar(node)
        if isinstance(value, str):
            text = self.interpolate(value)
            if text.value is None:
                return None
            if text.interpolated:
                # An environment variable always yields text; read it as YAML would a number.
                try:
                    return float(text.value)
                except ValueError:
                    pass
            raise _Invalid(f"must be {expected}, got {text.value!r}")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid(f"must be {expected}, got {_describe(node)}")
        return value

    def optional_text(self, entry: _Entry | None) -> str | None:
        if entry is None:
            return None
        try:
            return self.text(entry.node, "a string").value
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return None

    def choice(self, entry: _Entry | None, choices: tuple[str, ...], default: str) -> str:
        if entry is None:
            return default
        allowed = ", ".join(choices)
        _, value = self.read(entry, f"one of {allowed}")
        if value is None:
            return default
        if value in choices:
            return value
        close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        self.problem(f"{entry.key} must be one of {allowed}, got {value!r} (line {entry.line}){hint}", entry.line)
        return default

    def read(self, entry: _Entry, what: str, **options: Any) -> tuple[bool, str | None]:
        """(read, value): a value of the wrong kind or an unset ${VAR} is reported and gives
        (False, None); an empty value gives (True, None)."""
        try:
            text = self.text(entry.node, what, **options)
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return False, None
        if text.unresolved:
            self.problem(_unset_message(entry, text), entry.line)
            return False, None
        return True, text.value

    # top level --------------------------------------------------------

    def space(self, entry: _Entry | None) -> str | None:
        if entry is None:
            self.problem("space is missing: set it to the key of the Confluence space, e.g. 'space: DOCS'")
            return None
        read, value = self.read(entry, "a space key such as DOCS", numbers_as_text=True)
        if value is None:
            if read:
                self.problem(f"space is empty (line {entry.line}): set it to the key of the Confluence space, "
                             "e.g. DOCS", entry.line)
            return None
        key = value.strip()
        if not (_SPACE_KEY.fullmatch(key) or _PERSONAL_SPACE_KEY.fullmatch(key)):
            self.problem(
                f"space must be a space key (letters, digits and _, or ~name for a personal space), "
                f"got {key!r} (line {entry.line})",
                entry.line,
            )
            return None
        return key

    def parent(self, entry: _Entry | None) -> str | None:
        if entry is None:
            return None
        _, value = self.read(entry, "a page id or page title", numbers_as_text=True)
        return value.strip() or None if value is not None else None

    def docs(self, entry: _Entry | None, root: Path) -> Path | None:
        raw: str | None = "docs"
        if entry is not None:
            read, value = self.read(entry, "a folder path")
            if not read:
                return None
            raw = value if value is not None else "docs"
        # normpath, not resolve(): keep symlinks as the user wrote them.
        return Path(os.path.normpath(root / raw))

    def patterns(self, entry: _Entry | None, default: tuple[str, ...], *, allow_empty: bool) -> tuple[str, ...]:
        if entry is None:
            return default
        node = entry.node
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _NULL_TAG:
                return default
            items: list[tuple[yaml.Node, str]] = [(node, entry.key)]
        elif isinstance(node, yaml.SequenceNode):
            items = [(item, f"{entry.key}[{i}]") for i, item in enumerate(node.value)]
        else:
            self.problem(f"{entry.key} must be a list of glob patterns, got {_describe(node)} (line {entry.line})", entry.line)
            return default
        result: list[str] = []
        for item, label in items:
            line = item.start_mark.line + 1
            try:
                text = self.text(item, "a glob pattern string")
            except _Invalid as exc:
                self.invalid(label, exc, line)
                continue
            if text.value is None:
                if text.unresolved:
                    self.problem(_unset_message(_Entry(label, line, item), text), line)
                else:
                    self.problem(f"{label} must be a non-empty glob pattern (line {line})", line)
                continue
            result.append(text.value)
        if not items and not allow_empty:
            # An empty include would silently sync nothing; say so instead.
            self.problem(f"{entry.key} must list at least one glob pattern, e.g. '**/*.md' (line {entry.line})", entry.line)
            return default
        return tuple(result)

    # sync: --------------------------------------------------------------

    def sync(self, entry: _Entry | None) -> SyncConfig:
        keys = self.section(entry, "sync")
        defaults = SyncConfig()
        on_conflict = ConflictPolicy(self.choice(keys.get("sync.on_conflict"), CONFLICT_POLICIES, defaults.on_conflict))
        delete = DeletePolicy(self.choice(keys.get("sync.delete"), DELETE_POLICIES, defaults.delete))
        share, count = self.max_delete(keys.get("sync.max_delete"), defaults)
        concurrency = self.concurrency(keys.get("sync.concurrency"), defaults.concurrency)
        return SyncConfig(
            on_conflict=on_conflict,
            delete=delete,
            max_delete_share=share,
            max_delete_count=count,
            concurrency=concurrency,
        )

    def max_delete(self, entry: _Entry | None, defaults: SyncConfig) -> tuple[float | None, int | None]:
        if entry is None:
            return defaults.max_delete_share, defaults.max_delete_count
        expected = "a share like '20%' or a whole number of pages"
        node = entry.node
        try:
            if not isinstance(node, yaml.ScalarNode):
                raise _Invalid(f"must be {expected}, got {_describe(node)}")
            value = self.scalar(node)
            if value is None:
                return None, None  # explicitly no safety stop
            if isinstance(value, str):
                text = self.interpolate(value)
                if text.value is None:
                    if text.unresolved:
                        self.problem(_unset_message(entry, text), entry.line)
                    return defaults.max_delete_share, defaults.max_delete_count
                percent = _PERCENT.fullmatch(text.value)
                if percent:
                    share = float(percent.group(1))
                    if share > 100:
                        raise _Invalid(f"must be a share from 0% to 100%, got {text.value!r}")
                    return share / 100, None
                if _DIGITS.fullmatch(text.value):
                    return None, int(text.value)
                raise _Invalid(f"must be {expected}, got {text.value!r}")
            if isinstance(value, int) and not isinstance(value, bool):
                if value < 0:
                    raise _Invalid(f"must not be negative, got {value}")
                return None, value
            raise _Invalid(f"must be {expected}, got {_describe(node)}")
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return defaults.max_delete_share, defaults.max_delete_count

    def concurrency(self, entry: _Entry | None, default: int) -> int:
        if entry is None:
            return default
        node = entry.node
        try:
            if not isinstance(node, yaml.ScalarNode):
                raise _Invalid(f"must be a positive integer, got {_describe(node)}")
            value = self.scalar(node)
            if value is None:
                return default
            if isinstance(value, str):
                text = self.interpolate(value)
                if text.value is None:
                    if text.unresolved:
                        self.problem(_unset_message(entry, text), entry.line)
                    return default
                if not (text.interpolated and _DIGITS.fullmatch(text.value)):
                    raise _Invalid(f"must be a positive integer, got {text.value!r}")
                value = int(text.value)
            elif isinstance(value, bool) or not isinstance(value, int):
                raise _Invalid(f"must be a positive integer, got {_describe(node)}")
            if not 1 <= value <= MAX_CONCURRENCY:
                raise _Invalid(f"must be between 1 and {MAX_CONCURRENCY}, got {value}")
            return value
        except _Invalid as exc:
            self.invalid(entry.key, exc, entry.line)
            return default


# --------------------------------------------------------------------------- helpers


def _describe(node: yaml.Node) -> str:
    """How a wrong value is quoted in a message: as the user typed it."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    tag = node.tag
    if tag == _STR_TAG:
        return repr(node.value)
    if tag == _NULL_TAG:
        return "null"
    if tag == "tag:yaml.org,2002:bool":
        return f"the boolean {node.value}"
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        return node.value
    return repr(node.value)


def _suggest(section: str, name: str) -> str | None:
    """The known key a misspelt or misplaced one most likely meant."""
    close = difflib.get_close_matches(name, _SCHEMA[section], n=1, cutoff=0.6)
    if close:
        return f"{section}.{close[0]}" if section else close[0]
    # A key in the wrong section, e.g. "token" at the top level.
    everywhere = {
        (f"{sec}.{key}" if sec else key): key for sec, keys in _SCHEMA.items() for key in keys if sec != section
    }
    close = difflib.get_close_matches(name, list(everywhere.values()), n=1, cutoff=0.8)
    if close:
        return next(dotted for dotted, key in everywhere.items() if key == close[0])
    return None


def _unset_message(entry: _Entry, text: _Text) -> str:
    names = " and ".join(text.unresolved)
    refs = ", ".join("${" + n + "}" for n in text.unresolved)
    return f"{entry.key} is empty: export {names} (line {entry.line} refers to {refs})"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _normalize_url(value: str) -> str:
    """Check a site URL and drop a trailing '/' or '/wiki' (the client adds the API paths)."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _Invalid(f"must be an https:// URL, got {url!r}") from None
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        # Do not quote it: the user part may be a credential.
        raise _Invalid("must not hold a user name or password; put credentials in confluence.email / confluence.token")
    if scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(f"must be an https:// URL with a host name, got {url!r}")
    if any(ch.isspace() for ch in url):
        raise _Invalid(f"must not contain spaces, got {url!r}")
    if parts.query or parts.fragment:
        raise _Invalid(f"must not have a query or fragment, got {url!r}")
    if scheme == "http" and not _is_loopback(parts.hostname):
        raise _Invalid(
            f"uses plain http for {parts.hostname}; use https:// so credentials never travel "
            f"unencrypted (http is allowed only for localhost, 127.0.0.0/8 and ::1), got {url!r}"
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith("/wiki"):
        path = path[: -len("/wiki")].rstrip("/")
    return f"{scheme}://{parts.netloc}{path}"
