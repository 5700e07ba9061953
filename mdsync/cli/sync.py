"""`mdsync sync`: both directions in one run."""

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
from mdsync.vocabulary import ConflictPolicy, Mode


@click.command(short_help="Push what changed here, pull what changed there.")
@config_option
@sync_options
@click.option("--on-conflict", type=click.Choice([policy.value for policy in ConflictPolicy]), default=None,
              help="What to do with files changed on both sides (default: sync.on_conflict).")
@delete_option
@max_delete_option
@click.option("--resync", is_flag=True, help="Rebuild .mdsync/state.json from Confluence and the files first.")
@click.option("--check", is_flag=True, help="Change nothing; exit 4 if the two sides are out of step (for CI).")
@allow_home_option
def sync(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool, on_conflict: str | None,
         delete: bool, max_delete: tuple[float | None, int | None] | None, resync: bool, check: bool,
         allow_home: bool) -> None:
    """Both directions in one run: push what changed here, pull what changed in Confluence."""
    run_sync(Mode.SYNC, config_path, paths, dry_run=dry_run, as_json=as_json, delete=delete, resync=resync,
             on_conflict=ConflictPolicy(on_conflict) if on_conflict else None, check=check, allow_home=allow_home,
             max_delete=max_delete)
