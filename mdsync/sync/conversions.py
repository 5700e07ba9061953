"""Converting a push's files to storage: in this process, or in worker processes beside it.

A big push spends as much time converting Markdown as talking to Confluence, and in one
process the two take turns: the interpreter runs one thing at a time. With more than one
core, worker processes convert while this one sends requests and records what landed.
A small push converts here: starting a worker costs more than it would save.

A conversion is pure: the file's text and what the run knows (its payloads, the page as
last synced, the tree's titles for links) in; storage, what the converter found and the
storage's digest out. So it gives the same answer wherever it runs.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from mdsync.convert import carry, convert_markdown
from mdsync.convert.reapply import reapply
from mdsync.convert.to_storage import Converted
from mdsync.docs import Links, LocalDoc, Reach, read_markdown
from mdsync.errors import MdsyncError
from mdsync.storage.canonical import storage_digest

# Below this many files a push converts in process (a worker takes ~0.3 s to start).
WORKERS_FROM = 300
MAX_WORKERS = 4
# Jobs known in advance go to the workers in batches (one message each way per batch, not per
# file), at most AHEAD jobs beyond the last one asked for (their answers wait in memory).
BATCH = 16
AHEAD = 256
PARENT_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class Job:
    """One file to convert, with what the run knows of it."""

    path: str
    text: str
    title_from_heading: bool
    payloads: dict[str, carry.Carried]
    previous: str | None  # the page's storage as last synced (or as Confluence has it now)


@dataclass(frozen=True)
class Converting:
    """A job's answer: the storage to write, what the converter found, the storage's digest."""

    storage: str
    converted: Converted
    digest: str


@dataclass(frozen=True)
class Tree:
    """What links resolve against: the docs folder, its readable files and their titles."""

    root: Path
    docs: Mapping[str, LocalDoc]
    titles: Mapping[str, str]
    reach: Reach | None = None  # None: attachments from the docs folder only

    def links(self) -> Links:
        return Links(self.root, self.docs, self.titles.__getitem__,
                     lambda path: read_markdown(self.root / path, path, self.reach), self.reach)


def convert(job: Job, links: Links) -> Converting:
    converted = convert_markdown(job.text, path=job.path, resolve_link=links.link, resolve_image=links.image,
                                 title_from_heading=job.title_from_heading, payloads=job.payloads)
    storage = reapply(converted.storage, job.previous)
    return Converting(storage, converted, storage_digest(storage))


class Conversions:
    """Where a run's conversions run: ``convert`` answers the same either way."""

    def __init__(self, links: Links, pool: ProcessPoolExecutor | None = None) -> None:
        self.links = links
        self._pool = pool
        self._planned: list[str] = []  # the paths given to ``expect``, in the order they will be asked for
        self._job_for: Callable[[str], Job | None] = lambda path: None
        self._sent = 0  # how many of them went to the workers
        self._early: dict[str, tuple[int, Job, asyncio.Future[list[Converting | BaseException]], int]] = {}
        self._broken: list[ProcessPoolExecutor] = []  # pools given up on, shut down at close

    @classmethod
    def start(cls, tree: Callable[[], Tree], links: Links, files: int) -> Conversions:
        """Workers for a push of ``files`` files, when there are enough files and cores
        (``tree``, what the workers resolve links against, is made only then)."""
        workers = min(MAX_WORKERS, usable_cores() - 1)
        if files < WORKERS_FROM or workers < 1:
            return cls(links)
        # "spawn": a fork of this process would copy its threads' locks in whatever state they are.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(tree(), os.getpid()))
        return cls(links, pool)

    @property
    def in_workers(self) -> bool:
        return self._pool is not None

    def expect(self, paths: list[str], job_for: Callable[[str], Job | None]) -> None:
        """The files the run will ask for, in about this order: workers start on their jobs
        (made by ``job_for`` as they are sent; None: none) in batches. A job asked for later
        is answered from here only if it is the very same job."""
        if self._pool is not None:
            self._planned, self._job_for = list(paths), job_for
            self._send_up_to(AHEAD)

    async def convert(self, job: Job) -> Converting:
        early = self._early.pop(job.path, None)
        if early is not None:
            index, sent, batch, offset = early
            self._send_up_to(index + AHEAD)
            if sent == job:
                try:
                    done = (await batch)[offset]
                except BrokenProcessPool:
                    self._give_up()
                else:
                    if isinstance(done, MdsyncError):
                        raise done
                    if isinstance(done, Converting):
                        return done
                    return convert(job, self.links)
        if self._pool is not None:
            try:
                return await asyncio.get_running_loop().run_in_executor(self._pool, _convert_in_worker, job)
            except BrokenProcessPool:
                self._give_up()  # a worker died (killed, out of memory): the rest convert here
        return convert(job, self.links)

    def _give_up(self) -> None:
        if self._pool is not None:
            self._broken.append(self._pool)
            self._pool = None

    def _send_up_to(self, end: int) -> None:
        loop = asyncio.get_running_loop()
        while self._pool is not None and self._sent < min(end, len(self._planned)):
            jobs: list[tuple[int, Job]] = []
            while len(jobs) < BATCH and self._sent < len(self._planned):
                job = self._job_for(self._planned[self._sent])
                if job is not None:
                    jobs.append((self._sent, job))
                self._sent += 1
            if not jobs:
                continue
            try:
                batch = asyncio.wrap_future(self._pool.submit(_convert_batch, [job for _, job in jobs]), loop=loop)
            except Exception:  # noqa: BLE001 - broken, or no process could start: convert here as asked
                self._give_up()
                return
            for offset, (index, job) in enumerate(jobs):
                self._early[job.path] = (index, job, batch, offset)

    async def close(self) -> None:
        for _, _, batch, _ in self._early.values():
            if batch.done() and not batch.cancelled():
                batch.exception()  # an answer nobody asked for (its action was skipped) is dropped
            batch.cancel()
        self._early.clear()
        self._give_up()
        pools, self._broken = self._broken, []
        for pool in pools:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # a container or taskset may allow fewer than the machine has
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_links: Links | None = None  # in a worker: the tree's links, made once


def _start_worker(tree: Tree, parent: int) -> None:
    global _links
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    threading.Thread(target=_end_with, args=(parent,), name="mdsync-parent-watch", daemon=True).start()
    _links = tree.links()


def _end_with(parent: int) -> None:
    """A worker whose mdsync was killed ends too: left running, it would hold the killed run's
    output open (a CI step waiting for it would wait for ever)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _convert_in_worker(job: Job) -> Converting:
    assert _links is not None
    return convert(job, _links)


def _convert_batch(jobs: list[Job]) -> list[Converting | BaseException]:
    """Each job's answer, or the error it met: one file's error fails only that file."""
    assert _links is not None
    answers: list[Converting | BaseException] = []
    for job in jobs:
        try:
            answers.append(convert(job, _links))
        except MdsyncError as error:
            answers.append(error)
        except Exception as error:  # noqa: BLE001 - the file is converted again in the main process
            answers.append(_Unexpected(f"{type(error).__name__}: {error}"))
    return answers


class _Unexpected(Exception):
    """A worker met an error other than a user's (an OSError, a bug): the main process converts
    the file again itself, so the error reaches the user as it would without workers."""
