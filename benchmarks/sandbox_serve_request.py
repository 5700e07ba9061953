"""Per-request cost of `mdsync sandbox serve` (the CLI server other clients use) at no latency.

Starts the real `mdsync sandbox serve` on a free port, then sends one GET of a page with its
body REQUESTS times over one keep-alive connection, one at a time, and prints the median and
p95. Before `serve` named TCP on its listener, each answer waited ~40 ms for a delayed ACK.

    .venv/bin/python benchmarks/sandbox_serve_request.py [--requests 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from sync_benchmark import sandbox_process  # the same `mdsync sandbox serve` process, on a free port

from mdsync.sandbox.app import DEFAULT_EMAIL, DEFAULT_TOKEN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    with sandbox_process() as url:
        with httpx.Client(base_url=url, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN)) as client:
            home = client.get("/wiki/api/v2/spaces", params={"keys": "DOCS"}).json()["results"][0]["homepageId"]
            path, params = f"/wiki/api/v2/pages/{home}", {"body-format": "storage"}
            for _ in range(50):  # warm up: imports, the connection
                client.get(path, params=params).raise_for_status()
            samples = []
            for _ in range(args.requests):
                start = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        print(f"GET /wiki/api/v2/pages/{{id}} (body-format=storage): median {statistics.median(samples):.2f} ms, "
              f"p95 {samples[int(len(samples) * 0.95)]:.2f} ms over {len(samples)} keep-alive requests")


if __name__ == "__main__":
    main()
