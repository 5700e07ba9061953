"""The layers import only what is below them: the client, the planner, the state and the
sandbox load no converter, and the command line loads a command's parts only when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def loaded_after(statement: str) -> set[str]:
    """The mdsync modules a fresh interpreter has loaded after ``statement``."""
    probe = f"import json, sys\n{statement}\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('mdsync'))))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(done.stdout))


@pytest.mark.parametrize("module", ["mdsync.confluence.client", "mdsync.sync.plan", "mdsync.sync.moves",
                                    "mdsync.sync.state", "mdsync.docs", "mdsync.sandbox.app", "mdsync.storage.canonical"])
def test_lower_layers_load_no_converter(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    assert not {name for name in loaded if name.startswith(("mdsync.convert", "mdsync.preview"))}


def test_one_converter_module_does_not_load_both_directions() -> None:
    loaded = loaded_after("import mdsync.convert.carry")
    assert "mdsync.convert.to_storage" not in loaded and "mdsync.convert.to_markdown" not in loaded


def test_the_package_and_the_command_group_load_the_converter_on_first_use() -> None:
    assert not {name for name in loaded_after("import mdsync, mdsync.cli") if name.startswith("mdsync.convert")}
    assert "mdsync.convert.to_storage" in loaded_after("import mdsync\nmdsync.markdown_to_storage('x')")


@pytest.mark.parametrize(("command", "not_loaded"), [
    ("push", ("mdsync.sandbox", "mdsync.preview")),
    ("check", ("mdsync.confluence", "mdsync.sync.engine", "mdsync.sandbox")),
    ("convert", ("mdsync.confluence", "mdsync.sync", "mdsync.sandbox")),
])
def test_a_command_loads_only_its_own_parts(command: str, not_loaded: tuple[str, ...]) -> None:
    loaded = loaded_after(f"from mdsync.cli import cli\ncli.get_command(None, {command!r})")
    assert f"mdsync.cli.{command}" in loaded
    assert not {name for name in loaded if name.startswith(not_loaded)}
