"""What the commands share: the --config option, the options of a sync run, and the run itself."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from mdsync.errors import UsageError
from mdsync.vocabulary import ConflictPolicy, DeletePolicy, Keep, Mode

JSON_ERRORS = "mdsync.json_errors"  # ctx.meta key: the command promised one JSON document


def promise_json(as_json: bool) -> None:
    """A command printing one JSON document prints one on failure too (the group reads this)."""
    click.get_current_context().meta[JSON_ERRORS] = as_json


def config_option(command: Any) -> Any:
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="The mdsync.yaml to use (default: ./mdsync.yaml).")(command)


def sync_options(command: Any) -> Any:
    """PATHS, --dry-run and --json: what push, pull and sync all take."""
    command = click.option("--json", "as_json", is_flag=True, help="Print one machine-readable report.")(command)
    command = click.option("--dry-run", is_flag=True, help="Show the plan with a diff per page; write nothing.")(command)
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(command)


def allow_home_option(command: Any) -> Any:
    return click.option("--allow-home", is_flag=True,
                        help="Let the docs folder's index.md write the space's home page (as home_page: write).")(command)


def delete_option(command: Any) -> Any:
    return click.option("--delete", is_flag=True,
                        help="Trash the pages of deleted files (as sync.delete: trash).")(command)


class ShareOrCount(click.ParamType):
    """--max-delete: a share ("20%") or a count ("3"), read as sync.max_delete is."""

    name = "N|P%"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from mdsync.config.values import SHARE_OR_COUNT, Invalid, Scalar

        if isinstance(value, tuple):
            return value
        try:
            return SHARE_OR_COUNT.parse(Scalar(str(value), str(value), repr(str(value))))
        except Invalid as error:
            self.fail(error.text, param, ctx)


def max_delete_option(command: Any) -> Any:
    return click.option("--max-delete", type=ShareOrCount(), default=None,
                        help="Most pages a run may trash, and files it may remove: a count (3) or a share "
                             "(50%); instead of sync.max_delete.")(command)


def run_sync(mode: Mode, config_path: Path | None, paths: tuple[Path, ...], *, dry_run: bool = False,
             as_json: bool = False, force: bool = False, delete: bool = False,
             on_conflict: ConflictPolicy | None = None, resync: bool = False, check: bool = False,
             status: bool = False, allow_home: bool = False,
             max_delete: tuple[float | None, int | None] | None = None, keep: Keep | None = None,
             every: bool = False) -> None:
    """One run of the engine, its report shown (a live progress line on a terminal), its exit code."""
    from mdsync.cli.output import LiveProgress, console, show
    from mdsync.config import load_config
    from mdsync.confluence.client import ConfluenceClient
    from mdsync.sync.engine import Engine, RunOptions
    from mdsync.sync.state import State

    promise_json(as_json)
    config = load_config(config_path)
    relative = tuple(docs_relative(config.docs, path) for path in paths)
    screen = console(log_path=False)
    progress = None if as_json or not screen.is_terminal else LiveProgress(screen)
    options = RunOptions(mode=mode, dry_run=dry_run, force=force, delete=DeletePolicy.TRASH if delete else None,
                         on_conflict=on_conflict, paths=relative, resync=resync, check=check, status=status,
                         allow_home=allow_home, max_delete=max_delete)

    async def go() -> Any:
        cloud_id = State.cached_cloud_id(config.state_dir, config.confluence.url)
        async with ConfluenceClient(config.confluence, concurrency=config.sync.concurrency,
                                    cloud_id=cloud_id) as client:
            if keep is not None:
                from mdsync.sync.resolve import resolve

                return await resolve(config, client, relative, keep, every=every, dry_run=dry_run, progress=progress)
            return await Engine(config, client, progress=progress).run(options)

    try:
        report = asyncio.run(go())
    finally:
        if progress is not None:
            progress.stop()
    show(report, screen, as_json=as_json)
    if report.exit_code:
        sys.exit(int(report.exit_code))


def docs_relative(docs: Path, path: Path) -> str:
    """A PATH given on the command line as a path of the docs folder (a folder ends in /)."""
    absolute = path.resolve()
    try:
        relative = absolute.relative_to(docs.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"{path} is not inside the docs folder {docs}.") from None
    return "" if relative == "." else relative + ("/" if absolute.is_dir() else "")
