"""`mdsync push`: publish what changed here."""

from __future__ import annotations

from pathlib import Path

import click

from mdsync.cli.common import (
    allow_home_option,
    config_option,
    delete_option,
    max_delete_option,
    run_sync,
    sync_options,
)
from mdsync.vocabulary import Mode


@click.command(short_help="Publish changed files to Confluence.")
@config_option
@sync_options
@click.option("--force", is_flag=True, help="Overwrite pages that changed in Confluence since the last sync.")
@delete_option
@max_delete_option
@allow_home_option
def push(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool, force: bool,
         delete: bool, max_delete: tuple[float | None, int | None] | None, allow_home: bool) -> None:
    """Publish changed files to Confluence (all, or the PATHS given)."""
    run_sync(Mode.PUSH, config_path, paths, dry_run=dry_run, as_json=as_json, force=force, delete=delete,
             allow_home=allow_home, max_delete=max_delete)
