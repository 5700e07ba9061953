"""The README's "Your own docs against the sandbox", followed line by line (issue 15, item 13).

The section's first shell block is the sandbox a user starts in another terminal: it runs in
the background here. Its second block runs in one bash, command by command, each one's exit
status checked before the next starts. The one change made to the text is the port: the
README's 8090 becomes a free one from the OS.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN
from mdsync.sandbox.server import free_port
from tests.support import REPO
from tests.support.background import serving

SECTION = "## Your own docs against the sandbox"
README_PORT = "8090"


def walkthrough() -> tuple[str, list[str]]:
    """The section's two shell blocks: the sandbox's command, and the user's commands (a line
    ending in a backslash goes on with the next; comment lines are left out)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert SECTION + "\n" in readme, f"README.md has no section {SECTION!r}"
    section = readme.split(SECTION + "\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)
    assert len(blocks) == 2, blocks
    serve, steps = blocks
    commands: list[str] = []
    pending = ""
    for line in steps.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if not line.endswith("\\"):
            commands.append(pending.rstrip("\n"))
            pending = ""
    assert not pending, f"the walkthrough ends inside a command: {pending!r}"
    return serve.strip(), commands


def script(commands: list[str]) -> str:
    """One bash script: each command, then a check that stops at the first that fails."""
    lines = ["set -u -o pipefail"]
    for number, command in enumerate(commands, 1):
        quoted = shlex.quote(f"walkthrough step {number} failed: {command}")
        lines += [command, f'status=$?; if [ "$status" -ne 0 ]; then echo {quoted} "(exit $status)" >&2; '
                           f'exit 1; fi', f"echo '::done {number}'"]
    return "\n".join(lines) + "\n"


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    serve, commands = walkthrough()
    assert README_PORT in serve and any(README_PORT in command for command in commands)
    port = str(free_port())
    serve, commands = serve.replace(README_PORT, port), [command.replace(README_PORT, port) for command in commands]
    # The user's shell: mdsync on the PATH (the activated .venv), no credentials of the machine's own.
    bin_dir = str(Path(sys.executable).parent)
    assert shutil.which("mdsync", path=bin_dir), f"no mdsync command beside {sys.executable}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MDSYNC_", "CONFLUENCE_"))}
    env.update(PATH=bin_dir + os.pathsep + env.get("PATH", ""), COLUMNS="120", NO_COLOR="1")
    url = f"http://127.0.0.1:{port}"
    with serving(["bash", "-c", "exec " + serve], url, cwd=tmp_path, env=env):
        result = subprocess.run(["bash", "-c", script(commands)], cwd=tmp_path, env=env, capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count("::done ") == len(commands), result.stdout
        with httpx.Client(base_url=url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=20) as api:
            pages = api.get("/wiki/api/v2/pages", params={"title": "Welcome", "body-format": "storage"}).json()
    # What the walkthrough promises: the colleague's line pulled here, the line written here pushed there.
    project = tmp_path / "my-project"
    text = (project / "docs" / "welcome.md").read_text(encoding="utf-8")
    assert "A line from a colleague." in text and "One more line, written here." in text
    body = pages["results"][0]["body"]["storage"]["value"]
    assert "A line from a colleague." in body and "One more line, written here." in body
    assert DEFAULT_TOKEN not in (project / "mdsync.yaml").read_text(encoding="utf-8")
    assert "Pull: 1 pulled" in result.stdout and "changed here" in result.stdout
    assert "Sync: 1 updated" in result.stdout
