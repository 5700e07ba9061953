"""How a run is shown on a terminal: a line per action, and a bar on long runs."""

from __future__ import annotations

import io

from rich.console import Console

from mdsync.cli.output import LiveProgress
from mdsync.sync.report import Outcome


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None, log_time=False, log_path=False), out


def test_each_action_gets_a_line_and_in_step_files_none() -> None:
    console, out = terminal()
    progress = LiveProgress(console)
    progress.start(2)
    progress.advance(Outcome("create", "a.md", "done", "created"))
    progress.advance(Outcome("noop", "b.md", "done", ""))
    progress.stop()
    assert progress.bar is None  # two actions: no bar
    assert "created: a.md" in out.getvalue()
    assert "b.md" not in out.getvalue()


def test_a_long_run_shows_a_bar_that_counts_to_the_total() -> None:
    console, out = terminal()
    progress = LiveProgress(console)
    progress.start(12)
    assert progress.bar is not None and progress.task is not None
    for number in range(12):
        progress.advance(Outcome("update", f"page-{number}.md", "done", "updated"))
    task = progress.bar.tasks[0]
    assert (task.completed, task.total) == (12, 12)
    progress.stop()
    assert "updated: page-11.md" in out.getvalue()


def test_the_watch_status_line_shows_the_last_change_pending_files_and_trouble() -> None:
    from mdsync.cli.output import WatchConsole

    console, out = terminal()
    shown = WatchConsole(console)
    try:
        shown.pending(3)
        assert "3 pending" in shown._line().plain
        shown.outcome(Outcome("update", "guides/a.md", "done", "updated"))
        assert "guides/a.md" in shown._line().plain
        shown.event("waiting", message="Could not reach Confluence.", retry_in=1.6)
        assert "waiting for Confluence" in shown._line().plain
        shown.event("online", message="Confluence answers again: caught up.")
        assert "waiting" not in shown._line().plain
    finally:
        shown.event("stopped")
    text = out.getvalue()
    assert "updated guides/a.md" in text and "Could not reach Confluence." in text and "Stopped" in text


def test_watch_json_is_one_event_per_line() -> None:
    import json

    from mdsync.cli.output import WatchJson

    lines: list[str] = []
    events = WatchJson(lines.append)
    events.event("watching", docs="/d", debounce=0.3, poll=30.0)
    events.outcome(Outcome("create", "a.md", "done", "created", "42"))
    parsed = [json.loads(line) for line in lines]
    assert [event["event"] for event in parsed] == ["watching", "action"]
    assert parsed[1]["path"] == "a.md" and parsed[1]["page_id"] == "42" and "time" in parsed[1]
