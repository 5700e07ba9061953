"""`mdsync pull`: bring back what colleagues changed in Confluence."""

from __future__ import annotations

from pathlib import Path

import click

from mdsync.cli.common import config_option, max_delete_option, run_sync, sync_options
from mdsync.vocabulary import Mode


@click.command(short_help="Bring Confluence's edits back into the files.")
@config_option
@sync_options
@max_delete_option
def pull(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool,
         max_delete: tuple[float | None, int | None] | None) -> None:
    """Bring pages changed in Confluence back into their files (never overwriting local edits)."""
    run_sync(Mode.PULL, config_path, paths, dry_run=dry_run, as_json=as_json, max_delete=max_delete)
