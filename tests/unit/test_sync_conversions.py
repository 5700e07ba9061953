"""A push's conversions give the same answer in worker processes as in this one."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
from multiprocessing import active_children
from pathlib import Path

import pytest

from mdsync.confluence.errors import VersionConflict
from mdsync.convert import carry
from mdsync.convert.frontmatter import FrontMatterError
from mdsync.docs import LocalDoc, title_of
from mdsync.errors import MdsyncError
from mdsync.storage.canonical import storage_digest
from mdsync.storage.xhtml import StorageParseError
from mdsync.sync.conversions import (
    WORKERS_FROM,
    Conversions,
    Converting,
    Job,
    Tree,
    convert,
    usable_cores,
)

FILES = {
    "index.md": "# Handbook\n\nStart with [setup](guides/setup.md#second-step) and [the API](api/).\n",
    "guides/setup.md": "---\ntitle: Setting up\nlabels: [start]\n---\n# Setup\n\n## Second step\n\n"
                       "![diagram](../img/arch.png){width=300}\n\nA [missing page](nowhere.md).\n",
    "api/index.md": "# API\n\n| a | b |\n|---|---|\n| `x` | **y** |\n\n```python\nprint(1)\n```\n",
    "notes.md": "No heading at all, a [[TOC]] and a footnote[^1].\n\n[^1]: The note.\n\n> [!NOTE]\n> Careful.\n",
}


def _tree(root: Path) -> Tree:
    docs: dict[str, LocalDoc] = {}
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
        folder = path.rsplit("/", 1)[0] if path.endswith("/index.md") else None
        docs[path] = LocalDoc(path, None, "hash", folder=folder)
    (root / "img").mkdir()
    (root / "img" / "arch.png").write_bytes(b"\x89PNG not really")
    return Tree(root, docs, {path: title_of(FILES[path], docs[path]).title for path in docs})


def _job(path: str, previous: str | None = None, payloads: dict[str, carry.Carried] | None = None) -> Job:
    return Job(path, FILES[path], True, payloads or {}, previous)


def test_workers_answer_every_file_as_this_process_does(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    here = {path: convert(_job(path), tree.links()) for path in FILES}
    conversions = Conversions.start(lambda: tree, tree.links(), WORKERS_FROM)
    try:
        assert conversions.in_workers == (usable_cores() > 1)

        async def all_of_them() -> list:
            return await asyncio.gather(*(conversions.convert(_job(path)) for path in FILES))

        there = dict(zip(FILES, asyncio.run(all_of_them())))
    finally:
        asyncio.run(conversions.close())
    assert there == here
    # What the worker resolved against the tree, read from the other files: a title, an anchor, an image.
    index, setup = there["index.md"].storage, there["guides/setup.md"].storage
    assert 'ri:content-title="Setting up"' in index and 'ac:anchor="Second-step"' in index
    assert '<ri:attachment ri:filename="arch.png"' in setup
    assert there["guides/setup.md"].converted.labels == ("start",)
    assert any("nowhere.md" in str(warning) for warning in there["guides/setup.md"].converted.warnings)
    assert all(done.digest == storage_digest(done.storage) for done in there.values())


def test_an_error_in_a_worker_comes_back_as_the_same_error(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    broken = Job("broken.md", "---\ntitle: [unclosed\n---\n# Title\n", True, {}, None)
    conversions = Conversions.start(lambda: tree, tree.links(), WORKERS_FROM)
    try:
        with pytest.raises(FrontMatterError) as raised:
            asyncio.run(conversions.convert(broken))
    finally:
        asyncio.run(conversions.close())
    with pytest.raises(FrontMatterError) as here:
        convert(broken, tree.links())
    assert (raised.value.message, raised.value.line) == (here.value.message, here.value.line)


@pytest.mark.skipif(usable_cores() < 2, reason="workers start only with a second core")
def test_a_worker_that_dies_leaves_the_rest_to_convert_here(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    conversions = Conversions.start(lambda: tree, tree.links(), WORKERS_FROM)
    try:
        first = asyncio.run(conversions.convert(_job("index.md")))
        workers = active_children()
        assert workers, "no worker process started"
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(timeout=60)

        async def after_the_death() -> tuple[Converting, Converting]:
            # Jobs sent to a dead pool, or refused by it, are converted here as they are asked for.
            conversions.expect(list(FILES), lambda path: _job(path))
            return await conversions.convert(_job("index.md")), await conversions.convert(_job("api/index.md"))

        again, other = asyncio.run(after_the_death())
        assert not conversions.in_workers
    finally:
        asyncio.run(conversions.close())
    assert again == first and other == convert(_job("api/index.md"), tree.links())


def test_a_small_push_converts_here() -> None:
    tree = Tree(Path("."), {}, {})
    conversions = Conversions.start(lambda: tree, tree.links(), WORKERS_FROM - 1)
    assert not conversions.in_workers


@pytest.mark.parametrize("error", [
    MdsyncError("plain"), FrontMatterError("front matter broken", 3), StorageParseError("bad storage", 2, 7),
    VersionConflict("someone saved first", 4, 3),
])
def test_errors_cross_a_process_boundary_whole(error: MdsyncError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and copy.__dict__ == error.__dict__


@pytest.mark.skipif(usable_cores() < 2, reason="workers start only with a second core")
def test_jobs_expected_in_advance_are_answered_as_asked_and_only_when_the_same(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    broken = Job("broken.md", "---\ntitle: [unclosed\n---\n# Title\n", True, {}, None)
    expected = [_job(path) for path in FILES] + [broken]
    changed = Job("notes.md", FILES["notes.md"] + "\nOne more line.\n", True, {}, None)

    async def run_them() -> tuple[dict[str, object], Conversions]:
        conversions = Conversions.start(lambda: tree, tree.links(), WORKERS_FROM)
        conversions.expect([job.path for job in expected], {job.path: job for job in expected}.get)
        answers: dict[str, object] = {}
        for job in [*expected[:3], changed, broken]:  # notes.md is asked for with another text
            try:
                answers[job.path] = await conversions.convert(job)
            except FrontMatterError as error:
                answers[job.path] = error
        await conversions.close()
        return answers, conversions

    answers, conversions = asyncio.run(run_them())
    links = tree.links()
    for job in expected[:3]:
        assert answers[job.path] == convert(job, links)
    assert answers["notes.md"] == convert(changed, links)  # not the answer made in advance for the old text
    assert isinstance(answers["broken.md"], FrontMatterError)  # one file's error fails only that file
    assert not conversions.in_workers


@pytest.mark.skipif(usable_cores() < 2, reason="workers start only with a second core")
def test_an_unexpected_error_in_a_batch_fails_only_its_file_as_it_would_here(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    # A file name too long for the file system: the image check meets OSError, here as in a worker.
    bad = Job("bad.md", f"# Bad\n\n![x]({'a' * 300}.png)\n", True, {}, None)
    jobs = [bad, _job("index.md"), _job("api/index.md")]

    async def ask() -> list[object]:
        conversions = Conversions.start(lambda: tree, tree.links(), WORKERS_FROM)
        conversions.expect([job.path for job in jobs], {job.path: job for job in jobs}.get)
        answers: list[object] = []
        for job in jobs:
            try:
                answers.append(await conversions.convert(job))
            except OSError as error:
                answers.append(error)
        await conversions.close()
        return answers

    with pytest.raises(OSError):
        convert(bad, tree.links())
    first, *rest = asyncio.run(ask())
    assert isinstance(first, OSError)
    assert rest == [convert(job, tree.links()) for job in jobs[1:]]
