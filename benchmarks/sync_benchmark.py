"""The sync engine's speed targets, measured through the real CLI against a sandbox.

1. First push of N pages with LATENCY ms added to every request and concurrency 8;
   the target is 1.5 x (N x LATENCY / 8).
2. A no-op sync of those pages: requests and writes sent (target: ceil(N/250) + 3, no write).
3. A one-file change pushed: requests and writes sent (one listing plus that page's writes).
4. Peak memory (max RSS of the mdsync process) for the first push and a no-op sync of a
   BIG-page tree, without latency.
5. With --scale, at each size and with the sandbox in a process of its own: first push, no-op
   sync and a one-file change, with wall time, requests, writes, peak memory, the time the
   no-op sync spends in the planner (from a profiled run), and the CPU seconds the first push
   cost mdsync (with its workers) and the sandbox (on Linux).

    .venv/bin/python benchmarks/sync_benchmark.py [--pages 500] [--latency 50] [--big 5000]
        [--scale 1000 10000 20000] [--only-scale]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.faults import Faults
from mdsync.sandbox.server import BackgroundServer, free_port

FILES_PER_FOLDER = 24


def page_text(folder: int, number: int) -> str:
    """About 1.5 KB of everyday Markdown: headings, a list, a table, code and a cross link."""
    sibling = f"page-{(number + 1) % FILES_PER_FOLDER:03d}.md"
    return (
        f"# Topic {folder}.{number}\n\n"
        f"Intro for topic {folder}.{number} with **bold**, _emphasis_ and `code`.\n"
        f"See [the next page]({sibling}) for more.\n\n"
        "## Steps\n\n"
        "1. Install the tool.\n2. Configure it.\n3. Run it and read the output.\n\n"
        "| Option | Meaning |\n| --- | --- |\n| `-v` | verbose |\n| `-q` | quiet |\n\n"
        "```python\nfor item in items:\n    print(item)\n```\n\n"
        "> **Note:** this text is long enough to look like a real page in a handbook.\n\n"
        + "A paragraph of plain prose that fills out the page a little more. " * 8 + "\n"
    )


def write_tree(docs: Path, pages: int) -> None:
    """``pages`` pages: folders with an index.md and up to 24 files each."""
    written = 0
    folder = 0
    while written < pages:
        directory = docs / f"area-{folder:03d}"
        directory.mkdir(parents=True)
        (directory / "index.md").write_text(f"# Area {folder}\n\nOverview of area {folder}.\n", encoding="utf-8")
        written += 1
        for number in range(min(FILES_PER_FOLDER, pages - written)):
            (directory / f"page-{number:03d}.md").write_text(page_text(folder, number), encoding="utf-8")
            written += 1
        folder += 1


def write_config(root: Path, url: str) -> None:
    (root / "mdsync.yaml").write_text(
        f"confluence:\n  url: {url}\n  auth: token\n  email: {DEFAULT_EMAIL}\n  token: {DEFAULT_TOKEN}\n"
        "space: DOCS\ndocs: docs\nsync:\n  concurrency: 8\n", encoding="utf-8")


def mdsync_env() -> dict[str, str]:
    """The environment mdsync runs in here: none of the caller's mdsync settings, and compiled
    modules kept (as an installed mdsync has them) even where PYTHONDONTWRITEBYTECODE is set,
    or each run, and each conversion worker, would compile mdsync again (half a second)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MDSYNC_", "CONFLUENCE_")) and key != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(sys.prefix) / "pycache"))
    return env


def run_measured(root: Path, *args: str) -> tuple[float, int]:
    """Run ``mdsync ARGS --json``; return wall seconds and that process's own peak RSS in KiB."""
    wall, peak, _ = run_measured_cpu(root, *args)
    return wall, peak


def run_measured_cpu(root: Path, *args: str) -> tuple[float, int, float]:
    """``run_measured``, and the CPU seconds (user + system) of mdsync and its workers."""
    env = mdsync_env()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "mdsync", *args, "--json"], cwd=root, env=env,
                                   stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            out.seek(0)
            err.seek(0)
            raise SystemExit(f"mdsync {' '.join(args)} failed ({process.returncode}):\n"
                             f"{out.read().decode()}\n{err.read().decode()}")
    if os.environ.get("MDSYNC_BENCH_CPU"):
        print(f"  (mdsync {args[0]}: user {usage.ru_utime:.2f} s, system {usage.ru_stime:.2f} s)")
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


class Counter:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=30)

    def reset(self) -> None:
        self.client.delete("/_sandbox/stats").raise_for_status()

    def read(self) -> tuple[int, int]:
        stats = self.client.get("/_sandbox/stats").json()
        return stats["requests"], stats["writes"]

    def run(self, root: Path, *args: str) -> tuple[float, int, int, int]:
        """``mdsync ARGS``: wall seconds, peak RSS in KiB, and the requests and writes it sent."""
        self.reset()
        wall, peak = run_measured(root, *args)
        return (wall, peak, *self.read())


def change_one_file(root: Path) -> None:
    changed = root / "docs" / "area-003" / "page-005.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")


