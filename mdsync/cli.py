"""The mdsync command line: one click group, one command per job.

Errors are MdsyncError subclasses: the CLI prints their one-sentence message and exits
with their code (0 ok, 1 failure, 2 usage or config, 3 conflicts, 4 differences). A
traceback is shown only with ``-v``.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mdsync import __version__
from mdsync.errors import EXIT_FAILURE, MdsyncError, UsageError
from mdsync.vocabulary import ConflictPolicy


class MdsyncGroup(click.Group):
    """Turns MdsyncError into its message and exit code instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MdsyncError as error:
            _fail(ctx, error.message, error.exit_code, error)
        except KeyboardInterrupt:
            Console(stderr=True).print("Interrupted.")
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # a bug: say so plainly, show details only with -v
            _fail(ctx, f"mdsync stopped on an unexpected error ({type(error).__name__}). "
                       "Run again with -v for details and report it.", EXIT_FAILURE, error)


JSON_ERRORS = "mdsync.json_errors"  # ctx.meta key: the command promised one JSON document


def _fail(ctx: click.Context, message: str, code: int, error: BaseException) -> None:
    console = Console(stderr=True, highlight=False)
    if ctx.find_root().params.get("verbose"):
        console.print_exception(show_locals=False)
    console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    if ctx.meta.get(JSON_ERRORS):
        # A tool reading stdout still gets its one document, saying what went wrong.
        click.echo(json.dumps({"error": message, "exit_code": code}, ensure_ascii=False))
    ctx.exit(code)


@click.group(cls=MdsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="mdsync")
@click.option("-v", "--verbose", is_flag=True, help="Show details (and tracebacks on errors).")
def cli(verbose: bool) -> None:
    """Keep a folder of Markdown files and a Confluence page tree in step."""


# -- sandbox ------------------------------------------------------------------------------


@cli.group()
def sandbox() -> None:
    """A local server that behaves like Confluence Cloud (for demos, tests and previews)."""


def _share(name: str, what: str) -> Any:
    return click.option(f"--{name}-share", f"{name.replace('-', '_')}_share", type=float, default=None,
                        metavar="F", help=f"Share of API requests (0..1) that {what}.")


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file that keeps the data between runs (default: in memory).")
@click.option("--space", "spaces", multiple=True, metavar="KEY",
              help="Create this space if missing (repeatable; default DOCS).")
@click.option("--email", default=None, help="The email the sandbox accepts (Basic auth).")
@click.option("--token", default=None, help="The API token the sandbox accepts (Basic or Bearer).")
@click.option("--latency", "latency_ms", type=float, default=None, metavar="MS", help="Delay added to every API request.")
@_share("rate-limit", "get 429 with Retry-After")
@_share("unavailable", "get 503 with Retry-After")
@_share("drop", "lose their connection before being handled")
@_share("lost-response", "are handled but lose their response")
@click.option("--retry-after", type=int, default=None, metavar="S", help="Retry-After seconds sent with 429 and 503.")
@click.option("--fault-seed", type=int, default=None, metavar="N", help="Seed that makes injected faults repeatable.")
@click.option("--maton-rps", type=float, default=10.0, show_default=True,
              help="Requests per second the Maton gateway form allows (0 = no limit).")
def sandbox_serve(host: str, port: int, db_path: str | None, spaces: tuple[str, ...], email: str | None,
                  token: str | None, latency_ms: float | None, rate_limit_share: float | None,
                  unavailable_share: float | None, drop_share: float | None, lost_response_share: float | None,
                  retry_after: int | None, fault_seed: int | None, maton_rps: float) -> None:
    """Serve the sandbox until Ctrl-C. Faults can also be set with MDSYNC_SANDBOX_* variables."""
    from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
    from mdsync.sandbox.faults import Faults
    from mdsync.sandbox.server import serve_forever
    from mdsync.sandbox.store import ApiError, Store

    faults = Faults.from_env(latency_ms=latency_ms, rate_limit_share=rate_limit_share,
                             unavailable_share=unavailable_share, drop_share=drop_share,
                             lost_response_share=lost_response_share, retry_after=retry_after, seed=fault_seed)
    try:
        store = Store(db_path) if db_path else Store()
        box = create_sandbox(store, email=email or DEFAULT_EMAIL, token=token or DEFAULT_TOKEN, faults=faults,
                             spaces=spaces or ("DOCS",), maton_per_second=maton_rps)
    except ApiError as error:
        raise UsageError(f"The sandbox could not create its spaces: {error.title}") from None
    except sqlite3.Error as error:
        raise UsageError(f"The sandbox database {db_path} cannot be used ({error}); pass another --db file.") from None
    console = Console(highlight=False, soft_wrap=True)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    console.print(f"[bold]mdsync sandbox[/] on {url}  (preview: {url}/)")
    console.print(f"  site URL for mdsync.yaml: {url}    cloud id: {store.cloud_id}")
    console.print(f"  spaces: {', '.join(space.key for space in store.spaces())}")
    console.print(f"  email: {box.credentials.email}")
    # The default token is public knowledge; a token the user chose is never echoed.
    console.print(f"  token: {DEFAULT_TOKEN if token is None else '(the one given with --token)'}")
    if faults.active:
        console.print(f"  faults: {faults.as_dict()}")
    console.print("Press Ctrl-C to stop.")
    serve_forever(box, host, port)


