"""Human output shows what a terminal would act on as escapes, reads no markup in data, and
JSON output escapes the same characters while staying the same data."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from mdsync.cli.output import WatchConsole, console, printable, show, to_json
from mdsync.sync.report import Outcome, Report

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def captured(*, terminal: bool = False) -> tuple[io.StringIO, object]:
    out = io.StringIO()
    options = {"force_terminal": True, "color_system": "standard"} if terminal else {"color_system": None}
    return out, console(file=out, width=200, log_time=False, log_path=False, **options)


@pytest.mark.parametrize(("raw", "escaped"), [
    ("\x1b[31mred.md", "\\x1b[31mred.md"),
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("a\x7fb\x9bc", "a\\x7fb\\x9bc"),
    ("\u202eevil \u2066x\u2069", "\\u202eevil \\u2066x\\u2069"),
    ("line\nbreak\tand\r", "line\\x0abreak\\x09and\\x0d"),
    ("f\udcff.md", "f\\xff.md"),  # a name that is not UTF-8, as os.listdir gives it
    ("\ud800 x", "\\ud800 x"),
    ("Ünïcödé 文字 ✓ [bold]x[/]", "Ünïcödé 文字 ✓ [bold]x[/]"),
])
def test_printable_escapes_what_a_terminal_acts_on_and_keeps_the_rest(raw: str, escaped: str) -> None:
    assert printable(raw) == escaped


def test_printable_text_of_several_lines_keeps_its_line_breaks_and_tabs() -> None:
    assert printable("-\tone\x1b\n+ two", lines=True) == "-\tone\\x1b\n+ two"


def test_the_console_escapes_text_that_was_not_made_printable_and_reads_no_markup() -> None:
    out, screen = captured()
    table = Table("file")
    table.add_row("\x1b[2Jcell")
    screen.print("[bold]x[/].md :warning: \x07")
    screen.print(Text("raw \x1b]0;title\x07 \u202e"))
    screen.print(table)
    screen.print(Syntax("+ added \x1b[5m\n", "diff"))
    screen.log("logged \x9b")
    text = out.getvalue()
    assert not UNSAFE.search(text), repr(text)
    assert "[bold]x[/].md :warning: \\x07" in text
    # (rich itself drops a BEL from a Text; the ESC is for us to escape)
    for shown in ("raw \\x1b]0;title", "\\u202e", "\\x1b[2Jcell", "+ added \\x1b[5m", "logged \\x9b"):
        assert shown in text


def test_the_consoles_own_colours_still_reach_a_terminal() -> None:
    out, screen = captured(terminal=True)
    screen.print(Text.assemble(("error:", "bold red"), " in \x1b[31m"))
    text = out.getvalue()
    assert "\x1b[1;31merror:" in text and "in \\x1b[31m" in text


def hostile_report(mode: str) -> Report:
    report = Report(mode=mode)
    report.problems.append("Confluence said \x1b[2J no")
    report.outcomes.append(Outcome("update", "\x1b[31mred.md", "failed", "Confluence answered \u202eevil",
                                   new_path="[red]moved.md", diff="--- a\n+++ b\n-old\n+new \x1b[5m\n"))
    return report


@pytest.mark.parametrize("mode", ["push", "status"])
def test_a_report_is_shown_escaped(mode: str) -> None:
    out, screen = captured()
    show(hostile_report(mode), screen, as_json=False)
    text = out.getvalue()
    assert not UNSAFE.search(text.replace("\n", "")), repr(text)
    for shown in ("\\x1b[2J no", "\\x1b[31mred.md → [red]moved.md", "\\u202eevil"):
        assert shown in text
    if mode == "push":
        assert "+new \\x1b[5m" in text


def test_a_report_as_json_escapes_them_as_json_and_keeps_the_data() -> None:
    out, screen = captured()
    report = hostile_report("push")
    show(report, screen, as_json=True)
    text = out.getvalue()
    assert not UNSAFE.search(text.replace("\n", "")), repr(text)
    assert json.loads(text) == json.loads(json.dumps(report.as_dict()))


def test_json_holds_lone_surrogates_as_escapes_so_it_can_be_written() -> None:
    value = {"path": "f\udcff.md", "title": "\ud800 x", "ok": "é"}
    text = to_json(value, indent=None)
    text.encode("utf-8")
    assert json.loads(text) == value and "é" in text


def test_watch_lines_are_escaped() -> None:
    out, screen = captured()
    watch = WatchConsole(screen)  # not a terminal: no live status line
    watch.event("watching", docs="/d/\x1b[31m", poll=0)
    watch.event("waiting", message="Could not reach \x1b]0;x\x07")
    watch.event("problem", message="[bold]stopped\x9b")
    watch.outcome(Outcome("update", "\u202eevil.md", "done", "updated \x1b[2J"))
    watch.event("stopped")
    text = out.getvalue()
    assert not UNSAFE.search(text.replace("\n", "")), repr(text)
    for shown in ("/d/\\x1b[31m", "\\x1b]0;x\\x07", "[bold]stopped\\x9b", "\\u202eevil.md", "updated \\x1b[2J"):
        assert shown in text
