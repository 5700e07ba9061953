"""`mdsync watch`: push each save, pull what colleagues change, until stopped."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from mdsync.cli.common import config_option, max_delete_option, promise_json


@click.command(short_help="Push each save and pull Confluence's edits.")
@config_option
@click.option("--debounce", type=click.FloatRange(0.05, 60), default=0.3, show_default=True, metavar="S",
              help="Seconds a file must be quiet before it is pushed.")
@click.option("--poll", type=click.FloatRange(0, 86400), default=30.0, show_default=True, metavar="S",
              help="Seconds between looks at Confluence for colleagues' edits (0: never).")
@max_delete_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line instead of a status line.")
def watch(config_path: Path | None, debounce: float, poll: float, max_delete: tuple[float | None, int | None] | None,
          as_json: bool) -> None:
    """Push each save within a second and pull what changes in Confluence, until stopped."""
    from mdsync.cli.output import WatchConsole, WatchJson, console
    from mdsync.config import load_config
    from mdsync.confluence.client import ConfluenceClient
    from mdsync.confluence.retry import RetryPolicy
    from mdsync.sync.state import State
    from mdsync.sync.watch import Watcher, WatchOptions

    promise_json(as_json)
    config = load_config(config_path)
    reporter = WatchJson(lambda line: click.echo(line)) if as_json else \
        WatchConsole(console(log_path=False))

    async def go() -> None:
        # Short retries: the watcher keeps changes and retries on its own, so it can say so.
        retry = RetryPolicy(attempts=3, max_delay=5.0, max_total_wait=10.0)
        cloud_id = State.cached_cloud_id(config.state_dir, config.confluence.url)
        async with ConfluenceClient(config.confluence, concurrency=config.sync.concurrency, cloud_id=cloud_id,
                                    retry=retry) as client:
            watcher = Watcher(config, client, reporter,
                              WatchOptions(debounce=debounce, poll=poll, max_delete=max_delete))
            loop = asyncio.get_running_loop()
            main = asyncio.current_task()

            def stop() -> None:
                if watcher.stopping and main is not None:
                    main.cancel()  # asked twice: do not wait for the run in flight
                watcher.request_stop()

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop)
            await watcher.run()

    try:
        asyncio.run(go())
    except asyncio.CancelledError:
        sys.exit(130)
