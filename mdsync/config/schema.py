"""Every key of mdsync.yaml, once: its kind, default, environment fallback, documentation
and what ``mdsync init`` writes for it.

The reader validates against this table, ``Config.redacted()`` shows what it lists,
``mdsync init`` and ``mdsync.yaml.example`` are written from it (see template.py). Adding
a key is one entry here, a field of the same name in model.py and, for a new kind of
value, one parser in values.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from mdsync.config import values
from mdsync.vocabulary import (
    AuthMode,
    ConflictPolicy,
    DeletePolicy,
    FileNames,
    FolderStyle,
    HomePage,
)

CONFIG_FILENAME = "mdsync.yaml"

ENV_URL = "CONFLUENCE_URL"
ENV_EMAIL = "CONFLUENCE_EMAIL"
ENV_TOKEN = "CONFLUENCE_API_TOKEN"
ENV_MATON_KEY = "MATON_API_KEY"

MATON_URL = "https://api.maton.ai"
ATLASSIAN_GATEWAY = "https://api.atlassian.com"
# Maton refuses more than 10 requests/second per account; 8 leaves room for retries.
MATON_RATE_LIMIT = 8.0
MAX_CONCURRENCY = 64


class IfUnset(Enum):
    """What a value means whose ${VAR} is unset (or empty)."""

    ERROR = "error"  # a problem that names the variable
    IGNORE = "ignore"  # as if the key were left out
    REMEMBER = "remember"  # left out, and kept in the key's ValueOrigin so require_credentials() can name it


class Written(Enum):
    """What ``mdsync init`` writes for a key."""

    ANSWER = "answer"  # the answer as given (url, auth, space)
    QUOTED = "quoted"  # the answer in single quotes, or null without one
    ANSWER_OR_ENV = "answer or env"  # the answer, else a ${VAR} reference to the key's variable
    ENV = "env"  # always a ${VAR} reference, never the value itself
    DEFAULT = "default"  # the key's default


@dataclass(frozen=True)
class Key:
    name: str  # dotted: "sync.concurrency"; the part before the dot is its section
    kind: values.Kind
    doc: tuple[str, ...]  # the comment above the key in mdsync.yaml.example
    default: Any = None  # when the file leaves the key out, empty or null
    example: str | None = None  # the YAML mdsync.yaml.example writes; None writes the default
    null: Any = ...  # what an explicit null means, when that is not the default (max_delete: no stop)
    required: str | None = None  # the key must be set: what to tell a user who leaves it out
    env: str | None = None  # the environment variable that fills the key when the file does not
    maton_env: str | None = None  # ... under auth: maton, when that is another one
    maton: Any = None  # the default under auth: maton, when that is another one
    if_unset: IfUnset = IfUnset.ERROR
    modes: tuple[AuthMode, ...] = ()  # the auth modes the key serves (empty: all); init writes it only for those
    init: Written | None = None  # None: init leaves the key out
    init_comment: str = ""
    fields: tuple[str, ...] = ()  # the model fields the value fills, when not the one of the key's name

    @property
    def section(self) -> str:
        return self.name.rpartition(".")[0]

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]

    @property
    def choices(self) -> tuple[str, ...]:
        return self.kind.choices

    @property
    def model_fields(self) -> tuple[str, ...]:
        return self.fields or (self.leaf,)

    def env_for(self, auth: AuthMode | str) -> str | None:
        """The variable that fills the key under this auth mode."""
        return self.maton_env if auth == AuthMode.MATON and self.maton_env else self.env


KEYS: tuple[Key, ...] = (
    Key("confluence.url", values.URL, env=ENV_URL, maton=MATON_URL, if_unset=IfUnset.REMEMBER,
        example="https://example.atlassian.net", init=Written.ANSWER, doc=(
            "Site URL, e.g. https://your-site.atlassian.net (a trailing /wiki is fine and ignored).",
            "Use the sandbox's URL to try things locally (http:// is accepted only for localhost),",
            "or https://api.maton.ai with auth: maton (that is also the default there).",
            "When left out, CONFLUENCE_URL from the environment is used.",
        )),
    Key("confluence.auth", values.choice(AuthMode), default=AuthMode.TOKEN, init=Written.ANSWER, doc=(
        "How to sign in:",
        "  token   Atlassian account email + API token (HTTP Basic)",
        "  bearer  a scoped API token or an OAuth access token",
        "  maton   a Maton API key; requests go through the Maton gateway",
    )),
    Key("confluence.email", values.text("an email address"), env=ENV_EMAIL, if_unset=IfUnset.REMEMBER,
        modes=(AuthMode.TOKEN, AuthMode.BEARER), example="${CONFLUENCE_EMAIL}", init=Written.ANSWER_OR_ENV, doc=(
            "Account email; needed only for auth: token. Falls back to CONFLUENCE_EMAIL.",
        )),
    Key("confluence.token", values.SECRET, env=ENV_TOKEN, maton_env=ENV_MATON_KEY, if_unset=IfUnset.REMEMBER,
        example="${CONFLUENCE_API_TOKEN}", init=Written.ENV, init_comment="never put the token itself here", doc=(
            "The API token (for auth: maton, use ${MATON_API_KEY}). Falls back to",
            "CONFLUENCE_API_TOKEN (or MATON_API_KEY) when left out.",
        )),
    Key("confluence.cloud_id", values.text("a string"), if_unset=IfUnset.IGNORE, doc=(
        "The Atlassian cloud id of the site; mdsync discovers it when it needs it.",
    )),
    Key("confluence.connection", values.text("a string"), if_unset=IfUnset.IGNORE, modes=(AuthMode.MATON,), doc=(
        "Maton-Connection header, only when your Maton key has several Confluence connections.",
    )),
    Key("confluence.rate_limit", values.positive_number("a positive number of requests per second"),
        maton=MATON_RATE_LIMIT, if_unset=IfUnset.IGNORE, doc=(
            "Most requests per second mdsync may send; null means no cap",
            "(with auth: maton, null means the default of 8).",
        )),
    Key("confluence.gateway", values.URL, default=ATLASSIAN_GATEWAY, if_unset=IfUnset.IGNORE,
        modes=(AuthMode.BEARER,), doc=(
            "Where auth: bearer sends its requests: Atlassian's API gateway. Change it only to try",
            "scoped tokens against the local sandbox (its URL serves the gateway's paths too).",
        )),
    Key("space", values.SPACE_KEY, required="set it to the key of the Confluence space", example="DOCS",
        init=Written.ANSWER, doc=(
            "Key of the Confluence space that holds the pages, e.g. DOCS (or ~name for a personal space).",
        )),
    Key("parent", values.PAGE, init=Written.QUOTED, doc=(
        "Page id or exact title of the page under which the tree lives; null = the space home page.",
    )),
    Key("docs", values.FOLDER, default="docs", init=Written.QUOTED, doc=(
        "The local folder that mirrors the page tree, relative to this file.",
    )),
    Key("include", values.glob_patterns(at_least_one=True), default=("**/*.md",), doc=(
        "Glob patterns, relative to docs, of the files to sync.",
    )),
    Key("exclude", values.glob_patterns(at_least_one=False), default=(), doc=(
        'Glob patterns, relative to docs, of the included files to leave alone, e.g. ["drafts/**"].',
    )),
    Key("include_outside", values.FOLDERS, default=(), doc=(
        "Files and folders outside this file's folder (the repository) that a push may read,",
        'relative to this file, e.g. ["../shared-assets"]: images and linked files there are',
        "uploaded. Nothing else outside the repository is ever read, symbolic links included.",
    )),
    Key("folders", values.choice(FolderStyle), default=FolderStyle.FOLDER, doc=(
        "What a folder of docs without index.md or README.md becomes in Confluence: folder (a",
        "Confluence folder) or page (an empty page titled after the folder). Folders made before",
        "keep what they are.",
    )),
    Key("home_page", values.choice(HomePage), default=HomePage.KEEP, doc=(
        "The docs folder's own index.md (or README.md) is the body of the page that holds the tree.",
        "When that is the space's home page (parent: null): keep (a run that would overwrite it",
        "stops and says so; --allow-home allows it once) or write.",
    )),
    Key("sync.on_conflict", values.choice(ConflictPolicy), default=ConflictPolicy.AUTO, init=Written.DEFAULT, doc=(
        "When a page changed on both sides since the last sync:",
        "  auto    three-way merge where the edits touch different lines (pushed at once);",
        "          where they touch the same lines, stop as stop does",
        "  stop    report the conflict and change nothing: Confluence's version goes beside",
        "          the file as NAME.remote.md; merge it in, then run `mdsync resolve NAME.md`",
        "  merge   three-way merge; where the same lines changed, conflict markers go into the file",
        "  local   the local file wins",
        "  remote  the Confluence page wins",
    )),
    Key("sync.delete", values.choice(DeletePolicy), default=DeletePolicy.KEEP, init=Written.DEFAULT, doc=(
        "What deleting a local file does to its page: keep (leave the page alone) or trash",
        "(move the page to the space's trash; mdsync never purges).",
    )),
    Key("sync.max_delete", values.SHARE_OR_COUNT, default=(0.2, None), null=(None, None), init=Written.DEFAULT,
        fields=("max_delete_share", "max_delete_count"), doc=(
            'Safety stop: refuse a run that would trash more than this share of the pages ("20%"),',
            "or more than this number of pages (a whole number); the same for the files a pull would",
            "remove. A share applies from 10 pages up: a smaller tree may lose 2. null turns the stop",
            "off; --max-delete N or P% overrides it for one run.",
        )),
    Key("sync.concurrency", values.bounded_integer(1, MAX_CONCURRENCY), default=8, init=Written.DEFAULT, doc=(
        f"How many requests may be in flight at once (1 to {MAX_CONCURRENCY}).",
    )),
    Key("pull.filenames", values.choice(FileNames), default=FileNames.SLUG, doc=(
        "How a pull names the file of a page made in Confluence (and the folder of a Confluence",
        "folder): slug (lower case, hyphens for spaces and punctuation, letters of every script",
        'kept: "Colleague FAQ" -> colleague-faq.md) or title (the title as it is: Colleague FAQ.md).',
        "Files that exist keep their names, also when their page is renamed.",
    )),
)

BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
AUTH = BY_NAME["confluence.auth"]  # read first: the defaults of other keys depend on it
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(key.section for key in KEYS if key.section))
# The names each mapping may hold, by section ("" is the top level), in the schema's order.
NAMES: dict[str, tuple[str, ...]] = {
    "": tuple(dict.fromkeys(key.section or key.name for key in KEYS)),
    **{section: tuple(key.leaf for key in KEYS if key.section == section) for section in SECTIONS},
}
