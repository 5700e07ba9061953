"""How a run's report is shown: a rich summary for people, one JSON document for tools."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from mdsync.sync.report import Outcome, Report

LABELS = {
    "create": "created", "adopt": "adopted", "update": "updated", "move": "moved", "rename": "renamed",
    "pull": "pulled", "new_file": "new file", "merge": "merged", "conflict": "conflict", "trash": "trashed",
    "keep": "kept (deleted here)", "remove_file": "file removed", "forget": "forgotten",
    "remote_only": "changed in Confluence", "local_only": "changed here", "skip": "skipped", "noop": "in step",
    "agree": "already the same on both sides", "move_folder": "folder moved",
    "archived": "archived in Confluence (file kept)",
    "reorder": "reordered", "pull_order": "order taken from Confluence",
}
STATUS_STYLE = {"done": "green", "failed": "bold red", "conflict": "bold yellow", "skipped": "yellow",
                "planned": "cyan", "reported": "dim"}


def show(report: Report, console: Console, *, as_json: bool) -> None:
    if as_json:
        # Plain, for tools: rich's JSON highlighting cost ~0.5 ms per page of a big report.
        console.file.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
        console.file.flush()
        return
    for problem in report.problems:
        console.print(f"[bold red]stopped:[/] {problem}", soft_wrap=True)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    shown = [outcome for outcome in report.outcomes if outcome.action != "noop"]
    if shown:
        status = report.mode == "status"
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("file", "state", "note") if status else ("file", "action", "result"):
            table.add_column(column)
        for outcome in shown:
            path = outcome.path + (f" → {outcome.new_path}" if outcome.new_path else "")
            if status:
                table.add_row(path, str(outcome.standing), outcome.message)
            else:
                style = STATUS_STYLE.get(outcome.status, "")
                table.add_row(path, LABELS.get(outcome.action, outcome.action),
                              f"[{style}]{outcome.status}[/]" + (f": {outcome.message}" if outcome.message else ""))
        console.print(table)
    for outcome in shown:
        if outcome.diff:
            console.print(Syntax(outcome.diff, "diff", theme="ansi_dark", background_color="default",
                                 word_wrap=True))
    console.print(summary(report), soft_wrap=True)


def summary(report: Report) -> str:
    if report.mode == "status":
        states: dict[str, int] = {}
        for outcome in report.outcomes:
            states[str(outcome.standing)] = states.get(str(outcome.standing), 0) + 1
        in_step = states.pop("in step", 0)
        parts = [f"{count} {state}" for state, count in sorted(states.items())]
        return "Status: " + (", ".join(parts) + "; " if parts else "") + f"{in_step} in step."
    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        if outcome.status not in ("failed", "skipped"):
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
    in_step = counts.pop("noop", 0)
    parts = [f"{count} {LABELS.get(action, action)}" for action, count in sorted(counts.items())]
    head = "Plan" if report.dry_run else report.mode.capitalize()
    text = f"{head}: " + (", ".join(parts) if parts else "nothing to do") + f"; {in_step} in step."
    if report.dry_run:
        text += " Nothing was written (--dry-run)."
    if report.conflicts:
        text += f" {len(report.conflicts)} conflict(s): nothing was overwritten."
    if report.failures:
        text += f" {len(report.failures)} failed (see above); run again after fixing them."
    return text


class LiveProgress:
    """On a terminal: a line per action as it lands, and a bar when the run is long."""

    BAR_FROM = 10  # actions; shorter runs finish before a bar would help

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def start(self, total: int) -> None:
        if total >= self.BAR_FROM:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=self.console, transient=True)
            self.task = self.bar.add_task("Working", total=total)
            self.bar.start()

    def advance(self, outcome: Outcome) -> None:
        if outcome.action != "noop":
            self.console.log(progress_line(outcome))
            if self.bar is not None and self.task is not None:
                self.bar.advance(self.task)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def progress_line(outcome: Outcome) -> str:
    return f"{LABELS.get(outcome.action, outcome.action)}: {outcome.path}"


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


class WatchJson:
    """`mdsync watch --json`: one JSON object per line, each with its event and time."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def event(self, kind: str, **fields: Any) -> None:
        self.write(json.dumps({"event": kind, "time": _now(), **fields}, ensure_ascii=False))

    def outcome(self, outcome: Outcome) -> None:
        self.event("action", **outcome.as_dict())

    def pending(self, count: int) -> None:
        pass


class WatchConsole:
    """`mdsync watch` for people: a line per action, and on a terminal a quiet status line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.last_push = "nothing yet"
        self.waiting_for = 0
        self.trouble = ""
        self.live: Live | None = None
        if console.is_terminal:
            self.live = Live(self._line(), console=console, refresh_per_second=4, transient=True)
            self.live.start()

    def _line(self) -> Text:
        parts = [f"watching · last change sent: {self.last_push}", f"{self.waiting_for} pending"]
        if self.trouble:
            parts.append(self.trouble)
        return Text(" · ".join(parts), style="dim")

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._line())

    def event(self, kind: str, **fields: Any) -> None:
        if kind == "watching":
            poll = f"Confluence every {fields['poll']:g} s" if fields["poll"] else "Confluence not polled"
            self.console.log(f"Watching {fields['docs']} (Ctrl-C to stop; {poll}).")
        elif kind == "waiting":
            self.trouble = "waiting for Confluence"
            self.console.log(f"[yellow]{fields['message']}[/] Changes wait; retrying.")
        elif kind == "online":
            self.trouble = ""
            self.console.log(fields["message"])
        elif kind == "problem":
            self.console.log(f"[bold red]stopped:[/] {fields['message']}")
        elif kind == "note":
            self.console.log(f"[yellow]note:[/] {fields['message']}")
        elif kind == "stopped":
            if self.live is not None:
                self.live.stop()
            self.console.log("Stopped; the state is saved.")
        self._refresh()

    def outcome(self, outcome: Outcome) -> None:
        style = STATUS_STYLE.get(outcome.status, "")
        note = f": {outcome.message}" if outcome.message else ""
        target = outcome.path + (f" → {outcome.new_path}" if outcome.new_path else "")
        self.console.log(f"{LABELS.get(outcome.action, outcome.action)} {target} [{style}]{outcome.status}[/]{note}")
        if outcome.status == "done":
            self.last_push = f"{time.strftime('%H:%M:%S')} {target}"
        self._refresh()

    def pending(self, count: int) -> None:
        self.waiting_for = count
        self._refresh()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
