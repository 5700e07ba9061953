"""`mdsync init`: a first mdsync.yaml that works, written only after the connection does.

The token is never written into the file: the file refers to ``${CONFLUENCE_API_TOKEN}``
(or ``${MATON_API_KEY}``) and the user is told to export it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click
from rich.console import Console

from mdsync.config import MATON_URL, ConfluenceConfig, Secret, find_config, parse_config
from mdsync.config.template import init_text
from mdsync.errors import ConfigError, UsageError
from mdsync.vocabulary import AuthMode


def _ask(value: str | None, question: str, default: str | None = None) -> str:
    if value:
        return value
    if not sys.stdin.isatty():
        if default is not None:
            return default
        raise UsageError(f"{question} is needed: pass it as a flag (see mdsync init --help).")
    return str(click.prompt(question, default=default))


# The keys init asks for, by the flag that answers them.
FLAGS = {"confluence.url": "--url", "confluence.auth": "--auth", "confluence.email": "--email", "space": "--space",
         "parent": "--parent", "docs": "--docs"}


def _space_key(key: str) -> str:
    """Confluence keeps a site space's key in capitals (``docs`` is space DOCS); a personal
    space's key (``~name``) stays as typed."""
    key = key.strip()
    return key if key.startswith("~") else key.upper()


def render(url: str, auth: str, email: str | None, space: str, parent: str | None, docs: str) -> str:
    """The mdsync.yaml init writes: the token as a ${VAR} reference, never the token itself."""
    answers = {"confluence.url": url, "confluence.auth": auth, "confluence.email": email, "space": space,
               "parent": parent, "docs": docs}
    return init_text(AuthMode(auth), answers)


def init_config(console: Console, path: Path, *, url: str | None, auth: str | None, email: str | None,
                space: str | None, parent: str | None, docs: str | None, force: bool, check: bool) -> None:
    from mdsync.cli.output import printable

    if path.exists() and not force:
        raise UsageError(f"{path} already exists: edit it, or run mdsync init --force to replace it.")
    folder = path.absolute().parent
    above = find_config(folder.parent)
    if not force and not (folder / ".git").exists() and above.is_file():
        raise UsageError(f"{above} already configures this folder (mdsync finds it from here): edit it, or run "
                         "mdsync init --force to write a second configuration here.")
    modes = [str(mode) for mode in AuthMode]
    auth = auth or (_ask(None, f"Sign in with ({', '.join(modes)})", AuthMode.TOKEN) if sys.stdin.isatty()
                    else AuthMode.TOKEN)
    if auth not in modes:
        raise UsageError(f"auth must be {', '.join(modes[:-1])} or {modes[-1]}, got {auth!r}.")
    url = _ask(url, "Confluence site URL", MATON_URL if auth == AuthMode.MATON else None)
    if auth == AuthMode.TOKEN:
        email = email or os.environ.get("CONFLUENCE_EMAIL") or _ask(None, "Atlassian account email")
    space = _space_key(_ask(space, "Space key"))
    docs = docs or (_ask(None, "Docs folder", "docs") if sys.stdin.isatty() else "docs")
    text = render(url.rstrip("/"), auth, email, space, parent, docs)
    # A bad answer is named by its flag: the file it would go in is not written yet.
    config = parse_config(text, root=path.parent.resolve(), source="mdsync init", flags=FLAGS,
                          environ={**os.environ, **({"CONFLUENCE_EMAIL": email} if email else {})})
    token_var = config.confluence.token_env_var
    if check:
        token = os.environ.get(token_var)
        if not token and sys.stdin.isatty():
            token = click.prompt(f"API token (used for this check only, not saved; export {token_var} later)",
                                 hide_input=True)
        if not token:
            raise ConfigError(f"To test the connection mdsync needs the token: export {token_var}=... and run "
                              "mdsync init again (or pass --no-check).")
        confluence = ConfluenceConfig(**{**config.confluence.__dict__, "token": Secret(token)})
        who, space_name = asyncio.run(_check(confluence, config.space, config.parent))
        # The account's name and the space's come from Confluence.
        console.print(f"Connected as {printable(who)}; you may add pages to space {config.space} "
                      f"({printable(space_name)}).")
    path.write_text(text, encoding="utf-8")
    console.print(f"Wrote {path}. The token is not in it: export {token_var}=<your token> before running mdsync.")
    docs_path = config.docs
    if not docs_path.exists():
        console.print(f"The docs folder {docs_path} does not exist yet: create it and put Markdown files in it.")


async def _check(confluence: ConfluenceConfig, space: str, parent: str | None) -> tuple[str, str]:
    from mdsync.confluence.client import ConfluenceClient

    async with ConfluenceClient(confluence) as client:
        user = await client.current_user()
        found = await client.space(space)
        if ("create", "page") not in await client.space_operations(found.id):
            raise ConfigError(f"Your account can see space {space} but may not add pages to it: ask a space admin "
                              "for the 'Add pages' permission, or choose another space.")
        if parent:
            if parent.isdigit():
                await client.get_page(parent, body=False)
            elif await client.find_page(found.id, parent) is None:
                raise ConfigError(f"There is no page titled '{parent}' in space {space}: create it first, or leave "
                                  "--parent out to use the space home page.")
        return str(user.get("displayName") or user.get("email") or user.get("accountId")), found.name


@click.command(short_help="Write mdsync.yaml after testing the connection.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("mdsync.yaml"), show_default=True, help="Where to write the configuration.")
@click.option("--url", help="Confluence site URL, e.g. https://your-site.atlassian.net.")
@click.option("--auth", type=click.Choice([str(mode) for mode in AuthMode]), help="How to sign in (default: token).")
@click.option("--email", help="Your Atlassian account email (for auth token).")
@click.option("--space", "space_key", help="Key of the space to sync with, e.g. DOCS.")
@click.option("--parent", help="Page id or title that holds the tree (default: the space home page).")
@click.option("--docs", "docs_folder", help="The folder of Markdown files (default: docs).")
@click.option("--force", is_flag=True, help="Replace an existing configuration file.")
@click.option("--no-check", is_flag=True, help="Write the file without testing the connection.")
def init(config_path: Path, url: str | None, auth: str | None, email: str | None, space_key: str | None,
         parent: str | None, docs_folder: str | None, force: bool, no_check: bool) -> None:
    """Write mdsync.yaml (asking for what the flags leave out) after testing the connection."""
    from mdsync.cli.output import console

    init_config(console(soft_wrap=True), config_path, url=url, auth=auth, email=email,
                space=space_key, parent=parent, docs=docs_folder, force=force, check=not no_check)
