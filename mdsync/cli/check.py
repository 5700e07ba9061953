"""`mdsync check`: what would go wrong on push, found offline, with no credentials.

Every file of the docs folder is read and converted as a push would convert it, with
links, images and anchors resolved against the folder. A problem is one line
``path:line: message``. Broken things (unreadable files, bad front matter, links to
missing files or anchors, missing images, two files with one title) always count, and so
does what a push refuses (a file, link or image leading outside the repository);
constructs that Confluence shows differently count unless ``allow_degraded``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from mdsync.cli.common import config_option, promise_json
from mdsync.convert import convert_markdown
from mdsync.convert.frontmatter import FrontMatterError
from mdsync.docs import (
    Reach,
    folder_links,
    folder_title,
    read_markdown,
    same_titles,
    scan,
    title_of,
)
from mdsync.errors import MdsyncError, UsageError
from mdsync.sync.state import State


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str
    kind: str  # broken | refused (outside the repository) | degraded

    def __str__(self) -> str:
        # As editors read it (path:line:); no line where none is known, as --json says (null).
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def check_docs(root: Path, *, include: tuple[str, ...] = ("**/*.md",), exclude: tuple[str, ...] = (),
               selected: Callable[[str], bool] = lambda path: True, state_dir: Path | None = None,
               reach: Reach | None = None) -> list[Problem]:
    """The problems of the selected files (titles are compared across the whole folder).

    ``state_dir`` (``.mdsync``) holds what pulled files' carried regions refer to; without
    it, those regions are reported as a push without the state would push them. ``reach``:
    where a push may read (without it, symbolic links are not looked into).
    """
    docs = scan(root, include, exclude, reach)
    links = folder_links(root, docs, reach)
    state = State(state_dir) if state_dir is not None else None
    problems: list[Problem] = []
    titles: list[tuple[str, str]] = []  # (path, title) as a push titles each page
    for path, doc in sorted(docs.items()):
        if doc.refused is not None:
            if selected(path):
                problems.append(Problem(path, None, doc.refused, "refused"))
            continue
        if not doc.has_file:
            titles.append((path, folder_title(doc)))
            continue
        try:
            text = read_markdown(root / path, path, reach)
            titles.append((path, title_of(text, doc).title))
            converted = convert_markdown(text, path=path, resolve_link=links.link, resolve_image=links.image,
                                         payloads=state.kept(path) if state is not None else None)
        except FrontMatterError as error:
            if selected(path):
                problems.append(Problem(path, error.line, error.message, "broken"))
            continue
        except MdsyncError as error:
            if selected(path):
                problems.append(Problem(path, _line_of(error.message), error.message, "broken"))
            continue
        if selected(path):
            problems.extend(Problem(path, warning.line, warning.message, warning.kind)
                            for warning in converted.warnings)
    for paths in same_titles(titles):
        for path in paths:
            if selected(path):
                others = ", ".join(other for other in paths if other != path)
                problems.append(Problem(path, None, f"the same title as {others}: titles must be unique in a "
                                                    "Confluence space; change one (front matter 'title:' or "
                                                    "its heading)", "broken"))
    return sorted(problems, key=lambda problem: (problem.path, problem.line or 0))


def selector(root: Path, paths: Sequence[Path]) -> Callable[[str], bool]:
    """Limit the report to these files or folders (as given on the command line); paths
    outside the docs folder are not pages and are passed over."""
    if not paths:
        return lambda path: True
    wanted = []
    for given in paths:
        try:
            wanted.append(given.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            continue  # outside the docs folder (a pre-commit hook passes every staged file): not ours

    def selected(path: str) -> bool:
        return any(prefix in (".", path) or path.startswith(prefix.rstrip("/") + "/") for prefix in wanted)

    return selected


def _line_of(message: str) -> int | None:
    # InputError messages name the line of undecodable bytes as "line N".
    words = message.replace(",", " ").replace(":", " ").split()
    for before, after in zip(words, words[1:]):
        if before == "line" and after.isdigit():
            return int(after)
    return None


@click.command(short_help="Find push problems offline, without credentials.")
@config_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--docs", "docs_folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The docs folder (default: from mdsync.yaml).")
@click.option("--allow-degraded", is_flag=True,
              help="Report constructs Confluence shows differently, but do not fail on them.")
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable report.")
def check(config_path: Path | None, paths: tuple[Path, ...], docs_folder: Path | None, allow_degraded: bool,
          as_json: bool) -> None:
    """Find what would go wrong on push, offline and without credentials (PATHS: only these)."""
    from mdsync.cli.output import printable, to_json
    from mdsync.config import find_config, load_config

    promise_json(as_json)
    include, exclude, state_dir = ("**/*.md",), (), None
    if docs_folder is None:
        if config_path is None and not find_config(Path.cwd()).is_file():
            raise UsageError("There is no mdsync.yaml here: run mdsync check in the folder that has it, or pass "
                             "--docs DIR (or --config FILE).")
        config = load_config(config_path)
        docs_folder, include, exclude, state_dir = config.docs, config.include, config.exclude, config.state_dir
        reach = Reach.of(config.root, config.docs, config.include_outside)
    else:
        # Without mdsync.yaml the repository is the folder check runs in, if the docs are in it.
        here = Path.cwd()
        reach = Reach.of(here if docs_folder.resolve().is_relative_to(here.resolve()) else docs_folder, docs_folder)
    if not docs_folder.is_dir():
        raise UsageError(f"The docs folder {docs_folder} does not exist: create it, or set 'docs' in mdsync.yaml "
                         "(or pass --docs DIR).")
    missing = [str(path) for path in paths if not path.exists()]
    if missing:  # a typo must not pass a hook as "No problems found"
        raise UsageError(f"{missing[0]} does not exist: check the path.")
    problems = check_docs(docs_folder, include=include, exclude=exclude, selected=selector(docs_folder, paths),
                          state_dir=state_dir, reach=reach)
    failing = [problem for problem in problems if problem.kind != "degraded" or not allow_degraded]
    code = 1 if failing else 0
    if as_json:
        click.echo(to_json({"exit_code": code, "problems": [problem.as_dict() for problem in problems]}))
    else:
        for problem in problems:
            click.echo(printable(problem) + (" (degraded)" if problem.kind == "degraded" else ""))
        count = len({problem.path for problem in problems})
        click.echo(f"{len(problems)} problem(s) in {count} file(s)." if problems else "No problems found.",
                   err=True)
    sys.exit(code)
