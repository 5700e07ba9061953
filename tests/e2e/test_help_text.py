"""What a new user reads first (issue 15, item 13): `mdsync --help` lists every command with a
summary that is whole (click would cut a long one with "..."), and `demo --help` names every
step of the story. The real CLI as a subprocess, its stdout a pipe.
"""

from __future__ import annotations

from mdsync.cli import COMMANDS
from tests.support.piped import piped


def test_the_list_of_commands_cuts_no_summary_short() -> None:
    result = piped("--help")
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split("Commands:", 1)[1]
    assert "…" not in listing and "..." not in listing, listing
    listed = {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line[2] != " "}
    assert listed == set(COMMANDS)
    sandbox = piped("sandbox", "--help")
    serve = sandbox.stdout.split("Commands:", 1)[1]
    assert sandbox.returncode == 0 and "serve" in serve and "..." not in serve, sandbox.stdout


def test_demo_help_names_every_step_of_the_story() -> None:
    result = piped("demo", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for step in ("push", "a colleague's edit", "pull", "merges"):
        assert step in text, text
