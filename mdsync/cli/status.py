"""`mdsync status`: where each file stands against its page."""

from __future__ import annotations

from pathlib import Path

import click

from mdsync.cli.common import config_option, run_sync
from mdsync.vocabulary import Mode


@click.command(short_help="Where each file stands against its page.")
@config_option
@click.option("--check", is_flag=True, help="Exit 4 if anything is out of step (the CI gate).")
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable report.")
def status(config_path: Path | None, check: bool, as_json: bool) -> None:
    """Which files are in step, changed here, changed in Confluence, or both."""
    run_sync(Mode.SYNC, config_path, (), as_json=as_json, check=check, status=True)
