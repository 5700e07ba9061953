"""`mdsync resolve`: end a conflict in one command."""

from __future__ import annotations

from pathlib import Path

import click

from mdsync.cli.common import config_option, promise_json, run_sync, sync_options
from mdsync.errors import UsageError
from mdsync.vocabulary import Keep, Mode


@click.command(short_help="End a conflict: your merge (or one side) becomes agreed.")
@config_option
@sync_options
@click.option("--keep", type=click.Choice([keep.value for keep in Keep]), default=Keep.MERGED.value,
              show_default=True,
              help="merged: the file as you merged it (no conflict markers left); local: the file as it is, "
                   "overwriting Confluence's edit; remote: Confluence's version, discarding the edit here.")
@click.option("--all", "every", is_flag=True,
              help="Every file with Confluence's version beside it (NAME.remote.md).")
def resolve(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool, keep: str,
            every: bool) -> None:
    """Settle a conflict: make the side you keep the agreed version and write it to the other
    side now (Confluence's copy NAME.remote.md goes)."""
    promise_json(as_json)
    if not paths and not every:
        raise UsageError("Name the files to resolve (mdsync resolve NAME.md), or resolve every file with a "
                         "NAME.remote.md beside it with --all.")
    run_sync(Mode.SYNC, config_path, paths, dry_run=dry_run, as_json=as_json, keep=Keep(keep), every=every)
