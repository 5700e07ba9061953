"""From a file's save to the new version readable in Confluence, under `mdsync watch`.

Pushes a small tree, starts the real `mdsync watch --json --poll 0` against a sandbox on
loopback, then saves one file SAVES times (a pause between saves) and, for each, polls
the page every 10 ms until the new version is readable. Prints p50, p95 and the worst.

    .venv/bin/python benchmarks/watch_latency.py [--saves 50] [--debounce 0.3] [--pages 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN, create_sandbox
from mdsync.sandbox.server import BackgroundServer

MDSYNC = [sys.executable, "-m", "mdsync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--debounce", type=float, default=0.3)
    parser.add_argument("--pages", type=int, default=20)
    options = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MDSYNC_", "CONFLUENCE_"))}
    with tempfile.TemporaryDirectory() as folder, BackgroundServer(create_sandbox()) as server:
        root = Path(folder)
        docs = root / "docs"
        docs.mkdir()
        for number in range(options.pages):
            (docs / f"page-{number:02d}.md").write_text(f"# Page {number}\n\nText {number}.\n", encoding="utf-8")
        (root / "mdsync.yaml").write_text(
            f"confluence:\n  url: {server.url}\n  auth: token\n  email: {DEFAULT_EMAIL}\n  token: {DEFAULT_TOKEN}\n"
            "space: DOCS\ndocs: docs\n", encoding="utf-8")
        subprocess.run([*MDSYNC, "push", "--json"], cwd=root, env=env, check=True, capture_output=True)
        state = json.loads((root / ".mdsync" / "state.json").read_text(encoding="utf-8"))
        page_id = state["files"]["page-00.md"]["page_id"]

        watcher = subprocess.Popen([*MDSYNC, "watch", "--json", "--poll", "0", "--debounce", str(options.debounce)],
                                   cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started = threading.Event()

        def read() -> None:
            assert watcher.stdout is not None
            for line in watcher.stdout:
                event = json.loads(line)
                if event["event"] == "synced" and event["trigger"] == "start":
                    started.set()

        threading.Thread(target=read, daemon=True).start()
        if not started.wait(30):
            raise SystemExit("mdsync watch did not start")
        samples: list[float] = []
        try:
            with httpx.Client(base_url=server.url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN), timeout=10) as api:
                for save in range(options.saves):
                    marker = f"Save number {save} of the benchmark."
                    start = time.perf_counter()
                    (docs / "page-00.md").write_text(f"# Page 0\n\n{marker}\n", encoding="utf-8")
                    while True:
                        body = api.get(f"/wiki/api/v2/pages/{page_id}", params={"body-format": "storage"}).json()
                        if marker in body["body"]["storage"]["value"]:
                            break
                        if time.perf_counter() - start > 30:
                            raise SystemExit(f"save {save} never reached Confluence")
                        time.sleep(0.01)
                    samples.append(time.perf_counter() - start)
                    time.sleep(0.2)
        finally:
            watcher.terminate()
            watcher.wait(30)
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"save -> readable in Confluence, {len(samples)} saves, debounce {options.debounce:g} s: "
          f"p50 {statistics.median(samples) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"worst {ordered[-1] * 1000:.0f} ms (target p95 < 1000 ms)")


if __name__ == "__main__":
    main()