# -- push, pull, sync, status ---------------------------------------------------------------


def config_option(command: Any) -> Any:
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="The mdsync.yaml to use (default: ./mdsync.yaml).")(command)


def _sync_options(command: Any) -> Any:
    command = click.option("--json", "as_json", is_flag=True, help="Print one machine-readable report.")(command)
    command = click.option("--dry-run", is_flag=True, help="Show the plan with a diff per page; write nothing.")(command)
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(command)


def _run(mode: str, config_path: Path | None, paths: tuple[Path, ...], *, dry_run: bool = False, as_json: bool = False,
         force: bool = False, delete: bool = False, on_conflict: str | None = None, resync: bool = False,
         check: bool = False, status: bool = False) -> None:
    from mdsync.config import load_config
    from mdsync.confluence.client import ConfluenceClient
    from mdsync.output import LiveProgress, show
    from mdsync.sync.engine import Engine, RunOptions
    from mdsync.sync.state import State

    click.get_current_context().meta[JSON_ERRORS] = as_json
    config = load_config(config_path)
    relative = tuple(_docs_relative(config.docs, path) for path in paths)
    console = Console(highlight=False, log_path=False)
    quiet = as_json or not console.is_terminal

    progress = None if quiet else LiveProgress(console)

    async def go() -> Any:
        cloud_id = State.cached_cloud_id(config.state_dir, config.confluence.url)
        async with ConfluenceClient(config.confluence, concurrency=config.sync.concurrency,
                                    cloud_id=cloud_id) as client:
            engine = Engine(config, client, progress=progress)
            return await engine.run(RunOptions(mode=mode, dry_run=dry_run, force=force,  # type: ignore[arg-type]
                                               delete="trash" if delete else None, on_conflict=on_conflict,
                                               paths=relative, resync=resync, check=check, status=status))

    try:
        report = asyncio.run(go())
    finally:
        if progress is not None:
            progress.stop()
    show(report, console, as_json=as_json)
    if report.exit_code:
        sys.exit(report.exit_code)


def _docs_relative(docs: Path, path: Path) -> str:
    absolute = path.resolve()
    try:
        relative = absolute.relative_to(docs.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"{path} is not inside the docs folder {docs}.") from None
    return "" if relative == "." else relative + ("/" if absolute.is_dir() else "")


@cli.command()
@config_option
@_sync_options
@click.option("--force", is_flag=True, help="Overwrite pages that changed in Confluence since the last sync.")
@click.option("--delete", is_flag=True, help="Trash the pages of deleted files (as sync.delete: trash).")
def push(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool, force: bool,
         delete: bool) -> None:
    """Publish changed files to Confluence (all, or the PATHS given)."""
    _run("push", config_path, paths, dry_run=dry_run, as_json=as_json, force=force, delete=delete)


@cli.command()
@config_option
@_sync_options
def pull(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool) -> None:
    """Bring pages changed in Confluence back into their files (never overwriting local edits)."""
    _run("pull", config_path, paths, dry_run=dry_run, as_json=as_json)


@cli.command()
@config_option
@_sync_options
@click.option("--on-conflict", type=click.Choice([policy.value for policy in ConflictPolicy]), default=None,
              help="What to do with files changed on both sides (default: sync.on_conflict).")
