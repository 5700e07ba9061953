"""`mdsync demo`: the whole story against a sandbox started in-process.

It works on a temporary copy of the docs folder (the sample docs shipped in the package, or
any folder given with --docs) so that the folder is never touched: push the docs, a colleague
edits one of the pages in Confluence (in the sandbox's Cloud editor, which re-saves the whole
page as the real one does), pull the edit back, then both sides change that page and a sync
merges them.
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

from mdsync.cli import output
from mdsync.cli.output import summary
from mdsync.cli.sandbox import sandbox_extra
from mdsync.config import parse_config
from mdsync.confluence.client import ConfluenceClient
from mdsync.docs import INDEX_FILES
from mdsync.errors import UsageError
from mdsync.sync.engine import Engine, RunOptions
from mdsync.sync.report import Report

# Package data (pyproject.toml), so that an installed wheel has them as a clone does.
SAMPLE_DOCS = Path(__file__).resolve().parents[1] / "sample_docs"
COLLEAGUE_TIP = "Tip from a colleague: ask in the team channel when a step here does not work for you."
COLLEAGUE_NOTE = "The colleague adds a second note at the end."
LOCAL_EDIT = "A line added in the file while the colleague was editing the page."


def _colleague_edit(http: httpx.Client, page_id: str, change: str) -> None:
    """A colleague adds a paragraph at the end of the page in Confluence's editor and publishes it.

    The sandbox re-saves the whole page as the Cloud editor does (every block rewritten), so
    the pull that follows shows that only the colleague's paragraph reaches the file.
    """
    page = http.get(f"/wiki/api/v2/pages/{page_id}", params={"body-format": "storage"}).raise_for_status().json()
    body = page["body"]["storage"]["value"] + f"<p>{change}</p>"
    http.post(f"/_sandbox/pages/{page_id}/editor-save", json={"storage": body}).raise_for_status()


def _show_diff(console: Console, before: str, after: str, name: str) -> None:
    diff = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{name} (before)",
                                        f"{name} (after)"))
    output.print_diff(console, diff or "(no change)\n")


def _demo_page(http: httpx.Client, report: Report) -> tuple[str, str, str] | None:
    """(path, page id, title) of the page the story edits: the first file by name that the push
    made a page of, a page of its own before a folder's index page."""
    made = sorted((outcome.path.rpartition("/")[2] in INDEX_FILES, outcome.path, str(outcome.page_id))
                  for outcome in report.outcomes
                  if outcome.action in ("create", "adopt") and outcome.status == "done" and outcome.page_id
                  and outcome.path.endswith(".md"))
    for _, path, page_id in made:
        found = http.get(f"/wiki/api/v2/pages/{page_id}")
        if found.status_code == 200:  # a page, not a blog post
            return path, page_id, str(found.json()["title"])
    return None


def _add_near_top(text: str, line: str) -> str:
    """``text`` with ``line`` as a new paragraph before its first block (after the front matter
    and an opening H1): an edit here far from the colleague's at the end, so the two merge."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    at = 0
    if lines and lines[0].rstrip() == "---":
        at = next((index + 1 for index in range(1, len(lines)) if lines[index].rstrip() in ("---", "...")), 0)
    while at < len(lines) and not lines[at].strip():
        at += 1
    if at < len(lines) and lines[at].startswith("# "):
        at += 1
        while at < len(lines) and not lines[at].strip():
            at += 1
    if at == len(lines):
        end = "" if not lines or lines[-1].endswith(("\n", "\r")) else newline
        return text + end + newline + line + newline
    return "".join(lines[:at]) + line + newline + newline + "".join(lines[at:])


def run_demo(console: Console, *, serve: bool = False, port: int | None = None, docs: str | None = None) -> None:
    with sandbox_extra("demo"):
        from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
        from mdsync.sandbox.server import BackgroundServer
    source = Path(docs) if docs else SAMPLE_DOCS
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
            shown = "the sample docs" if docs is None else escape(output.printable(source))
            console.print(f"A local Confluence sandbox is running at [bold]{server.url}[/]; the docs are a copy of "
                          f"{shown}.")

            started = time.perf_counter()
            report = sync("push")
            if report.exit_code:  # what stopped or failed, as push shows it, before the story goes on
                output.show(report, console, as_json=False)
            pages = sum(1 for outcome in report.outcomes if outcome.action == "create" and outcome.status == "done")
            console.print(f"\n[bold]1. Push.[/] {escape(summary(report))} ({pages} pages in "
                          f"{time.perf_counter() - started:.1f} s)")
            with httpx.Client(base_url=server.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=10) as http:
                found = _demo_page(http, report)
                if found is None:
                    raise UsageError(f"The demo edits one page, and no Markdown file of {output.printable(source)} "
                                     f"was pushed as a page{' (see above)' if report.exit_code else ''}: pass "
                                     "--docs with a folder of Markdown files, or leave it out for the sample docs.")
                path, page_id, title = found
                console.print(f"   Again, with nothing changed: {escape(summary(sync('push')))}")
                page_file = work / "docs" / path
                name = escape(output.printable(path))
                before = page_file.read_text(encoding="utf-8")
                _colleague_edit(http, page_id, COLLEAGUE_TIP)
                console.print(f"\n[bold]2. A colleague edits[/] the page {escape(output.printable(title))} "
                              "in Confluence.")
                report = sync("pull")
                console.print(f"[bold]3. Pull.[/] {escape(summary(report))} {name} now reads:")
                _show_diff(console, before, page_file.read_text(encoding="utf-8"), path)

                text = page_file.read_text(encoding="utf-8")
                page_file.write_text(_add_near_top(text, LOCAL_EDIT), encoding="utf-8", newline="")
                _colleague_edit(http, page_id, COLLEAGUE_NOTE)
                console.print("\n[bold]4. Both sides change[/] the same page: a line near the top here, a new "
                              "note at the end in Confluence.")
                report = sync("sync", on_conflict="merge")
                console.print(f"[bold]5. Sync with on_conflict: merge.[/] {escape(summary(report))}")
                _show_diff(console, text, page_file.read_text(encoding="utf-8"), path)
                final = sync("sync")
                console.print(f"   A last sync finds both sides in step: {escape(summary(final))}")

            console.print(f"\nPreview the pages at [bold]{server.url}/[/] "
                          + ("(running until Ctrl-C)." if serve else "(rerun with --serve to keep it up)."))
            if serve:
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    console.print("Stopped.")


@click.command(short_help="Try it all on a sandbox: push, edit, pull, merge.")
@click.option("--serve", is_flag=True, help="Keep the sandbox running after the demo, for the preview.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port for the sandbox (default: a free one).")
@click.option("--docs", "docs_path", type=click.Path(file_okay=False, exists=True), default=None,
              help="Docs folder to use instead of the sample docs (any folder of Markdown files).")
def demo(serve: bool, port: int, docs_path: str | None) -> None:
    """Run the whole story against a sandbox started in-process: push, a colleague's edit, pull,
    then an edit on each side of one page that a sync merges."""
    run_demo(output.console(markup=True), serve=serve, port=port or None, docs=docs_path)
