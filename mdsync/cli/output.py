"""How a run's report is shown: a rich summary for people, one JSON document for tools.

Names, titles and messages come from files and from Confluence, and either may hold what a
terminal acts on instead of showing (ESC sequences, BEL, bidi overrides). Everything for
people goes through ``printable()``: such characters are shown as escapes (``\\x1b``). The
commands print through ``console()``, whose consoles read no markup or emoji codes in text
(a file named ``[bold]x[/].md`` is printed as it is named) and pass whatever reaches them
through ``printable()`` as well, so a print that forgets it still shows nothing raw. JSON
goes out through ``to_json()``, which escapes the same characters as JSON escapes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # only named in annotations: `check` and `convert` print without loading the sync
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

# What a terminal acts on rather than shows: C0 controls, DEL, C1 controls, the bidi
# embeddings, overrides and isolates (they reorder what follows them on the line), and lone
# surrogates (no UTF-8 terminal can be sent one; a file name that is not UTF-8 has them).
_BEYOND_C0 = r"\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(rf"[\x00-\x1f{_BEYOND_C0}]")
_UNSAFE_IN_TEXT = re.compile(rf"[\x00-\x08\x0b-\x1f{_BEYOND_C0}]")  # keeps tabs and line breaks
_UNSAFE_IN_JSON = re.compile(rf"[{_BEYOND_C0}]")  # json.dumps escapes C0 itself


def printable(text: object, *, lines: bool = False) -> str:
    """``text`` as it may be shown to people: each character a terminal would act on written as
    an escape (ESC as ``\\x1b``, U+202E as ``\\u202e``, the byte 0xFF of a name that is not
    UTF-8 as ``\\xff``). ``lines``: a text of several lines, whose tabs and line breaks stay."""
    return (_UNSAFE_IN_TEXT if lines else _UNSAFE).sub(_escape, str(text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a name that is not UTF-8 (Python's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


class SafeConsole(Console):
    """A console that sends the terminal nothing but text: every string it renders, and every
    piece of text it writes, is passed through ``printable()`` (rich's own cursor and colour
    codes are not text and stay)."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(printable(text, lines=True), **options)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not _UNSAFE_IN_TEXT.search(segment.text):
                yield segment
            else:
                yield Segment(printable(segment.text, lines=True), segment.style)


def console(*, stderr: bool = False, markup: bool = False, **options: Any) -> Console:
    """The console a command prints through. No markup unless asked (``markup=True`` is for
    fixed text, whose data is escaped with rich.markup.escape), no emoji codes, no highlighting."""
    return SafeConsole(stderr=stderr, markup=markup, emoji=False, highlight=False, **options)


def styled(label: str, style: str, text: object) -> Text:
    """``label`` in ``style``, then ``text`` as printable plain text: a line such as "error: ..."."""
    return Text.assemble((label, style), " ", printable(text))


def show(report: Report, console: Console, *, as_json: bool) -> None:
    if as_json:
        # Plain, for tools: rich's JSON highlighting cost ~0.5 ms per page of a big report.
        console.file.write(to_json(report.as_dict()) + "\n")
        console.file.flush()
        return
    for problem in report.problems:
        console.print(styled("stopped:", "bold red", problem), soft_wrap=True)
    for note in report.notes:
        console.print(styled("note:", "yellow", note), soft_wrap=True)
    shown = [outcome for outcome in report.outcomes if outcome.action != "noop"]
    if shown:
        status = report.mode == "status"
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("file", "state", "note") if status else ("file", "action", "result"):
            table.add_column(column)
        for outcome in shown:
            if status:
                table.add_row(Text(target(outcome)), str(outcome.standing), Text(printable(outcome.message)))
            else:
                result = Text.assemble((outcome.status, STATUS_STYLE.get(outcome.status, "")),
                                       f": {printable(outcome.message)}" if outcome.message else "")
                table.add_row(Text(target(outcome)), LABELS.get(outcome.action, outcome.action), result)
        console.print(table)
    for outcome in shown:
        if outcome.diff:
            print_diff(console, outcome.diff)
    console.print(summary(report), soft_wrap=True)


# A unified diff's lines by their first characters: the file names, the hunk header, added, removed.
DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def print_diff(console: Console, diff: str) -> None:
    """A unified diff, coloured on a terminal and never wrapped: piped or written to a file at
    any width, each line stays one line that starts with its ``+``, ``-`` or space."""
    text = Text()
    for line in printable(diff, lines=True).splitlines(keepends=True):
        text.append(line, next((style for prefix, style in DIFF_STYLES if line.startswith(prefix)), ""))
    console.print(text, soft_wrap=True, end="" if text.plain.endswith("\n") else "\n")


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
    if report.problems and not report.outcomes:
        return f"{head} stopped before writing anything: {len(report.problems)} problem(s) above; fix them and " \
            "run again."
    done = ", ".join(parts) if parts else "nothing to do" if not report.failures else ""
    text = f"{head}: " + (f"{done}; " if done else "") + f"{in_step} in step."
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


def target(outcome: Outcome) -> str:
    """The file an outcome is about (and where it went), printable."""
    return printable(outcome.path + (f" → {outcome.new_path}" if outcome.new_path else ""))


def progress_line(outcome: Outcome) -> Text:
    return Text(f"{LABELS.get(outcome.action, outcome.action)}: {target(outcome)}")


def to_json(value: Any, *, indent: int | None = 2) -> str:
    """One JSON document (``indent=None``: on one line). Text stays readable (not ASCII-escaped),
    but for what a terminal would act on or UTF-8 cannot hold, which JSON escapes as ``\\u``."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class WatchJson:
    """`mdsync watch --json`: one JSON object per line, each with its event and time."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def event(self, kind: str, **fields: Any) -> None:
        self.write(to_json({"event": kind, "time": _now(), **fields}, indent=None))

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
        return Text(printable(" · ".join(parts)), style="dim")

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._line())

    def event(self, kind: str, **fields: Any) -> None:
        if kind == "watching":
            poll = f"Confluence every {fields['poll']:g} s" if fields["poll"] else "Confluence not polled"
            self.console.log(Text(printable(f"Watching {fields['docs']} (Ctrl-C to stop; {poll}).")))
        elif kind == "waiting":
            self.trouble = "waiting for Confluence"
            self.console.log(Text.assemble((printable(fields["message"]), "yellow"), " Changes wait; retrying."))
        elif kind == "online":
            self.trouble = ""
            self.console.log(Text(printable(fields["message"])))
        elif kind == "problem":
            self.console.log(styled("stopped:", "bold red", fields["message"]))
        elif kind == "note":
            self.console.log(styled("note:", "yellow", fields["message"]))
        elif kind == "stopped":
            if self.live is not None:
                self.live.stop()
            self.console.log("Stopped; the state is saved.")
        self._refresh()

    def outcome(self, outcome: Outcome) -> None:
        note = f": {printable(outcome.message)}" if outcome.message else ""
        self.console.log(Text.assemble(f"{LABELS.get(outcome.action, outcome.action)} {target(outcome)} ",
                                       (outcome.status, STATUS_STYLE.get(outcome.status, "")), note))
        if outcome.status == "done":
            self.last_push = f"{time.strftime('%H:%M:%S')} {target(outcome)}"
        self._refresh()

    def pending(self, count: int) -> None:
        self.waiting_for = count
        self._refresh()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
