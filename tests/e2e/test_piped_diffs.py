"""A diff piped to a file or another program (issue 15, item 13) keeps each line whole, its
`+`, `-` or space first, however narrow the pipe's 80 columns are: `push --dry-run` through
the real CLI, its stdout a pipe.
"""

from __future__ import annotations

from tests.support.piped import piped
from tests.support.world import World


def test_a_piped_dry_run_diff_keeps_every_line_whole(world: World) -> None:
    long_line = "A sentence that goes on " + "and on " * 25 + "until it ends."
    assert len(long_line) > 190
    world.write("long.md", f"# Long\n\nShort first paragraph.\n\n{long_line}\n\nLast paragraph.\n")
    assert world.push().code == 0
    world.write("long.md", f"# Long\n\nShort first paragraph.\n\n{long_line.replace('ends', 'stops')}\n\n"
                           "Last paragraph.\n")
    result = piped("push", "--dry-run", cwd=world.root)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("---"))
    end = next(index for index in range(start, len(lines)) if lines[index].startswith("Plan:"))
    diff = lines[start:end]
    assert diff[1].startswith("+++") and diff[2].startswith("@@"), diff
    assert all(line[:1] in ("+", "-", " ") or line.startswith("@@") for line in diff[3:] if line), diff
    assert "-" + long_line in diff and "+" + long_line.replace("ends", "stops") in diff, diff
