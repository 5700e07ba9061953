"""`mdsync demo`: the whole story against a sandbox started in-process.

It works on a temporary copy of the docs folder so that the repository is never touched,
and it never fakes a step: a step whose machinery is not built yet is reported as such.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

import mdsync
from mdsync.errors import UsageError
from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer

_ASSET_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf", ".yaml", ".yml", ".json", ".txt"}


def find_sample_docs() -> Path:
    """sample_docs from the current folder, else from the source tree mdsync runs from."""
    for candidate in (Path.cwd() / "sample_docs", Path(mdsync.__file__).resolve().parents[1] / "sample_docs"):
        if candidate.is_dir():
            return candidate
    raise UsageError("No sample_docs folder found: run the demo from the mdsync repository or pass --docs PATH.")


def _docs_tree(root: Path) -> tuple[Tree, int, int]:
    tree = Tree(f"[bold]{root.name}/[/]")
    pages = assets = 0

    def walk(folder: Path, branch: Tree) -> None:
        nonlocal pages, assets
        for entry in sorted(folder.iterdir(), key=lambda path: (path.is_file(), path.name.lower())):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                walk(entry, branch.add(f"{entry.name}/"))
            elif entry.suffix.lower() == ".md":
                pages += 1
                branch.add(entry.name)
            elif entry.suffix.lower() in _ASSET_SUFFIXES:
                assets += 1
                branch.add(f"[dim]{entry.name}[/]")

    walk(root, tree)
    return tree, pages, assets


def run_demo(console: Console, *, serve: bool = False, port: int | None = None, docs: str | None = None) -> None:
    source = Path(docs) if docs else find_sample_docs()
    with tempfile.TemporaryDirectory(prefix="mdsync-demo-") as scratch:
        workspace = Path(scratch) / "docs"
        shutil.copytree(source, workspace)
        sandbox = create_sandbox(spaces=("DOCS",))
        with BackgroundServer(sandbox, port=port) as server:
            console.rule("[bold]mdsync demo")
            console.print(f"1. Started a local Confluence sandbox at [bold]{server.url}[/] "
                          f"(email {DEFAULT_EMAIL}, token {DEFAULT_TOKEN}).")
            with httpx.Client(base_url=server.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=10) as http:
                spaces = http.get("/wiki/api/v2/spaces", params={"keys": "DOCS"}).raise_for_status().json()
                space = spaces["results"][0]
                home = http.get(f"/wiki/api/v2/pages/{space['homepageId']}").raise_for_status().json()
            console.print(f"   Space [bold]{space['key']}[/] (id {space['id']}) has its home page "
                          f"\"{home['title']}\" (id {home['id']}, version {home['version']['number']}).")

            tree, pages, assets = _docs_tree(workspace)
            console.print(f"2. The docs folder ({source}) holds {pages} Markdown pages and {assets} files "
                          "they use; the demo works on a temporary copy:")
            console.print(tree)

            steps = Table(title="The story", show_lines=False)
            steps.add_column("step")
            steps.add_column("status")
            steps.add_row("push the docs folder to the space", "[yellow]not built yet[/] (converter, client, sync)")
            steps.add_row("a colleague edits one page in Confluence", "[yellow]waits for push[/]")
            steps.add_row("pull the edit back into Markdown", "[yellow]not built yet[/] (sync engine)")
            console.print(steps)
            console.print(f"Preview the sandbox at [bold]{server.url}/[/] "
                          + ("(running until Ctrl-C)." if serve else "(rerun with --serve to keep it up)."))
            if serve:
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    console.print("Stopped.")