def speed(pages: int, latency: float) -> None:
    faults = Faults(latency_ms=latency)
    with tempfile.TemporaryDirectory() as folder, BackgroundServer(create_sandbox(faults=faults)) as server:
        root = Path(folder)
        write_tree(root / "docs", pages)
        write_config(root, server.url)
        counter = Counter(server.url)

        wall, _, requests, writes = counter.run(root, "push")
        target = 1.5 * pages * latency / 1000 / 8
        print(f"first push, {pages} pages, {latency:g} ms latency: {wall:.2f} s "
              f"(target {target:.2f} s) — {requests} requests, {writes} writes")

        wall, _, requests, writes = counter.run(root, "sync")
        print(f"no-op sync: {wall:.2f} s — {requests} requests (target {math.ceil(pages / 250) + 3}), "
              f"{writes} writes (target 0)")

        change_one_file(root)
        wall, _, requests, writes = counter.run(root, "push")
        print(f"one-file change pushed: {wall:.2f} s — {requests} requests, {writes} writes")


def memory(pages: int) -> None:
    with tempfile.TemporaryDirectory() as folder, BackgroundServer(create_sandbox()) as server:
        root = Path(folder)
        write_tree(root / "docs", pages)
        write_config(root, server.url)
        wall, peak = run_measured(root, "push")
        print(f"first push, {pages} pages, no latency: {wall:.1f} s, peak memory {peak / 1024:.0f} MiB")
        wall, peak = run_measured(root, "sync")
        print(f"no-op sync, {pages} pages: {wall:.1f} s, peak memory {peak / 1024:.0f} MiB")


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    """``mdsync sandbox serve`` in a process of its own, so its work is not counted as mdsync's."""
    with sandbox_server() as (url, _):
        yield url


def cpu_seconds(pid: int) -> float | None:
    """A running process's CPU seconds so far (user + system), where /proc tells (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def sandbox_server() -> Iterator[tuple[str, int]]:
    """``sandbox_process``, with the server's process id."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "mdsync", "sandbox", "serve", "--port", str(port)],
                              env=mdsync_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/_edge/tenant_info", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def planner_seconds(root: Path) -> float:
    """The time a no-op sync spends in the planner, from a profiled run of it."""
    with tempfile.TemporaryDirectory() as folder:
        profile = Path(folder) / "sync.prof"
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "mdsync", "sync", "--json"],
                       cwd=root, env=mdsync_env(), check=True, stdout=subprocess.DEVNULL)
        stats = pstats.Stats(str(profile))
        return max(entry[3] for key, entry in stats.stats.items()  # type: ignore[attr-defined]
                   if key[0].endswith(os.path.join("sync", "plan.py")) and key[2] == "plan")


def scale(pages: int) -> None:
    """First push, no-op sync and a one-file change of ``pages`` pages, the sandbox in another process."""
    with tempfile.TemporaryDirectory() as folder, sandbox_server() as (url, server):
        root = Path(folder)
        write_tree(root / "docs", pages)
        write_config(root, url)
        counter = Counter(url)
        counter.reset()
        served_before = cpu_seconds(server)
        wall, peak, cpu = run_measured_cpu(root, "push")
        served = cpu_seconds(server)
        requests, writes = counter.read()
        # Both on the same cores: the sandbox's share is CPU mdsync's processes could not have.
        known = served is not None and served_before is not None
        sandbox_cpu = f", sandbox {served - served_before:.1f} s" if known else ""  # type: ignore[operator]
        print(f"{pages} pages: first push {wall:.1f} s, {requests} requests, {writes} writes, "
              f"peak memory {peak / 1024:.0f} MiB; CPU: mdsync {cpu:.1f} s{sandbox_cpu}")
        wall, peak, requests, writes = counter.run(root, "sync")
        print(f"{pages} pages: no-op sync {wall:.2f} s, {requests} requests (target {math.ceil(pages / 250) + 3}), "
              f"{writes} writes, peak memory {peak / 1024:.0f} MiB; planner {planner_seconds(root):.2f} s (profiled)")
        change_one_file(root)
        wall, _, requests, writes = counter.run(root, "push")
        print(f"{pages} pages: one-file change pushed {wall:.2f} s, {requests} requests, {writes} writes")


def host_speed() -> float:
    """The best of three timings of a fixed loop of plain Python: this VM's speed drifts by a
    third within a day, and a figure means little without it."""
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for step in range(5_000_000):
            total += step
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--latency", type=float, default=50.0)
    parser.add_argument("--big", type=int, default=5000, help="pages for the memory run (0 skips it)")
    parser.add_argument("--scale", type=int, nargs="*", default=[], metavar="PAGES",
                        help="also run the scale run at these sizes (e.g. --scale 1000 10000 20000)")
    parser.add_argument("--only-scale", action="store_true", help="skip the latency and memory runs")
    options = parser.parse_args()
    print(f"host speed: a 5,000,000-step Python loop takes {host_speed():.2f} s (figures scale with it)")
    if not options.only_scale:
        speed(options.pages, options.latency)
        if options.big:
            memory(options.big)
    for pages in options.scale:
        scale(pages)


if __name__ == "__main__":
    main()
