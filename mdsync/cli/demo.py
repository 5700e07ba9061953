"""`mdsync demo`: the whole story against a sandbox started in-process.

It works on a temporary copy of the docs folder so that the repository is never touched:
push the docs, a colleague edits a page in Confluence (in the sandbox's Cloud editor, which
re-saves the whole page as the real one does), pull the edit back, then both sides change the
same page and a sync merges them.
"""

from __future__ import annotations

import asyncio
import difflib
import shutil
import tempfile
import time
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

import mdsync
from mdsync.cli import output
from mdsync.cli.output import summary
from mdsync.config import parse_config
from mdsync.confluence.client import ConfluenceClient
from mdsync.errors import UsageError
from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer
from mdsync.sync.engine import Engine, RunOptions
from mdsync.sync.report import Report


def find_sample_docs() -> Path:
    """sample_docs from the current folder, else from the source tree mdsync runs from."""
    for candidate in (Path.cwd() / "sample_docs", Path(mdsync.__file__).resolve().parents[1] / "sample_docs"):
        if candidate.is_dir():
            return candidate
    raise UsageError("No sample_docs folder found: run the demo from the mdsync repository or pass --docs PATH.")


def _colleague_edit(http: httpx.Client, title: str, change: str, *, replace: tuple[str, str] | None = None) -> None:
    """A colleague edits the page in Confluence's editor and publishes it.

    The sandbox re-saves the whole page as the Cloud editor does (every block rewritten), so
    the pull that follows shows that only the colleague's paragraph reaches the file.
    """
    found = http.get("/wiki/api/v2/pages", params={"title": title}).raise_for_status().json()["results"][0]
    page = http.get(f"/wiki/api/v2/pages/{found['id']}", params={"body-format": "storage"}).raise_for_status().json()
    body = page["body"]["storage"]["value"]
    if replace:
        body = body.replace(*replace, 1)
    body += f"<p>{change}</p>" if change else ""
    http.post(f"/_sandbox/pages/{page['id']}/editor-save", json={"storage": body}).raise_for_status()


def _show_diff(console: Console, before: str, after: str, name: str) -> None:
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{name} (before)",
                                        f"{name} (after)"))
    console.print(Syntax(diff or "(no change)\n", "diff", theme="ansi_dark", background_color="default",
                         word_wrap=True))


def run_demo(console: Console, *, serve: bool = False, port: int | None = None, docs: str | None = None) -> None:
    source = Path(docs) if docs else find_sample_docs()
    if not source.is_dir():
        raise UsageError(f"{source} does not exist: pass --docs with a folder of Markdown files.")
    with tempfile.TemporaryDirectory(prefix="mdsync-demo-") as scratch:
        work = Path(scratch)
        shutil.copytree(source, work / "docs")
        with BackgroundServer(create_sandbox(spaces=("DOCS",)), port=port) as server:
            (work / "mdsync.yaml").write_text(
                f"confluence:\n  url: {server.url}\n  auth: token\n  email: {DEFAULT_EMAIL}\n  token: {DEFAULT_TOKEN}\n"
                # The sandbox's home page is the demo's own: the docs' index.md may be its body.
                "space: DOCS\ndocs: docs\nhome_page: write\n", encoding="utf-8")
            config = parse_config((work / "mdsync.yaml").read_text(encoding="utf-8"), root=work, environ={})

            def sync(mode: str, **options: object) -> Report:
                async def go() -> Report:
                    async with ConfluenceClient(config.confluence, concurrency=config.sync.concurrency) as client:
                        return await Engine(config, client).run(RunOptions(mode=mode, **options))  # type: ignore[arg-type]
                return asyncio.run(go())

            console.rule("[bold]mdsync demo")
            console.print(f"A local Confluence sandbox is running at [bold]{server.url}[/]; the docs are a copy of "
                          f"{escape(output.printable(source))}.")

            started = time.perf_counter()
            report = sync("push")
            pages = sum(1 for outcome in report.outcomes if outcome.action == "create" and outcome.status == "done")
            console.print(f"\n[bold]1. Push.[/] {summary(report)} ({pages} pages in "
                          f"{time.perf_counter() - started:.1f} s)")
            console.print(f"   Again, with nothing changed: {summary(sync('push'))}")

            page_file = work / "docs" / "guides" / "installation.md"
            before = page_file.read_text(encoding="utf-8")
            with httpx.Client(base_url=server.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=10) as http:
                _colleague_edit(http, "Installation", "Tip from the ops team: run the installer with "
                                "<code>--dry-run</code> first to see what it will change.")
                console.print("\n[bold]2. A colleague edits[/] the Installation page in Confluence.")
                report = sync("pull")
                console.print(f"[bold]3. Pull.[/] {summary(report)} The file now reads:")
                _show_diff(console, before, page_file.read_text(encoding="utf-8"), "guides/installation.md")

                text = page_file.read_text(encoding="utf-8")
                page_file.write_text(text.replace("Acme Widgets ships", "Acme Widgets now ships", 1), encoding="utf-8")
                _colleague_edit(http, "Installation", "The colleague adds a second note at the end.")
                console.print("\n[bold]4. Both sides change[/] the same page: an edit near the top here, a new "
                              "note at the end in Confluence.")
                report = sync("sync", on_conflict="merge")
                console.print(f"[bold]5. Sync with on_conflict: merge.[/] {summary(report)}")
                _show_diff(console, text, page_file.read_text(encoding="utf-8"), "guides/installation.md")
                final = sync("sync")
                console.print(f"   A last sync finds both sides in step: {summary(final)}")

            console.print(f"\nPreview the pages at [bold]{server.url}/[/] "
                          + ("(running until Ctrl-C)." if serve else "(rerun with --serve to keep it up)."))
            if serve:
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    console.print("Stopped.")


@click.command()
@click.option("--serve", is_flag=True, help="Keep the sandbox running after the demo, for the preview.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port for the sandbox (default: a free one).")
@click.option("--docs", "docs_path", type=click.Path(file_okay=False, exists=True), default=None,
              help="Docs folder to use instead of sample_docs.")
def demo(serve: bool, port: int, docs_path: str | None) -> None:
    """Run the whole story against a sandbox started in-process: push, a colleague's edit, pull."""
    run_demo(output.console(markup=True), serve=serve, port=port or None, docs=docs_path)