@click.option("--delete", is_flag=True, help="Trash the pages of deleted files (as sync.delete: trash).")
@click.option("--resync", is_flag=True, help="Rebuild .mdsync/state.json from Confluence and the files first.")
@click.option("--check", is_flag=True, help="Change nothing; exit 4 if the two sides are out of step (for CI).")
def sync(config_path: Path | None, paths: tuple[Path, ...], dry_run: bool, as_json: bool, on_conflict: str | None,
         delete: bool, resync: bool, check: bool) -> None:
    """Both directions in one run: push what changed here, pull what changed in Confluence."""
    _run("sync", config_path, paths, dry_run=dry_run, as_json=as_json, on_conflict=on_conflict, delete=delete,
         resync=resync, check=check)


@cli.command()
@config_option
@click.option("--check", is_flag=True, help="Exit 4 if anything is out of step (the CI gate).")
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable report.")
def status(config_path: Path | None, check: bool, as_json: bool) -> None:
    """Which files are in step, changed here, changed in Confluence, or both."""
    _run("sync", config_path, (), as_json=as_json, check=check, status=True)


# -- check ----------------------------------------------------------------------------------


@cli.command()
@config_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--docs", "docs_folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The docs folder (default: from mdsync.yaml).")
@click.option("--allow-degraded", is_flag=True,
              help="Report constructs Confluence shows differently, but do not fail on them.")
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable report.")
def check(config_path: Path | None, paths: tuple[Path, ...], docs_folder: Path | None, allow_degraded: bool,
          as_json: bool) -> None:
    """Find what would go wrong on push, offline and without credentials (PATHS: only these)."""
    from mdsync.check import check_docs, selector
    from mdsync.config import load_config

    click.get_current_context().meta[JSON_ERRORS] = as_json
    include, exclude, state_dir = ("**/*.md",), (), None
    if docs_folder is None:
        if config_path is None and not Path("mdsync.yaml").exists():
            raise UsageError("There is no mdsync.yaml here: run mdsync check in the folder that has it, or pass "
                             "--docs DIR (or --config FILE).")
        config = load_config(config_path)
        docs_folder, include, exclude, state_dir = config.docs, config.include, config.exclude, config.state_dir
    if not docs_folder.is_dir():
        raise UsageError(f"The docs folder {docs_folder} does not exist.")
    problems = check_docs(docs_folder, include=include, exclude=exclude, selected=selector(docs_folder, paths),
                          state_dir=state_dir)
    failing = [problem for problem in problems if problem.kind == "broken" or not allow_degraded]
    code = 1 if failing else 0
    if as_json:
        click.echo(json.dumps({"exit_code": code, "problems": [problem.as_dict() for problem in problems]},
                              ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            click.echo(f"{problem}" + (" (degraded)" if problem.kind == "degraded" else ""))
        count = len({problem.path for problem in problems})
        click.echo(f"{len(problems)} problem(s) in {count} file(s)." if problems else "No problems found.",
                   err=True)
    sys.exit(code)


# -- watch ----------------------------------------------------------------------------------


@cli.command()
@config_option
@click.option("--debounce", type=click.FloatRange(0.05, 60), default=0.3, show_default=True, metavar="S",
              help="Seconds a file must be quiet before it is pushed.")
@click.option("--poll", type=click.FloatRange(0, 86400), default=30.0, show_default=True, metavar="S",
              help="Seconds between looks at Confluence for colleagues' edits (0: never).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON event per line instead of a status line.")
def watch(config_path: Path | None, debounce: float, poll: float, as_json: bool) -> None:
    """Push each save within a second and pull what changes in Confluence, until stopped."""
    from mdsync.config import load_config
    from mdsync.confluence.client import ConfluenceClient
    from mdsync.confluence.retry import RetryPolicy
    from mdsync.output import WatchConsole, WatchJson
    from mdsync.sync.state import State
    from mdsync.sync.watch import Watcher, WatchOptions

    click.get_current_context().meta[JSON_ERRORS] = as_json
    config = load_config(config_path)
    reporter = WatchJson(lambda line: click.echo(line)) if as_json else \
        WatchConsole(Console(highlight=False, log_path=False))

    async def go() -> None:
        # Short retries: the watcher keeps changes and retries on its own, so it can say so.
        retry = RetryPolicy(attempts=3, max_delay=5.0, max_total_wait=10.0)
        cloud_id = State.cached_cloud_id(config.state_dir, config.confluence.url)
        async with ConfluenceClient(config.confluence, concurrency=config.sync.concurrency, cloud_id=cloud_id,
                                    retry=retry) as client:
            watcher = Watcher(config, client, reporter, WatchOptions(debounce=debounce, poll=poll))
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


# -- init ---------------------------------------------------------------------------------


@cli.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("mdsync.yaml"), show_default=True, help="Where to write the configuration.")
@click.option("--url", help="Confluence site URL, e.g. https://your-site.atlassian.net.")
@click.option("--auth", type=click.Choice(["token", "bearer", "maton"]), help="How to sign in (default: token).")
@click.option("--email", help="Your Atlassian account email (for auth token).")
@click.option("--space", "space_key", help="Key of the space to sync with, e.g. DOCS.")
@click.option("--parent", help="Page id or title that holds the tree (default: the space home page).")
@click.option("--docs", "docs_folder", help="The folder of Markdown files (default: docs).")
@click.option("--force", is_flag=True, help="Replace an existing configuration file.")
@click.option("--no-check", is_flag=True, help="Write the file without testing the connection.")
def init(config_path: Path, url: str | None, auth: str | None, email: str | None, space_key: str | None,
         parent: str | None, docs_folder: str | None, force: bool, no_check: bool) -> None:
    """Write mdsync.yaml (asking for what the flags leave out) after testing the connection."""
    from mdsync.setup import init_config

    init_config(Console(highlight=False, soft_wrap=True), config_path, url=url, auth=auth, email=email,
                space=space_key, parent=parent, docs=docs_folder, force=force, check=not no_check)


# -- convert ------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "target", type=click.Choice(["storage", "markdown"]), default="storage", show_default=True,
              help="storage: a Markdown file to Confluence storage; markdown: a storage file back to Markdown.")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Docs folder that relative links resolve in (default: the file's folder).")
@click.option("--json", "as_json", is_flag=True, help="Print title, labels, attachments, links and warnings too.")
def convert(file: Path, target: str, root: Path | None, as_json: bool) -> None:
    """Convert one file offline (no credentials): Markdown to storage, or storage to Markdown."""
    from mdsync.convert import convert_markdown, convert_storage
    from mdsync.docs import InputError, folder_links, read_markdown, scan

    if target == "markdown":
        from mdsync.storage.xhtml import StorageParseError

        try:
            back = convert_storage(read_markdown(file, str(file)))
        except StorageParseError as error:
            raise InputError(f"{file} is not valid Confluence storage format: {error}.") from None
        if as_json:
            click.echo(json.dumps({"file": str(file), "markdown": back.markdown, "attachments": list(back.attachments),
                                   "links": [{"title": title, "space": space} for title, space in back.links],
                                   "carried": list(back.carried), "losses": list(back.losses)},
                                  ensure_ascii=False, indent=2))
        else:
            click.echo(back.markdown, nl=False)
        return

    root = (root or file.parent).resolve()
    absolute = file.resolve()
    if not absolute.is_relative_to(root):
        raise UsageError(f"{file} is not inside the docs folder {root}: pass --root with a folder that holds it.")
    relative = absolute.relative_to(root).as_posix()
    links = folder_links(root, scan(root))
    converted = convert_markdown(read_markdown(absolute, str(file)), path=relative, resolve_link=links.link,
                                 resolve_image=links.image)
    if as_json:
        report = {
            "file": relative, "title": converted.title, "labels": list(converted.labels),
            "storage": converted.storage,
            "attachments": [{"path": ref.path, "filename": ref.filename} for ref in converted.attachments],
            "links": list(converted.links), "warnings": [str(warning) for warning in converted.warnings],
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(converted.storage)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    for warning in converted.warnings:
        errors.print(f"[yellow]warning:[/] {relative}: {warning}")


# -- demo ---------------------------------------------------------------------------------


@cli.command()
@click.option("--serve", is_flag=True, help="Keep the sandbox running after the demo, for the preview.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port for the sandbox (default: a free one).")
@click.option("--docs", "docs_path", type=click.Path(file_okay=False, exists=True), default=None,
              help="Docs folder to use instead of sample_docs.")
def demo(serve: bool, port: int, docs_path: str | None) -> None:
    """Run the whole story against a sandbox started in-process: push, a colleague's edit, pull."""
    from mdsync.demo import run_demo

    run_demo(Console(highlight=False), serve=serve, port=port or None, docs=docs_path)


def main(argv: Sequence[str] | None = None) -> None:
    cli.main(args=list(argv) if argv is not None else None, prog_name="mdsync")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
